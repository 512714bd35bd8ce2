"""Plain C functions through libffi: every supported type, at its limits.

The functions of tests/plugins/ffi_types.c return their arguments (or an
exact description of them), so the tests see what arrived in C and what
came back to Lua. They run in `lethe repl` on standard input, which has
the policy API and id sets.
"""

import struct
import unittest

from plugin_testing import (LetheTestCase, bundled_dir, crm_database,
                            repl_lines, run, test_plugin_dir)


# (label, Lua expression printed with %.17g or tostring, expected text)
VALUES = [
    ("flip true", "f.flip(true)", "false"),
    ("flip false", "f.flip(false)", "true"),
    ("int32 max", "f.same_int32(2147483647)", "2147483647"),
    ("int32 min", "f.same_int32(-2147483648)", "-2147483648"),
    ("int32 float", "f.same_int32(7.0)", "7"),
    ("int64 max", "f.same_int64(math.maxinteger)", "9223372036854775807"),
    ("int64 min", "f.same_int64(math.mininteger)", "-9223372036854775808"),
    ("int64 zero", "f.same_int64(0)", "0"),
    ("uint32 max", "f.same_uint32(4294967295)", "4294967295"),
    ("uint32 zero", "f.same_uint32(0)", "0"),
    ("double max", "string.format('%.17g', f.same_double(1.7976931348623157e308))",
     "1.7976931348623157e+308"),
    ("double tiny", "string.format('%.17g', f.same_double(4.9e-324))",
     "4.9406564584124654e-324"),
    ("double negative zero", "1 / f.same_double(-0.0)", "-inf"),
    ("double inf", "f.same_double(math.huge)", "inf"),
    ("double minus inf", "f.same_double(-math.huge)", "-inf"),
    ("double nan", "(function(x) return x ~= x end)(f.same_double(0/0))",
     "true"),
    ("double from integer", "math.type(f.same_double(3))", "float"),
    ("float third", "string.format('%.17g', f.same_float(1/3))",
     "%.17g" % struct.unpack("f", struct.pack("f", 1 / 3))[0]),
    ("float inf", "f.same_float(math.huge)", "inf"),
    ("float minus inf", "f.same_float(-math.huge)", "-inf"),
    ("float nan", "(function(x) return x ~= x end)(f.same_float(0/0))",
     "true"),
    ("float max", "string.format('%.17g', f.same_float(3.4028234663852886e38))",
     "3.4028234663852886e+38"),
    ("text empty", "'[' .. f.same_text('') .. ']'", "[]"),
    ("text non-ascii", "f.same_text('Zoë Ωμέγα 漢字 😀')", "Zoë Ωμέγα 漢字 😀"),
    ("copy empty", "'[' .. f.copy_text('') .. ']'", "[]"),
    ("copy non-ascii", "f.copy_text('Måns Bergström')", "Måns Bergström"),
    ("copy long", "#f.copy_text(string.rep('x', 100000))", "100000"),
    ("static text", "f.static_text()", "static text"),
    ("null text", "tostring(f.null_text())", "nil"),
    ("nothing", "select('#', f.nothing())", "0"),
    ("text length", "f.text_length('Zoë')", "4"),
    ("describe", "f.describe(-1.5, 0.1, math.mininteger, -2147483648, "
                 "4294967295, true, 'ü')",
     "-0x1.8p+0 0x1.999999999999ap-4 -9223372036854775808 -2147483648 "
     "4294967295 1 ü"),
    ("evens", "table.concat(f.evens(set.from_array('person', "
              "{1, 2, 3, 4, 10, 4294967294})):to_array(), ',')",
     "2,4,10,4294967294"),
    ("evens entity", "f.evens(set.from_array('company', {2})):entity()",
     "company"),
    ("evens empty", "#f.evens(set.new('person'))", "0"),
    ("count ids", "f.count_ids(set.range('person', 1, 1000))", "1000"),
]

