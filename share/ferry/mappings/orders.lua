-- orders.lua - the default mapping of the "orders" flow: a Magento order
-- becomes one sales document in Visma eAccounting.
--
-- Copy this file next to your flow and point the flow at it
-- (ferry flow set orders --mapping /path/to/orders.lua) to change what is
-- sent.  It runs once per order, sandboxed; see doc/mapping-guide.md.
--
-- In:  `order`, ferry's canonical order (share/ferry/schema/order.schema.json),
--      with Magento's own JSON under order.source.
-- Out: one document (share/ferry/schema/document.schema.json).  The engine
--      then finds or creates the customer, checks the articles, creates the
--      document, compares totals and writes a comment back to Magento.
--
-- Settings (ferry flow show orders): document_type, customer_policy,
-- default_customer_number, shipping_article, discount_article, custom_fields,
-- home_country.
-- Value maps (ferry flow set orders --map MAP:FROM=TO):
--   payment_terms     Magento payment method   -> eAccounting terms of payment
--                     (its name, number of days, or id).  Required: an order
--                     paid with an unmapped method is dead-lettered.  A "*"
--                     entry maps every other method.
--   delivery_methods  Magento shipping method  -> eAccounting delivery method
--                     (code or name).  Optional.
--   vat               country -> domestic | eu_reverse_charge | eu_oss | export
--                     Optional: the default follows the EU rules below.
--   discount_articles VAT rate -> discount article, when discount_article is
--                     set and discounted lines have different VAT rates: one
--                     article per rate.  An order whose discount would put two
--                     rates on one article is dead-lettered (nothing is sent).
--   revenue_accounts  VAT handling or country -> the revenue account the books
--                     must use; eAccounting picks the account from the
--                     article's coding, and ferry checks it is this one.

local countries = require "countries"
local d = ferry.decimal

-- The company's home country: domestic sales.
local HOME = ferry.setting("home_country", "SE")

local function blank(v)
  return v == nil or v == ferry.null or v == ""
end

-- How VAT applies to this order: the "vat" value map wins, else EU rules.
local function vat_handling(country, is_company, vat_id)
  local mapped = ferry.map("vat", country, nil)
  if mapped ~= nil then
    return mapped
  end
  if country == HOME then
    return "domestic"
  elseif countries.is_eu(country) then
    -- A company with a VAT number buys without VAT (reverse charge); everyone
    -- else pays the destination country's VAT through OSS.
    if is_company and not blank(vat_id) then
      return "eu_reverse_charge"
    end
    return "eu_oss"
  end
  return "export"
end

-- The buyer as an eAccounting customer: a company with the buyer as contact
-- person when the order has a company name, otherwise a private person.
local function buyer(order, address, handling, currency)
  local company = address.company
  if blank(company) and order.customer then
    company = order.customer.company
  end
  local is_company = not blank(company)
  local first = address.first_name or (order.customer and order.customer.first_name) or ""
  local last = address.last_name or (order.customer and order.customer.last_name) or ""
  local person = ferry.str.trim(first .. " " .. last)
  local c = {
    key = ferry.str.lower(order.email),
    email = order.email,
    is_company = is_company,
    name = ferry.str.truncate(is_company and company or person, 50),
    phone = address.phone,
    currency = currency,
    invoice_address = {
      street = address.street,
      postcode = address.postcode,
      city = address.city,
      country = address.country,
    },
  }
  if is_company then
    c.contact_person = { first_name = first, last_name = last, email = order.email, phone = address.phone }
    -- Reverse charge needs the VAT number; without it the sale is taxed (OSS).
    if handling == "eu_reverse_charge" then
      c.vat_number = address.vat_id or (order.customer and order.customer.vat_id)
    end
  end
  -- Terms of payment go on each document (they follow the payment method);
  -- the customer keeps the terms it has in eAccounting.
  return c
end

-- discount_amount as a fraction of the row total (what eAccounting's
-- DiscountPercentage means: 0.1 = 10 %), 4 decimals.
local function discount_fraction(line, incl)
  local discount = line.discount_amount
  if blank(discount) or d.cmp(discount, "0") == 0 then
    return nil
  end
  local total = incl and line.row_total_incl or line.row_total_excl
  if blank(total) or d.cmp(total, "0") == 0 then
    return nil
  end
  -- Magento's discount is on the tax-inclusive price when discount_incl_tax says so.
  local base = total
  if line.discount_incl_tax ~= nil and line.discount_incl_tax ~= incl then
    base = line.discount_incl_tax and line.row_total_incl or line.row_total_excl
  end
  return d.round(d.div(discount, base, 8), 4)
