"""Hostile scripts: each tests/hostile/NAME.lua tries to break out of the
sandbox or past a limit, and must end with exit status 1, an error that
names the rule it broke, no crash or sanitizer report, and the database
unchanged.

A case file starts with comment lines that the harness reads:

    -- expect: REGEX        what standard error must match (required)
    -- options: ARGS        extra command-line options
    -- run: plan|apply|model
                            plan (default) plans the case as a policy;
                            apply plans it, then applies it with --yes;
                            model plans the fixture policy with the case
                            as its --model
    -- module: NAME bytecode
                            put precompiled bytecode in NAME.lua of a
                            folder passed with --lua-path
    -- known gap: REASON    Lethe does not pass this case yet; the test is
                            skipped while it fails and fails once it passes

BYTECODE in a case becomes a Lua string literal holding real Lua 5.4
bytecode (from luac5.4 when installed, else a bytecode header).
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import lethe_testing as lt

templates = lt.DatabaseTemplates()

CASE_FOLDER = os.path.join(lt.environment_path("LETHE_SOURCE_DIR"), "tests",
                           "hostile")

# Signs of a crash or of undefined behaviour in the host.
CRASH_SIGNS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
               "Segmentation fault", "core dumped", "unprotected Lua error")

# The 19-byte header of a Lua 5.4 chunk on a 64-bit little-endian host.
BYTECODE_HEADER = (b"\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08"
                   b"\x78\x56\x00\x00")

RUN_TIMEOUT = 30


def tearDownModule():
    templates.close()


def compile_bytecode():
    """Return Lua 5.4 bytecode of `return 1`."""
    luac = shutil.which("luac5.4")
    if luac is None:
        return BYTECODE_HEADER
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "one.lua")
        output = os.path.join(folder, "one.luac")
        with open(source, "w") as file:
            file.write("return 1\n")
        subprocess.run([luac, "-o", output, source], check=True)
        with open(output, "rb") as file:
            return file.read()


BYTECODE = compile_bytecode()


def lua_string(data):
    """Return a Lua string literal for the bytes `data`."""
    return '"' + "".join(f"\\{byte:03d}" for byte in data) + '"'


def read_case(path):
    """Return (text, directives) of a case file."""
    with open(path) as file:
        text = file.read()
    directives = {}
    for line in text.splitlines():
        match = re.match(r"--\s*(expect|options|run|module|known gap):\s*(.*)",
                         line)
        if match:
            directives[match.group(1)] = match.group(2).strip()
    if "expect" not in directives:
        raise AssertionError(f"{path}: missing '-- expect:' line")
    return text.replace("BYTECODE", lua_string(BYTECODE)), directives


class HostileScriptTest(lt.LetheTestCase):
    """One test per tests/hostile/*.lua, added below."""

    def prepare(self, name, text, directives):
        """Write the case and its database into a new folder; return the
        case path, the database path and extra arguments."""
        folder = lt.temporary_folder(self)
        db = templates.copy("crm", folder)
        path = lt.write_file(folder, name + ".lua", text)
        arguments = directives.get("options", "").split()
        module = directives.get("module")
        if module:
            module_name, kind = module.split()
            self.assertEqual(kind, "bytecode", f"{name}: unknown module kind")
            modules = os.path.join(folder, "modules")
            os.mkdir(modules)
            with open(os.path.join(modules, module_name + ".lua"), "wb") as f:
                f.write(BYTECODE)
            arguments += ["--lua-path", modules]
        return path, db, arguments

    def run_case(self, name, path, db, arguments, run):
        now = ["--now", lt.FIXTURE_NOW]
        if run == "model":
            policy = lt.write_file(os.path.dirname(db), "fixture.lua",
                                   lt.FIXTURE_POLICY)
            return lt.run_lethe("plan", policy, "--db", db, "--model", path,
                                *now, *arguments, timeout=RUN_TIMEOUT)
        if run == "apply":
            return self.apply_case(path, db, arguments, now)
        self.assertEqual(run, "plan", f"{name}: unknown run kind")
        return lt.run_lethe("plan", path, "--db", db, *now, *arguments,
                            timeout=RUN_TIMEOUT)

    def apply_case(self, path, db, arguments, now):
        """Plan the case, counting its guard checks, then apply it with
        the helper module plan_calls returning that count."""
        modules = os.path.join(os.path.dirname(db), "apply-modules")
        os.mkdir(modules)
        calls_module = os.path.join(modules, "plan_calls.lua")
        arguments = [*arguments, "--lua-path", modules]
        for right in ("delete", "update"):
            lt.run_lethe("grant", "alice", right, "--db", db)
        with open(calls_module, "w") as file:
            file.write("return math.huge\n")
        plan = lt.run_lethe("plan", path, "--db", db, *now, *arguments,
                            timeout=RUN_TIMEOUT)
        self.assert_exit(plan, 0)
        calls = plan.stderr.count("guard check ")
        self.assertGreater(calls, 0, plan.describe())
        with open(calls_module, "w") as file:
            file.write(f"return {calls}\n")
        self.digest_before = lt.file_digest(db)
        return lt.run_lethe("apply", path, "--db", db, *now, "--as", "alice",
                            "--yes", lt.plan_digest(plan.stdout), *arguments,
                            timeout=RUN_TIMEOUT)

    def check_outcome(self, name, directives, db, result):
        self.assertFalse(result.timed_out, result.describe())
        for sign in CRASH_SIGNS:
            self.assertNotIn(sign, result.stderr, result.describe())
        self.assert_exit(result, 1)
        self.assertRegex(result.stderr, directives["expect"],
                         f"{name}: unexpected message\n" + result.describe())
        if re.search(r"(memory|instruction|time) limit of", result.stderr):
            self.assertIn(f"{name}.lua", result.stderr,
                          f"{name}: the limit message does not name the "
                          "script\n" + result.describe())
        self.assert_unchanged(db, self.digest_before, result)
        self.assertFalse(os.path.exists(db + "-journal"),
                         f"{name}: a journal was left behind")
        self.assertEqual(lt.scalar(db, "PRAGMA integrity_check"), "ok")

    def check_case(self, name):
        text, directives = read_case(os.path.join(CASE_FOLDER, name + ".lua"))
        path, db, arguments = self.prepare(name, text, directives)
        self.digest_before = lt.file_digest(db)
        result = self.run_case(name, path, db, arguments,
                               directives.get("run", "plan"))
        gap = directives.get("known gap")
        if gap is None:
            self.check_outcome(name, directives, db, result)
            return
        try:
            self.check_outcome(name, directives, db, result)
        except AssertionError:
            self.skipTest("known gap: " + gap)
        self.fail(f"{name} passes now: remove its 'known gap' line")


def add_case_tests():
    for path in sorted(glob.glob(os.path.join(CASE_FOLDER, "*.lua"))):
        name = os.path.splitext(os.path.basename(path))[0]

        def test(self, name=name):
            self.check_case(name)

        test.__doc__ = f"tests/hostile/{name}.lua"
        setattr(HostileScriptTest, "test_" + name, test)


add_case_tests()


class LimitsCanFailTest(lt.LetheTestCase):
    """The hostile cases fail when the limit that stops them is off: each
    one then ends by another limit, or not at all."""

    def plan(self, body, *options, timeout=RUN_TIMEOUT):
        folder = lt.temporary_folder(self)
        db = templates.copy("crm", folder)
        path = lt.write_file(folder, "case.lua", body)
        return lt.run_lethe("plan", path, "--db", db, *options,
                            timeout=timeout)

    def test_loop_without_instruction_limit(self):
        result = self.plan("while true do end\n", "--instruction-limit", "0",
                           "--time-limit", "1")
        self.assertNotIn("instruction limit", result.stderr)
        self.assertIn("time limit of 1 s reached", result.stderr)

    def test_memory_without_memory_limit(self):
        result = self.plan("local t = {}\nfor i = 1, math.huge do "
                           "t[i] = { i } end\n", "--memory-limit", "0",
                           "--time-limit", "2", "--instruction-limit", "0")
        self.assertNotIn("memory limit", result.stderr)
        self.assertIn("time limit of 2 s reached", result.stderr)

    def test_loop_without_any_limit(self):
        result = self.plan("while true do end\n", "--instruction-limit", "0",
                           "--time-limit", "0", timeout=3)
        self.assertTrue(result.timed_out, result.describe())

    def test_environment_sets_limit(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("crm", folder)
        path = lt.write_file(folder, "case.lua", "while true do end\n")
        completed = subprocess.run(
            [lt.lethe_binary(), "plan", path, "--db", db],
            env={**os.environ, "LETHE_INSTRUCTION_LIMIT": "5000000"},
            capture_output=True, text=True, timeout=RUN_TIMEOUT)
        self.assertEqual(completed.returncode, 1)
        self.assertIn("instruction limit of 5000000 reached",
                      completed.stderr)

    def test_invalid_limit_is_usage_error(self):
        result = self.plan("return\n", "--memory-limit", "lots")
        self.assert_exit(result, 2)
        self.assertIn("invalid --memory-limit 'lots'", result.stderr)


if __name__ == "__main__":
    unittest.main()
