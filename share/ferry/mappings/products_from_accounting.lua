-- products_from_accounting.lua - the default mapping of a "products" flow
-- from the books to the shop (source books:article, target shop:product): a
-- Visma eAccounting article becomes a Magento product (SKU = article number).
--
-- Copy this file next to your flow and point the flow at it
-- (ferry flow set FLOW --mapping /path/to/products_from_accounting.lua) to
-- change what is sent.  It runs once per article, sandboxed; see
-- doc/mapping-guide.md and doc/flows.md.
--
-- In:  `article`, ferry's canonical product as eaccounting.so reads it
--      (share/ferry/schema/product.schema.json): number, name, active, type
--      (virtual for service codings), net_price, gross_price, vat_rate, unit,
--      ean, stock.qty, with eAccounting's own JSON under article.source.
-- Out: one canonical product for magento2.so.  The engine finds the product
--      by SKU (the `key`); magento2.so creates it (a simple or virtual
--      product, visible, on the connection's websites) or updates it.
--
-- eAccounting owns the name, the price, the EAN and whether the product is
-- enabled.  The shop owns everything else: the description, URL key,
-- category and first stock level below are written only when ferry creates
-- the product (`create_only`, honoured by magento2.so), so what the shop's
-- staff change there is never overwritten.
--
-- The filter: articles are skipped, with the reason, when their number does
-- not start with number_prefix, when they are inactive and skip_inactive is
-- true (otherwise an inactive article disables its product), and when their
-- type (simple; virtual for a service coding) is not in the flow's types.
--
-- Settings (ferry flow show FLOW): number_prefix, skip_inactive, types,
-- prices_include_tax (write the gross price: the catalogue's prices include
-- VAT), category (a category path for new products), custom_fields (extra
-- product attributes: code -> value), create_fields, update_fields.
-- Value maps (ferry flow set FLOW --map MAP:FROM=TO):
--   tax_class_ids  VAT percent -> Magento tax class id.  Optional: 25 is
--                  class 2 ("Taxable Goods"); a rate without an entry leaves
--                  the product's tax class alone (Magento's default on create).

local PREFIX = ferry.setting("number_prefix", nil)
local SKIP_INACTIVE = ferry.setting("skip_inactive", false)
local INCL = ferry.setting("prices_include_tax", false)

local DEFAULT_TAX_CLASSES = { ["25"] = "2" }

local function blank(v)
  return v == nil or v == ferry.null or (type(v) == "string" and ferry.str.trim(v) == "")
end

-- A URL key from the article number: lower case, letters and digits, dashes.
local function url_key(number)
  local key = ferry.str.lower(number):gsub("[^%w]+", "-"):gsub("^-+", ""):gsub("-+$", "")
  return key ~= "" and key or nil
end

local function listed(list, value)
  for _, v in ipairs(list or {}) do
    if v == value then
      return true
    end
  end
  return false
end

-- The filter: nil when the article goes to the shop, else why not.
local function filtered(article)
  local types = ferry.setting("types", nil)
  if types ~= nil and not listed(types, article.type) then
    return "article " .. article.number .. " is a " .. tostring(article.type) .. " product, not in the flow's types"
  end
  if not blank(PREFIX) and not ferry.str.starts_with(article.number, PREFIX) then
    return "article " .. article.number .. " does not start with number_prefix " .. PREFIX
  end
  if SKIP_INACTIVE and article.active == false then
    return "article " .. article.number .. " is inactive in eAccounting (skip_inactive)"
  end
  return nil
end

function map(article, ctx)
  if blank(article.number) then
    ferry.fail("article " .. tostring(article.key) .. " has no number")
  end
  local why = filtered(article)
  if why ~= nil then
    ferry.skip(why)
  end
  local price = INCL and article.gross_price or article.net_price
  if blank(price) then
    price = article.price
  end

  local product = {
    key = article.number,
    sku = article.number,
    name = blank(article.name) and article.number or article.name,
    type = article.type == "virtual" and "virtual" or "simple",
    active = article.active ~= false,
    attributes = {
      description = blank(article.name) and article.number or article.name,
      url_key = url_key(article.number),
    },
    create_only = ferry.array { "attributes.description", "attributes.url_key", "categories", "stock" },
  }
  if not blank(price) then
    product.price = price
  end
  if not blank(article.ean) then
    product.ean = article.ean
  end
  if not blank(article.vat_rate) then
    local class = ferry.map("tax_class_ids", article.vat_rate, nil) or DEFAULT_TAX_CLASSES[article.vat_rate]
    if class ~= nil then
      product.tax_class = class
    end
  end
  local category = ferry.setting("category", nil)
  if not blank(category) then
    product.categories = ferry.array { category }
  end
  -- A new product starts with the article's stock balance; later levels are
  -- the shop's (or a stock flow's).
  if article.stock ~= nil and article.stock ~= ferry.null and not blank(article.stock.qty) then
    product.stock = { qty = article.stock.qty }
  end
  -- custom_fields are product attributes here (attribute code -> value).
  for code, value in pairs(ferry.setting("custom_fields", nil) or {}) do
    product.attributes[code] = value
  end
  return product
end
