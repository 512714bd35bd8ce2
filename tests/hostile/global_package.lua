-- package.loadlib.
-- expect: undefined global 'package'

package.loadlib("libc.so.6", "system")
