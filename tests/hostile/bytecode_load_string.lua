-- Precompiled bytecode passed to load as a string.
-- expect: attempt to load a binary chunk

assert(load(BYTECODE))
