-- The part of the Northwind schema that the northwind model names, for the
-- policy tests in northwind_test.lua. Columns and foreign keys as in the
-- SQLite port of Northwind.
CREATE TABLE [Customers] (
  [CustomerID] TEXT, [CompanyName] TEXT, [ContactName] TEXT,
  [ContactTitle] TEXT, [Address] TEXT, [City] TEXT, [Region] TEXT,
  [PostalCode] TEXT, [Country] TEXT, [Phone] TEXT, [Fax] TEXT,
  PRIMARY KEY (`CustomerID`));
CREATE TABLE [Employees] (
  [EmployeeID] INTEGER PRIMARY KEY AUTOINCREMENT, [LastName] TEXT,
  [FirstName] TEXT, [Title] TEXT, [BirthDate] DATE, [HireDate] DATE,
  [HomePhone] TEXT);
CREATE TABLE [Orders] (
  [OrderID] INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, [CustomerID] TEXT,
  [EmployeeID] INTEGER, [OrderDate] DATETIME, [RequiredDate] DATETIME,
  [ShippedDate] DATETIME, [Freight] NUMERIC DEFAULT 0, [ShipName] TEXT,
  [ShipAddress] TEXT, [ShipCity] TEXT, [ShipCountry] TEXT,
  FOREIGN KEY ([EmployeeID]) REFERENCES [Employees] ([EmployeeID]),
  FOREIGN KEY ([CustomerID]) REFERENCES [Customers] ([CustomerID]));
CREATE TABLE [Order Details] (
  [OrderID] INTEGER NOT NULL, [ProductID] INTEGER NOT NULL,
  [UnitPrice] NUMERIC NOT NULL DEFAULT 0, [Quantity] INTEGER NOT NULL
  DEFAULT 1, [Discount] REAL NOT NULL DEFAULT 0,
  PRIMARY KEY ("OrderID", "ProductID"),
  FOREIGN KEY ([OrderID]) REFERENCES [Orders] ([OrderID]));
