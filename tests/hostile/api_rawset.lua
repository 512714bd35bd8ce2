-- Changing the SQL of a selection with rawset.
-- expect: rawset: the table is a protected object

rawset((entity "person"):all(), "sql", "1 = 1")
