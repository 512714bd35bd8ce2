-- The debug library.
-- expect: undefined global 'debug'

debug.sethook()
