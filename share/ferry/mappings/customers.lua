-- customers.lua - the default mapping of the "customers" flow: a Magento
-- customer becomes one Visma eAccounting customer, matched by e-mail address.
--
-- Copy this file next to your flow and point the flow at it
-- (ferry flow set customers --mapping /path/to/customers.lua) to change what
-- is sent.  It runs once per customer, sandboxed; see doc/mapping-guide.md and
-- doc/flows.md.
--
-- In:  `customer`, ferry's canonical customer as magento2.so reads it
--      (share/ferry/schema/customer.schema.json), with Magento's own JSON
--      under customer.source.
-- Out: one canonical customer for eaccounting.so.  Its `key` (the e-mail
--      address in lower case) is what the engine finds the eAccounting
--      customer by; it is created when there is none and updated when what
--      this mapping says has changed since the last run.
--
-- Settings (ferry flow show customers): home_country, home_currency,
-- default_currency, terms_of_payment, custom_fields.
-- Value maps (ferry flow set customers --map MAP:FROM=TO):
--   currencies   country -> currency of its customers (ISO 4217).  Optional:
--                home_country pays in home_currency, every other country in
--                default_currency.  Invoice drafts take the customer's
--                currency, so this must be the currency the shop sells in
--                to that country (--map currencies:NO=NOK).

local countries = require "countries"

local HOME = ferry.setting("home_country", "SE")
local HOME_CURRENCY = ferry.setting("home_currency", "SEK")
local DEFAULT_CURRENCY = ferry.setting("default_currency", "EUR")

local function blank(v)
  return v == nil or v == ferry.null or (type(v) == "string" and ferry.str.trim(v) == "")
end

-- A text cut to eAccounting's maximum length, or nil when blank.
local function text(v, max)
  if blank(v) then
    return nil
  end
  return ferry.str.truncate(ferry.str.trim(tostring(v)), max)
end

-- The currency the customer is invoiced in: the map, else home or default.
local function currency_of(country)
  local mapped = ferry.map("currencies", country, nil)
  if mapped ~= nil then
    return ferry.str.upper(mapped)
  end
  if country == HOME then
    return HOME_CURRENCY
  end
  return DEFAULT_CURRENCY
end

-- A VAT number as VIES writes it: no spaces, dots or dashes, upper case, with
-- the country prefix (Greece: EL) when the shop has only the digits.
local function vat_number(raw, country)
  if blank(raw) then
    return nil
  end
  local vat = ferry.str.upper((tostring(raw):gsub("[%s%.%-]", "")))
  if vat:match("^%d") then
    vat = (country == "GR" and "EL" or country) .. vat
  end
  return vat
end

-- A Swedish company's organisation number from its VAT number
-- (SE + 10 digits + 01 -> NNNNNN-NNNN).
local function organisation_number(vat, country)
  if country ~= "SE" or vat == nil then
    return nil
  end
  local digits = vat:match("^SE(%d%d%d%d%d%d%d%d%d%d)01$")
  if digits == nil then
    return nil
  end
  return digits:sub(1, 6) .. "-" .. digits:sub(7)
end

-- A postal address as eAccounting takes it: two street lines of at most 50
-- characters (the first line, then the others joined), no VAT id.
local function address(a, with_name)
  if a == nil or a == ferry.null then
    return nil
  end
  local street = ferry.array {}
  local lines = a.street or {}
  if not blank(lines[1]) then
    street[1] = text(lines[1], 50)
  end
  local rest = {}
  for i = 2, #lines do
    if not blank(lines[i]) then
      table.insert(rest, ferry.str.trim(lines[i]))
    end
  end
  if #rest > 0 then
    street[#street + 1] = text(table.concat(rest, ", "), 50)
  end
  local out = {
    street = street,
    postcode = text(a.postcode, 10),
    city = text(a.city, 50),
    country = a.country,
  }
  if with_name then
    out.name = text(a.company, 100) or text(ferry.str.trim((a.first_name or "") .. " " .. (a.last_name or "")), 100)
  end
  return out
end

function map(customer, ctx)
  if blank(customer.email) then
    ferry.fail("customer " .. customer.key .. " has no e-mail address")
  end
  local billing = customer.invoice_address
  if billing == ferry.null then
    billing = nil
  end
  if billing == nil or blank(billing.country) or blank(billing.city) or blank(billing.postcode) then
    -- eAccounting needs a postal address; a new account often has none yet.
    -- Adding one changes the customer, so it is read and sent again then.
    ferry.skip("customer " .. customer.email .. " has no default billing address with country, city and "
      .. "postcode yet (eAccounting needs one)")
  end
  local country = billing.country
  if not countries.known(country) then
    ferry.fail("unknown country '" .. tostring(country) .. "' in the billing address of " .. customer.email)
  end

  local person = ferry.str.trim((customer.first_name or "") .. " " .. (customer.last_name or ""))
  local company = billing and text(billing.company, 50)
  local phone = text(customer.phone, 50)
  local out = {
    key = ferry.str.lower(ferry.str.trim(customer.email)),
    email = ferry.str.trim(customer.email),
    is_company = company ~= nil,
    name = company or text(person, 50) or customer.email,
    phone = phone,
    currency = currency_of(country),
    country = country,
    invoice_address = address(billing, false),
    target_fields = ferry.setting("custom_fields", nil) or ferry.object {},
  }
  local delivery = customer.delivery_address
  if delivery ~= nil and delivery ~= ferry.null then
    out.delivery_address = address(delivery, true)
  end
  if company ~= nil then
    -- A company with the shop's customer as its contact person.
    out.contact_person = {
      first_name = customer.first_name,
      last_name = customer.last_name,
      email = out.email,
      phone = phone,
    }
    -- The VAT number only for companies inside the EU (VIES-checked by
    -- eAccounting; elsewhere it means nothing to an EU invoice).
    if countries.is_eu(country) then
      local vat = vat_number(customer.vat_number, country)
      if vat ~= nil then
        out.vat_number = text(vat, 20)
        out.organisation_number = organisation_number(vat, country)
      end
    end
  end
  local terms = ferry.setting("terms_of_payment", nil)
  if not blank(terms) then
    out.terms_of_payment = terms
  end
  return out
end
