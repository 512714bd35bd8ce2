-- require of Lethe's own native module.
-- expect: module 'lethe.native' not found; helper modules load only from the folders given with --lua-path

require "lethe.native"
