-- orders_basic.lua - a small mapping for the mapping-test example suite:
-- a Magento-style canonical order becomes one sales document.
--
-- Run its tests with:  ferry map test --suite tests/mappings
-- Try it on one record: ferry map test tests/mappings/orders_basic.lua \
--     --input tests/mappings/records/paid_order.json --settings tests/mappings/records/settings.json

local util = require "ferry_util"

function map(order, ctx)
  if order.status == "canceled" then
    ferry.skip("order " .. order.number .. " is canceled")
  end
  if #order.lines == 0 then
    ferry.fail("order " .. order.number .. " has no lines")
  end

  local street, number = ferry.str.street(order.billing.street[1])
  local rows = ferry.array{}
  for i, line in ipairs(order.lines) do
    rows[i] = {
      article = line.sku,
      quantity = line.qty,
      unit_price = ferry.round(line.unit_price_excl, 2),
      text = ferry.str.truncate(line.name, 20, "…"),
    }
  end

  local customer = order.customer
  return {
    number = order.number,
    customer_name = util.coalesce(order.billing.company, customer.first_name .. " " .. customer.last_name),
    address = {
      street = street,
      house_number = number,
      postcode = order.billing.postcode,
      city = order.billing.city,
      country = order.billing.country,
    },
    terms_of_payment = ferry.map("payment_terms", order.payment.method),
    currency = ferry.setting("currency", "SEK"),
    date = ferry.date.to_date(order.created_at),
    rows = rows,
    total = ferry.decimal.sum(order.lines, "row_total_incl"),
    note = ferry.null,
  }
end
