-- products.lua - the default mapping of the "products" flow from the shop to
-- the books: a Magento product becomes one Visma eAccounting article
-- (article number = SKU).
--
-- Copy this file next to your flow and point the flow at it
-- (ferry flow set products --mapping /path/to/products.lua) to change what
-- is sent.  It runs once per product, sandboxed; see doc/mapping-guide.md and
-- doc/flows.md.
--
-- In:  `product`, ferry's canonical product as magento2.so reads it
--      (share/ferry/schema/product.schema.json), with Magento's own JSON
--      under product.source.
-- Out: one canonical product for eaccounting.so (entity article).  The
--      engine finds the article by number (the `key`), creates it when there
--      is none and updates it when what this mapping says has changed;
--      create_fields are written only on create and, when update_fields is
--      set, an update writes only those.
--
-- What becomes an article: simple, virtual and downloadable products (a
-- configurable product's variants are simple products, so each variant is an
-- article) and fixed-price bundles (sold, and booked by the orders flow, at
-- the bundle's own SKU and price).  Configurable parents, grouped products
-- and dynamic-price bundles are containers: they are skipped with the reason,
-- their parts are the articles.
--
-- Settings (ferry flow show products): types, number_prefix, skip_inactive,
-- unit, prices_include_tax, custom_fields, create_fields, update_fields.
-- Value maps (ferry flow set products --map MAP:FROM=TO):
--   tax_classes  Magento tax class id -> Swedish VAT percent (25, 12, 6, 0),
--                which picks the article's account coding.  Class 2
--                (Magento's "Taxable Goods") is 25 and class 0 ("None") is 0
--                unless mapped; a product of another class without an entry
--                is dead-lettered (--map tax_classes:5=12).

local d = ferry.decimal

local PREFIX = ferry.setting("number_prefix", nil)
local SKIP_INACTIVE = ferry.setting("skip_inactive", false)
local INCL = ferry.setting("prices_include_tax", false)

-- Magento's own tax classes: 2 "Taxable Goods" (the standard rate), 0 "None".
local DEFAULT_RATES = { ["0"] = "0", ["2"] = "25" }

local function blank(v)
  return v == nil or v == ferry.null or (type(v) == "string" and ferry.str.trim(v) == "")
end

local function listed(list, value)
  for _, v in ipairs(list or {}) do
    if v == value then
      return true
    end
  end
  return false
end

-- The Swedish VAT percent of the product's tax class.
local function vat_rate(product, flow)
  local class = blank(product.tax_class) and "0" or tostring(product.tax_class)
  local rate = ferry.map("tax_classes", class, nil) or DEFAULT_RATES[class]
  if rate == nil then
    ferry.fail("tax class " .. class .. " of " .. product.sku .. " has no VAT rate: add it to the tax_classes "
      .. "value map (ferry flow set " .. (flow or "FLOW") .. " --map tax_classes:" .. class .. "=PERCENT, "
      .. "one of 25, 12, 6, 0), then ferry dead retry")
  end
  return rate
end

-- Why a product is not an article of its own, or nil when it is one.
local function container(product)
  local t = product.type
  if t == "configurable" then
    local children = product.children or {}
    return "configurable product " .. product.sku .. " is not an article: its " .. #children
      .. " variants are (" .. table.concat(children, ", ") .. ")"
  elseif t == "grouped" then
    return "grouped product " .. product.sku .. " is not an article: its associated products are"
  elseif t == "bundle" and product.bundle_price_type ~= "fixed" then
    return "dynamic-price bundle " .. product.sku .. " is not an article: its options' products are"
  end
  return nil
end

-- Net and gross price (2 decimals) from what the shop says, at `rate` percent.
local function prices(product, rate)
  local factor = d.add("100", rate)
  local net, gross = product.net_price, product.gross_price
  if blank(net) and blank(gross) and not blank(product.price) then
    if INCL then
      gross = product.price
    else
      net = product.price
    end
  end
  if not blank(net) then
    return d.round(net, 2), d.div(d.mul(net, factor), "100", 2)
  elseif not blank(gross) then
    return d.div(d.mul(gross, "100"), factor, 2), d.round(gross, 2)
  end
  return nil, nil
end

function map(product, ctx)
  local sku = product.sku or product.key
  local types = ferry.setting("types", nil)
  if types ~= nil and not listed(types, product.type) then
    ferry.skip("type " .. tostring(product.type) .. " of " .. sku .. " is not in the flow's types")
  end
  local why = container(product)
  if why ~= nil then
    ferry.skip(why)
  end
  if not blank(PREFIX) and not ferry.str.starts_with(sku, PREFIX) then
    ferry.skip("SKU " .. sku .. " does not start with number_prefix " .. PREFIX)
  end
  if SKIP_INACTIVE and product.active == false then
    ferry.skip(sku .. " is disabled in the shop (skip_inactive)")
  end
  if utf8.len(sku) > 40 then
    ferry.fail("SKU " .. sku .. " is longer than the 40 characters of an eAccounting article number")
  end

  local rate = vat_rate(product, ctx and ctx.flow)
  local net, gross = prices(product, rate)
  local article = {
    key = sku,
    number = sku,
    name = ferry.str.truncate(ferry.str.trim(blank(product.name) and sku or product.name), 50),
    type = product.type,
    vat_rate = rate,
    net_price = net,
    gross_price = gross,
    active = product.active ~= false,
    target_fields = ferry.setting("custom_fields", nil) or ferry.object {},
  }
  if not blank(product.ean) then
    article.ean = product.ean
  end
  local unit = ferry.setting("unit", nil)
  if not blank(unit) then
    article.unit = unit
  end
  return article
end
