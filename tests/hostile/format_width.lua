-- string.format with a huge width.
-- expect: invalid conversion

string.format("%99999d", 1)
