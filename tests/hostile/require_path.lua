-- require with a path instead of a module name.
-- expect: require: invalid module name '../../etc/passwd'

require "../../etc/passwd"
