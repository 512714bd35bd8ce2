-- os.date of a huge time.
-- expect: cannot be represented

os.date("%c", math.maxinteger)