# (label, Lua call, parts of the expected error message)
ERRORS = [
    ("bool from number", "f.flip(1)",
     ["ffi_types.flip", "argument 1 'value'", "expects bool", "number"]),
    ("bool from nil", "f.flip(nil)", ["expects bool", "got nil"]),
    ("int32 too big", "f.same_int32(2147483648)",
     ["ffi_types.same_int32", "out of its range"]),
    ("int32 too small", "f.same_int32(-2147483649)", ["out of its range"]),
    ("int32 fraction", "f.same_int32(1.5)", ["not a whole number"]),
    ("int32 string", "f.same_int32('12')", ["expects int32_t", "string"]),
    ("uint32 negative", "f.same_uint32(-1)", ["out of its range"]),
    ("uint32 too big", "f.same_uint32(4294967296)", ["out of its range"]),
    ("int64 beyond", "f.same_int64(2^63)", ["not a whole number"]),
    ("int64 nan", "f.same_int64(0/0)", ["not a whole number"]),
    ("double from string", "f.same_double('1.5')",
     ["expects double", "string"]),
    ("float out of range", "f.same_float(1e300)",
     ["out of the range of float"]),
    ("text from number", "f.copy_text(12)", ["expects const char *",
                                            "number"]),
    ("text with nul", "f.copy_text('a\\0b')", ["a string with a NUL byte"]),
    ("idset from table", "f.count_ids({1, 2})",
     ["expects const lethe_idset *", "table"]),
    ("closed idset", "(function() local s = set.new('person') s:close() "
                     "return f.count_ids(s) end)()", ["a closed id set"]),
    ("too few arguments", "f.same_int64()", ["expects 1 argument, got 0"]),
    ("too many arguments", "f.describe(1, 2, 3, 4, 5, true, 'x', 8)",
     ["expects 7 arguments, got 8"]),
    ("foreign set result", "f.wrong_set(set.new('person'))",
     ["did not create with host->idset_new"]),
]

# (option signature, part of the expected rejection)
BAD_SIGNATURES = [
    ("double norm(struct point p)", "structs are not supported"),
    ("int64_t sum(int64_t first, ...)", "variadic"),
    ("long total(void)", "'long' is not supported"),
    ("quux f(void)", "unknown type name 'quux'"),
    ("int64_t f(char *out)", "result type only"),
    ("int64_t f(int64_t a[])", "arrays"),
    ("int64_t f(int64_t (*callback)(void))", "function pointers"),
    ("char *f(void)", "sets no info->free_result"),
]


class FfiConversionTest(LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.db = crm_database(cls)

    def repl(self, lines):
        script = 'f = plugin "ffi_types"\n' + "\n".join(lines) + "\n"
        return run("repl", "--db", self.db, "--plugin-dir",
                   test_plugin_dir(), stdin=script)

    def test_values_arrive_and_return_intact(self):
        result = self.repl([f"print({label!r}, tostring({expression}))"
                            for label, expression, _ in VALUES])
        self.assertEqual(result.stderr, "", result.describe())
        values = repl_lines(result)
        for label, expression, expected in VALUES:
            with self.subTest(label=label, expression=expression):
                self.assertEqual(values.get(label), expected,
                                 result.describe())

    def test_wrong_arguments_raise_naming_function(self):
        result = self.repl([f"print({label!r}, select(2, pcall(function() "
                            f"return {call} end)))"
                            for label, call, _ in ERRORS])
        values = repl_lines(result)
        for label, call, parts in ERRORS:
            for part in parts:
                with self.subTest(label=label, part=part):
                    self.assertIn(part, values.get(label, ""),
                                  f"{call}\n" + result.describe())

    def test_bad_signatures_rejected_at_load(self):
        for signature, reason in BAD_SIGNATURES:
            with self.subTest(signature=signature):
                result = run("plugins", "--plugin-dir", test_plugin_dir(),
                             "--plugin", "bad_signature", "--plugin-option",
                             f"bad_signature.signature={signature}")
                self.assert_exit(result, 1)
                self.assertIn(reason, result.stdout, result.describe())

    def test_good_signature_loads(self):
        result = run("plugins", "--plugin-dir", test_plugin_dir(),
                     "--plugin", "bad_signature", "--plugin-option",
                     "bad_signature.signature=int64_t sum(int64_t first)")
        self.assert_exit(result, 0)
        self.assertIn("function sum(int64_t) -> int64_t", result.stdout)

    def test_field_action_checks_function(self):
        script = "\n".join([
            'c = plugin "contact_format"',
            'f = plugin "ffi_types"',
            'print("ok", pcall(field_action, f.shout))',
            'print("idset", select(2, pcall(field_action, f.count_ids)))',
            'print("void", select(2, pcall(field_action, f.nothing)))',
            'print("args", select(2, pcall(field_action, c.phone_e164)))',
            'print("type", select(2, pcall(field_action, c.phone_e164, 31)))',
            'print("plain", select(2, pcall(field_action, print)))',
        ]) + "\n"
        result = run("repl", "--db", self.db, "--plugin-dir",
                     test_plugin_dir(), "--plugin-dir", bundled_dir(),
                     stdin=script)
        values = repl_lines(result)
        self.assertTrue(values.get("ok", "").startswith("true"),
                        result.describe())
        self.assertIn("which SQL cannot pass", values.get("idset", ""))
        self.assertIn("takes no argument for the field value",
                      values.get("void", ""))
        self.assertIn("takes 1 argument after the function, not 0",
                      values.get("args", ""))
        self.assertIn("argument 1 must be const char *, not number",
                      values.get("type", ""))
        self.assertIn("not a plain C function of a plugin",
                      values.get("plain", ""))


if __name__ == "__main__":
    unittest.main()
