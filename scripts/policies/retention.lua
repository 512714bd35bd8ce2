-- The bundled retention policy for the default CRM schema.
--
-- Rules are read in order, and for each entity the first rule that
-- selects a record decides what happens to it.

policy {
  name = "default retention",
  model = "crm",
}

local person = entity "person"
local company = entity "company"

-- Prospects registered over three years ago, with no activity in three
-- years and no e-marketing consent, have given no reason to keep them.
local stale_prospects = person:where {
  { "category", "=", "Prospect" },
  { "registered", "older than", 3, "years" },
  { "activities", "none", { "activeDate", "newer than", 3, "years" } },
  { "consents", "none",
    { "purpose", "=", "EMARKETING" },
    { "legal_basis", "<>", "WITHDRAWN" } },
}

rule "delete stale prospects" {
  select = stale_prospects,
  action = delete(),
  reason = "prospect without contact or e-marketing consent for 3 years",
}

-- Lost customers are kept for five years after the last activity or sale,
-- then the company goes with its persons.
local lost_customers = company:where {
  { "category", "=", "Lost customer" },
  { "registered", "older than", 5, "years" },
  { "activities", "none", { "activeDate", "newer than", 5, "years" } },
  { "sales", "none", { "saledate", "newer than", 5, "years" } },
}

rule "delete lost customers" {
  select = lost_customers,
  action = delete(),
  reason = "lost customer without activity or sale for 5 years",
}

-- Whoever withdrew e-marketing consent must not receive e-marketing.
local withdrawn = person:where {
  { "consents", "any",
    { "purpose", "=", "EMARKETING" },
    { "legal_basis", "=", "WITHDRAWN" } },
}

rule "block e-marketing after withdrawal" {
  select = withdrawn,
  action = update { blockEmarketing = true },
  reason = "e-marketing consent withdrawn",
}

-- Everyone else stays.
rule "keep everyone else" {
  select = person:all(),
  action = keep(),
}
