-- Model of the default CRM schema that `lethe init` creates.
--
-- Links point from a child entity to its parent and carry the delete rule
-- the planner follows: cascade (the child goes with the parent), set_null
-- (the link is cleared) or restrict (the parent stays while the child
-- exists). The reverse of each link is how a criterion on the parent
-- reaches the children, as in { "activities", "none" }.

local function lookup(table_name, key, label)
  return { table = table_name, key = key, label = label }
end

local category = lookup("category", "category_id", "name")

return {
  name = "crm",
  entities = {
    company = {
      table = "contact", key = "contact_id", label = "name",
      fields = {
        name = { type = "text", personal = true },
        department = { type = "text" },
        orgnr = { type = "text" },
        category = { column = "category_idx", type = "lookup",
                     lookup = category },
        business = { column = "business_idx", type = "lookup",
                     lookup = lookup("business", "business_id", "name") },
        registered = { type = "date" },
        updated = { type = "date" },
        nomailing = { type = "boolean" },
      },
    },

    person = {
      table = "person", key = "person_id",
      label = { "firstname", "lastname" },
      fields = {
        firstname = { type = "text", personal = true },
        middlename = { type = "text", personal = true },
        lastname = { type = "text", personal = true },
        title = { type = "text" },
        birthyear = { type = "integer", personal = true },
        birthmonth = { type = "integer", personal = true },
        birthday = { type = "integer", personal = true },
        category = { column = "category_idx", type = "lookup",
                     lookup = category },
        registered = { type = "date" },
        updated = { type = "date" },
        nomailing = { type = "boolean" },
        blockEmarketing = { type = "boolean" },
      },
      links = {
        company = { entity = "company", column = "contact_id",
                    on_delete = "cascade", reverse = "persons" },
      },
    },

    user = {
      table = "associate", key = "associate_id", label = "name",
      fields = {
        name = { type = "text" },
        registered = { type = "date" },
      },
      links = {
        -- A person who is a CRM user is never deleted.
        person = { entity = "person", column = "person_id",
                   on_delete = "restrict", reverse = "users",
                   reason = "is a CRM user (associate)" },
      },
    },

    project = {
      table = "project", key = "project_id", label = "name",
      fields = {
        name = { type = "text" },
        status = { column = "status_idx", type = "integer" },
        done = { type = "boolean" },
        endDate = { type = "date" },
        registered = { type = "date" },
      },
    },

    sale = {
      table = "sale", key = "sale_id", label = "heading",
      fields = {
        heading = { type = "text" },
        saledate = { type = "date" },
        amount = { type = "number" },
        -- 1 open, 2 sold, 3 lost, 4 stalled
        status = { type = "integer" },
        registered = { type = "date" },
      },
      links = {
        company = { entity = "company", column = "contact_id",
                    on_delete = "cascade", reverse = "sales" },
        person = { entity = "person", column = "person_id",
                   on_delete = "set_null", reverse = "sales" },
        project = { entity = "project", column = "project_id",
                    on_delete = "set_null", reverse = "sales" },
      },
    },

    activity = {
      table = "appointment", key = "appointment_id", label = "description",
      fields = {
        -- 1 meeting, 2 call, 3 task, 4 e-mail, 5 document
        type = { type = "integer" },
        -- 1 not started, 2 started, 3 completed
        status = { type = "integer" },
        -- 1 incoming, 2 outgoing, empty when unknown
        direction = { type = "integer" },
        do_by = { type = "date" },
        activeDate = { type = "date" },
        description = { type = "text", personal = true },
        registered = { type = "date" },
      },
      links = {
        company = { entity = "company", column = "contact_id",
                    on_delete = "cascade", reverse = "activities" },
        person = { entity = "person", column = "person_id",
                   on_delete = "cascade", reverse = "activities" },
        project = { entity = "project", column = "project_id",
                    on_delete = "set_null", reverse = "activities" },
        sale = { entity = "sale", column = "sale_id",
                 on_delete = "set_null", reverse = "activities" },
      },
    },

    document = {
      table = "document", key = "document_id", label = "header",
      fields = {
        header = { type = "text", personal = true },
        body = { type = "text", personal = true },
        registered = { type = "date" },
      },
      links = {
        activity = { entity = "activity", column = "appointment_id",
                     on_delete = "cascade", reverse = "documents" },
      },
    },

    consent = {
      table = "consentperson", key = "consentperson_id",
      label = "comment",
      fields = {
        purpose = { column = "consentpurpose_id", type = "lookup",
                    lookup = lookup("consentpurpose", "consentpurpose_id",
                      "key") },
        legal_basis = { column = "legalbase_id", type = "lookup",
                        lookup = lookup("legalbase", "legalbase_id", "key") },
        source = { column = "consentsource_id", type = "lookup",
                   lookup = lookup("consentsource", "consentsource_id",
                     "key") },
        comment = { type = "text", personal = true },
        registered = { type = "date" },
        updated = { type = "date" },
      },
      links = {
        person = { entity = "person", column = "person_id",
                   on_delete = "cascade", reverse = "consents" },
      },
    },

    email = {
      table = "email", key = "email_id", label = "address",
      fields = {
        address = { type = "text", personal = true, identity = true },
      },
      links = {
        company = { entity = "company", column = "contact_id",
                    on_delete = "cascade", reverse = "emails" },
        person = { entity = "person", column = "person_id",
                   on_delete = "cascade", reverse = "emails" },
      },
    },

    phone = {
      table = "phone", key = "phone_id", label = "number",
      fields = {
        number = { type = "text", personal = true, identity = true },
      },
      links = {
        company = { entity = "company", column = "contact_id",
                    on_delete = "cascade", reverse = "phones" },
        person = { entity = "person", column = "person_id",
                   on_delete = "cascade", reverse = "phones" },
      },
    },

    address = {
      table = "address", key = "address_id", label = { "street", "city" },
      fields = {
        street = { type = "text", personal = true },
        zipcode = { type = "text", personal = true },
        city = { type = "text" },
        country = { type = "text" },
      },
      links = {
        company = { entity = "company", column = "contact_id",
                    on_delete = "cascade", reverse = "addresses" },
        person = { entity = "person", column = "person_id",
                   on_delete = "cascade", reverse = "addresses" },
      },
    },

    selection = {
      table = "selection", key = "selection_id", label = "name",
      fields = {
        name = { type = "text" },
        kind = { type = "integer" },
        entity = { type = "text" },
        registered = { type = "date" },
      },
    },

    selection_member = {
      table = "selectionmember", key = "selectionmember_id",
      links = {
        selection = { entity = "selection", column = "selection_id",
                      on_delete = "cascade", reverse = "members" },
        company = { entity = "company", column = "contact_id",
                    on_delete = "cascade", reverse = "selection_members" },
        person = { entity = "person", column = "person_id",
                   on_delete = "cascade", reverse = "selection_members" },
      },
    },
  },
}
