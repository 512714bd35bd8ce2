-- Model of the Sakila sample database (a DVD rental shop): customers are
-- the persons, rentals their activities and payments their sales.
--
-- Sakila's own foreign keys say NO ACTION on delete; the delete rules here
-- say what retention means for each link. A payment outlives its rental
-- in the schema (ON DELETE SET NULL), so the rental link is set_null.

return {
  name = "sakila",
  entities = {
    customer = {
      table = "customer", key = "customer_id",
      label = { "first_name", "last_name" },
      fields = {
        first_name = { type = "text", personal = true },
        last_name = { type = "text", personal = true },
        email = { type = "text", personal = true },
        -- CHAR(1) in this schema: the text "1" for an open account, "0"
        -- for a closed one.
        active = { type = "text" },
        create_date = { type = "date" },
        last_update = { type = "date" },
      },
      links = {
        store = { entity = "store", column = "store_id",
                  on_delete = "restrict", reverse = "customers" },
        address = { entity = "address", column = "address_id",
                    on_delete = "restrict", reverse = "customers" },
      },
      guards = {
        { reason = "has a rental that was not returned",
          where = { { "rentals", "any", { "return_date", "empty" } } } },
      },
    },

    address = {
      table = "address", key = "address_id", label = { "address", "district" },
      fields = {
        address = { type = "text", personal = true },
        address2 = { type = "text", personal = true },
        district = { type = "text" },
        postal_code = { type = "text", personal = true },
        phone = { type = "text", personal = true },
      },
    },

    store = {
      table = "store", key = "store_id", label = "store_id",
      fields = {},
    },

    staff = {
      table = "staff", key = "staff_id", label = { "first_name", "last_name" },
      fields = {
        first_name = { type = "text", personal = true },
        last_name = { type = "text", personal = true },
        email = { type = "text", personal = true },
        username = { type = "text" },
      },
      links = {
        store = { entity = "store", column = "store_id",
                  on_delete = "restrict", reverse = "staff" },
      },
    },

    rental = {
      table = "rental", key = "rental_id", label = "rental_date",
      fields = {
        rental_date = { type = "date" },
        return_date = { type = "date" },
      },
      links = {
        customer = { entity = "customer", column = "customer_id",
                     on_delete = "cascade", reverse = "rentals" },
        staff = { entity = "staff", column = "staff_id",
                  on_delete = "restrict", reverse = "rentals" },
      },
    },

    payment = {
      table = "payment", key = "payment_id", label = "payment_date",
      fields = {
        amount = { type = "number" },
        payment_date = { type = "date" },
      },
      links = {
        customer = { entity = "customer", column = "customer_id",
                     on_delete = "cascade", reverse = "payments" },
        rental = { entity = "rental", column = "rental_id",
                   on_delete = "set_null", reverse = "payments" },
        staff = { entity = "staff", column = "staff_id",
                  on_delete = "restrict", reverse = "payments" },
      },
    },
  },
}
