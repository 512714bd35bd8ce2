-- require of a helper module that is bytecode.
-- expect: attempt to load a binary chunk
-- module: compiled bytecode

require "compiled"
