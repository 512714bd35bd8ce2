-- Model of the Northwind sample database (a food trading company):
-- customers are companies with one contact person each, orders their
-- sales. Customers have a text key, so the model uses the rowid to hold
-- them in id sets and the CustomerID column for the links.

return {
  name = "northwind",
  entities = {
    customer = {
      table = "Customers", key = "rowid",
      label = { "CustomerID", "CompanyName" },
      fields = {
        id = { column = "CustomerID", type = "text" },
        company_name = { column = "CompanyName", type = "text" },
        contact_name = { column = "ContactName", type = "text",
                         personal = true },
        contact_title = { column = "ContactTitle", type = "text" },
        address = { column = "Address", type = "text", personal = true },
        city = { column = "City", type = "text" },
        region = { column = "Region", type = "text" },
        postal_code = { column = "PostalCode", type = "text" },
        country = { column = "Country", type = "text" },
        phone = { column = "Phone", type = "text", personal = true },
        fax = { column = "Fax", type = "text", personal = true },
      },
      guards = {
        { reason = "has an order that was not shipped",
          where = { { "orders", "any", { "shipped", "empty" } } } },
      },
    },

    order = {
      table = "Orders", key = "OrderID", label = { "OrderID", "ShipName" },
      fields = {
        ordered = { column = "OrderDate", type = "date" },
        required = { column = "RequiredDate", type = "date" },
        shipped = { column = "ShippedDate", type = "date" },
        freight = { column = "Freight", type = "number" },
        ship_name = { column = "ShipName", type = "text", personal = true },
        ship_address = { column = "ShipAddress", type = "text",
                         personal = true },
        ship_city = { column = "ShipCity", type = "text" },
        ship_country = { column = "ShipCountry", type = "text" },
      },
      links = {
        customer = { entity = "customer", column = "CustomerID",
                     references = "CustomerID", on_delete = "cascade",
                     reverse = "orders" },
        employee = { entity = "employee", column = "EmployeeID",
                     on_delete = "restrict", reverse = "orders" },
      },
    },

    order_line = {
      table = "Order Details", key = "rowid",
      label = { "OrderID", "ProductID" },
      fields = {
        unit_price = { column = "UnitPrice", type = "number" },
        quantity = { column = "Quantity", type = "integer" },
        discount = { column = "Discount", type = "number" },
      },
      links = {
        order = { entity = "order", column = "OrderID",
                  on_delete = "cascade", reverse = "lines" },
      },
    },

    employee = {
      table = "Employees", key = "EmployeeID",
      label = { "FirstName", "LastName" },
      fields = {
        first_name = { column = "FirstName", type = "text", personal = true },
        last_name = { column = "LastName", type = "text", personal = true },
        title = { column = "Title", type = "text" },
        birth_date = { column = "BirthDate", type = "date", personal = true },
        hire_date = { column = "HireDate", type = "date" },
        home_phone = { column = "HomePhone", type = "text", personal = true },
      },
    },
  },
}