end

function map(order, ctx)
  -- The document says whether its prices include VAT; eaccounting.so sends
  -- the one eAccounting expects for the customer (private: incl., company:
  -- excl.), so both are given on every row.
  local incl = order.prices_include_tax == true
  local address = order.billing or {}
  local country = address.country
  if blank(country) then
    ferry.fail("the order has no billing country")
  end
  if not countries.known(country) then
    ferry.fail("unknown country '" .. tostring(country) .. "' in the billing address")
  end
  local company = address.company
  if blank(company) and order.customer then company = order.customer.company end
  local handling = vat_handling(country, not blank(company), address.vat_id or (order.customer and order.customer.vat_id))

  local doc = {
    key = order.key,
    external_reference = order.number,
    type = ferry.setting("document_type", "invoice_draft"),
    date = ferry.date.to_date(ferry.date.parse(order.created_at)),
    currency = order.currency,
    prices_include_vat = incl,
    your_reference = ferry.str.truncate(ferry.str.trim(
      (address.first_name or "") .. " " .. (address.last_name or "")), 50),
    our_reference = "Webshop order " .. order.number,
    vat_handling = handling,
    rows = {},
    expect = { total = order.totals.grand_total, vat = order.totals.tax },
    target_fields = ferry.setting("custom_fields", nil) or ferry.object {},
  }

  -- The customer: one per buyer (by e-mail), or the default debtor.
  local policy = ferry.setting("customer_policy", "per_buyer")
  if policy == "default_debtor" or (policy == "default_for_guests" and order.is_guest) then
    local number = ferry.setting("default_customer_number", nil)
    if blank(number) then
      ferry.fail("customer_policy " .. policy .. " needs the default_customer_number setting")
    end
    doc.customer_number = number
  else
    doc.customer = buyer(order, address, handling, order.currency)
  end

  -- Terms of payment from the payment method (an unmapped method is an error
  -- naming the map and the method: add it with --map payment_terms:METHOD=...).
  local method = order.payment and order.payment.method
  doc.terms_of_payment = ferry.map("payment_terms", method)

  if order.shipping and not blank(order.shipping.method) then
    local delivery = ferry.map("delivery_methods", order.shipping.method, nil)
    if delivery ~= nil then doc.delivery_method = delivery end
    if order.shipping.address then
      local a = order.shipping.address
      doc.delivery_address = {
        name = ferry.str.trim((a.company and a.company ~= "" and a.company) or
                              ((a.first_name or "") .. " " .. (a.last_name or ""))),
        street = a.street, postcode = a.postcode, city = a.city, country = a.country,
      }
    end
  end

  -- Articles to create when missing (article_policy create).  On a domestic
  -- sale the line's VAT rate is the company's own, so it picks the article's
  -- VAT coding; elsewhere it is the buyer's rate (or 0) and the target's
  -- default coding applies.
  local missing = {}
  local function creatable(sku, name, vat_rate, net_price, is_service)
    if handling == "domestic" and not blank(sku) and not blank(vat_rate) then
      table.insert(missing, {
        key = sku, number = sku, name = ferry.str.truncate(name or sku, 50), active = true,
        vat_rate = vat_rate, net_price = net_price, is_service = is_service,
      })
    end
  end

  -- One row per order line (configurable and bundle lines come already
  -- resolved by magento2.so: child SKU at the parent's price).
  for _, line in ipairs(order.lines) do
    table.insert(doc.rows, {
      kind = "line",
      article_number = line.sku,
      text = ferry.str.truncate(line.name or line.sku, 2000),
      quantity = line.qty,
      unit_price = incl and line.unit_price_incl or line.unit_price_excl,
      unit_price_incl = line.unit_price_incl,
      unit_price_excl = line.unit_price_excl,
      discount_percentage = discount_fraction(line, incl),
      vat_rate = line.tax_rate,
    })
    creatable(line.sku, line.name, line.tax_rate, line.unit_price_excl, line.is_virtual == true)
  end

  -- Shipping, on the shipping article, after its own discount.
  local ship = order.shipping
  if ship and not blank(ship.amount_incl) and d.cmp(ship.amount_incl, "0") ~= 0 then
    local article = ferry.setting("shipping_article", nil)
    if blank(article) then
      ferry.fail("the order has shipping but the flow has no shipping_article setting")
    end
    local ship_incl, ship_excl = ship.amount_incl, ship.amount_excl
    if not blank(ship.discount) and d.cmp(ship.discount, "0") ~= 0 then
      -- Magento keeps the shipping discount in the order's discount; take it off here.
      local rate = blank(ship.tax_rate) and "0" or ship.tax_rate
      ship_incl = d.sub(ship_incl, ship.discount)
      ship_excl = d.round(d.div(ship_incl, d.add("1", d.div(rate, "100", 6)), 6), 4)
    end
    table.insert(doc.rows, {
      kind = "shipping",
      article_number = article,
      text = ferry.str.truncate(ship.description or "Shipping", 2000),
      quantity = "1",
      unit_price = incl and ship_incl or ship_excl,
      unit_price_incl = ship_incl,
      unit_price_excl = ship_excl,
      vat_rate = ship.tax_rate,
    })
    creatable(article, ship.description or "Shipping", ship.tax_rate, nil, nil)
  end

  -- With a discount article, line discounts become negative rows on it, one
  -- per VAT rate (map "discount_articles": rate -> article when rates differ;
  -- a rate without an entry goes on discount_article).
  local discount_article = ferry.setting("discount_article", nil)
  if not blank(discount_article) then
    local by_rate, rates = {}, {}
    for _, row in ipairs(doc.rows) do
      if row.kind == "line" and row.discount_percentage ~= nil then
        local gross = d.mul(d.mul(row.unit_price, row.quantity), row.discount_percentage)
        local rate = blank(row.vat_rate) and "0" or row.vat_rate
        if by_rate[rate] == nil then table.insert(rates, rate); by_rate[rate] = "0" end
        by_rate[rate] = d.add(by_rate[rate], d.round(gross, 2))
        row.discount_percentage = nil
      end
    end
    -- An article has one VAT coding, so one article cannot carry the discount
    -- of two rates: eAccounting would book both at the article's rate and the
    -- document would come out wrong.  Refuse the order before anything is sent.
    local article_of, rates_of, shared = {}, {}, {}
    for _, rate in ipairs(rates) do
      local article = ferry.map("discount_articles", rate, discount_article)
      article_of[rate] = article
      if rates_of[article] == nil then
        rates_of[article] = {}
      elseif #rates_of[article] == 1 then
        table.insert(shared, article)
      end
      table.insert(rates_of[article], rate)
    end
    if #shared > 0 then
      local unmapped = {}
      for _, rate in ipairs(rates) do
        if ferry.map("discount_articles", rate, nil) == nil then
          table.insert(unmapped, rate)
        end
      end
      local article = shared[1]
      ferry.fail("the discount spans VAT rates " .. table.concat(rates_of[article], " %, ") ..
        " % but they would all go on the one discount article " .. tostring(article) ..
        ", which has one VAT rate: set the discount_articles value map, one article per VAT rate (" ..
        (#unmapped > 0 and ("no entry for " .. table.concat(unmapped, ", ") .. "; ") or "") ..
        "ferry flow set " .. tostring(ctx and ctx.flow or "orders") .. " --map discount_articles:RATE=ARTICLE)")
    end
    for _, rate in ipairs(rates) do
      table.insert(doc.rows, {
        kind = "discount", article_number = article_of[rate], text = "Discount (" .. rate .. " % VAT)",
        quantity = "1", unit_price = d.sub("0", by_rate[rate]), vat_rate = rate,
      })
    end
  end

  -- Name the discounts on a text row.
  for _, discount in ipairs(order.discounts or {}) do
    if not blank(discount.description) or not blank(discount.code) then
      table.insert(doc.rows, {
        kind = "text", is_text_row = true,
        text = ferry.str.truncate("Discount: " .. (discount.description or discount.code), 2000),
      })
    end
  end

  if #missing > 0 then
    doc.create_missing_articles = missing
  end

  -- The revenue account the books must use, per VAT handling (or country),
  -- optionally per Swedish VAT rate of the article's coding ("domestic:12").
  -- eaccounting.so refuses the document when an article's coding would book
  -- it elsewhere.
  local revenue = ferry.map("revenue_accounts", handling, nil) or ferry.map("revenue_accounts", country, nil)
  if revenue ~= nil then
    doc.expect.revenue_account = revenue
  end
  for _, rate in ipairs({ "25", "12", "6", "0" }) do
    local by_rate = ferry.map("revenue_accounts", handling .. ":" .. rate, nil)
    if by_rate ~= nil then
      doc.expect.revenue_accounts = doc.expect.revenue_accounts or ferry.object {}
      doc.expect.revenue_accounts[rate] = by_rate
    end
  end
  return doc
end
