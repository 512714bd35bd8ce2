-- The part of the Sakila schema that the sakila model names, for the
-- policy tests in sakila_test.lua. Columns and foreign keys as in the
-- jOOQ SQLite port of Sakila.
CREATE TABLE address (
  address_id INTEGER PRIMARY KEY, address TEXT NOT NULL, address2 TEXT,
  district TEXT NOT NULL, city_id INT NOT NULL, postal_code TEXT,
  phone TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE store (
  store_id INTEGER PRIMARY KEY, manager_staff_id INT NOT NULL,
  address_id INT NOT NULL REFERENCES address (address_id),
  last_update TIMESTAMP NOT NULL);
CREATE TABLE staff (
  staff_id INTEGER PRIMARY KEY, first_name TEXT NOT NULL,
  last_name TEXT NOT NULL, address_id INT NOT NULL, email TEXT,
  store_id INT NOT NULL REFERENCES store (store_id),
  username TEXT NOT NULL, last_update TIMESTAMP NOT NULL);
CREATE TABLE customer (
  customer_id INTEGER PRIMARY KEY,
  store_id INT NOT NULL REFERENCES store (store_id),
  first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT,
  address_id INT NOT NULL REFERENCES address (address_id),
  active CHAR(1) DEFAULT 'Y' NOT NULL, create_date TIMESTAMP NOT NULL,
  last_update TIMESTAMP NOT NULL);
CREATE TABLE rental (
  rental_id INTEGER PRIMARY KEY, rental_date TIMESTAMP NOT NULL,
  inventory_id INT NOT NULL,
  customer_id INT NOT NULL REFERENCES customer (customer_id),
  return_date TIMESTAMP, staff_id INT NOT NULL REFERENCES staff (staff_id),
  last_update TIMESTAMP NOT NULL);
CREATE TABLE payment (
  payment_id INTEGER PRIMARY KEY,
  customer_id INT NOT NULL REFERENCES customer (customer_id),
  staff_id INT NOT NULL REFERENCES staff (staff_id),
  rental_id INT REFERENCES rental (rental_id) ON DELETE SET NULL,
  amount DECIMAL(5,2) NOT NULL, payment_date TIMESTAMP NOT NULL,
  last_update TIMESTAMP NOT NULL);
