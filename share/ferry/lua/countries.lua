-- countries.lua - ISO 3166-1 alpha-2 country codes and EU membership, for
-- VAT decisions in mappings:  local countries = require "countries"
--
--   countries.known("SE")   -> true
--   countries.is_eu("DE")   -> true   (EU VAT area; Northern Ireland goods: "XI")
--   countries.name("NO")    -> "Norway"

local M = {}

-- The EU member states (VAT area) as of 2026, with Greece as both GR and EL.
local eu = {
  AT = "Austria", BE = "Belgium", BG = "Bulgaria", HR = "Croatia", CY = "Cyprus", CZ = "Czechia",
  DK = "Denmark", EE = "Estonia", FI = "Finland", FR = "France", DE = "Germany", GR = "Greece",
  EL = "Greece", HU = "Hungary", IE = "Ireland", IT = "Italy", LV = "Latvia", LT = "Lithuania",
  LU = "Luxembourg", MT = "Malta", NL = "Netherlands", PL = "Poland", PT = "Portugal", RO = "Romania",
  SK = "Slovakia", SI = "Slovenia", ES = "Spain", SE = "Sweden", XI = "Northern Ireland",
}

-- Other countries a shop commonly ships to (not exhaustive: add what you need in your copy).
local other = {
  NO = "Norway", IS = "Iceland", LI = "Liechtenstein", CH = "Switzerland", GB = "United Kingdom",
  US = "United States", CA = "Canada", AU = "Australia", NZ = "New Zealand", JP = "Japan",
  CN = "China", HK = "Hong Kong", SG = "Singapore", KR = "South Korea", IN = "India",
  AE = "United Arab Emirates", SA = "Saudi Arabia", IL = "Israel", TR = "Turkey", UA = "Ukraine",
  RS = "Serbia", BA = "Bosnia and Herzegovina", ME = "Montenegro", MK = "North Macedonia",
  AL = "Albania", MD = "Moldova", GE = "Georgia", AM = "Armenia", AD = "Andorra", MC = "Monaco",
  SM = "San Marino", VA = "Vatican City", FO = "Faroe Islands", GL = "Greenland", GI = "Gibraltar",
  BR = "Brazil", MX = "Mexico", AR = "Argentina", CL = "Chile", ZA = "South Africa", EG = "Egypt",
  MA = "Morocco", TH = "Thailand", MY = "Malaysia", ID = "Indonesia", PH = "Philippines", VN = "Vietnam",
  TW = "Taiwan",
}

function M.is_eu(code)
  return code ~= nil and eu[code] ~= nil
end

function M.known(code)
  return code ~= nil and (eu[code] ~= nil or other[code] ~= nil)
end

function M.name(code)
  return eu[code] or other[code]
end

return M
