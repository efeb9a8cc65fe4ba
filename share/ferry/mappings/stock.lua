-- stock.lua - the default mapping of the "stock" flow: the quantity Magento
-- can still sell of a SKU becomes the stock balance of the Visma eAccounting
-- article with that number.
--
-- Copy this file next to your flow and point the flow at it
-- (ferry flow set stock --mapping /path/to/stock.lua) to change what is
-- sent.  It runs once per SKU and run (stock is read in full every run),
-- sandboxed; see doc/mapping-guide.md and doc/flows.md.
--
-- In:  `item`, ferry's canonical stock record as magento2.so reads it
--      (share/ferry/schema/stock.schema.json): sku, qty (on hand), salable_qty
--      (on hand minus the reservations of open orders, and minus the
--      out-of-stock threshold; legacy stock_mode knows no reservations and
--      says qty), reserved, is_in_stock, manage_stock, mode, native.
-- Out: a canonical product carrying only its number and stock.qty, which
--      eaccounting.so writes as the article's StockBalance.  The engine
--      writes it only when the quantity changed since the last run, and only
--      to articles that exist (create_missing).  With eAccounting's Stock
--      module on, eAccounting keeps the balance itself and every SKU is
--      dead-lettered saying so.
--
-- Settings (ferry flow show stock): quantity (salable or qty),
-- create_missing.

local function blank(v)
  return v == nil or v == ferry.null or (type(v) == "string" and ferry.str.trim(v) == "")
end

function map(item, ctx)
  local sku = item.sku or item.key
  if item.manage_stock == false then
    ferry.skip(sku .. ": the shop does not manage its stock")
  end
  local which = ferry.setting("quantity", "salable")
  local qty = which == "qty" and item.qty or item.salable_qty
  if blank(qty) then
    ferry.skip(sku .. ": Magento reports no " .. (which == "qty" and "quantity" or "salable quantity"))
  end
  return {
    key = sku,
    number = sku,
    stock = { qty = qty },
  }
end
