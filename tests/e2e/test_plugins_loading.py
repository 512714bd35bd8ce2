"""Where plugins load from, and plugins that must not load.

Each bad plugin in tests/plugins/ is a real shared object that Lethe
opens with dlopen. Each must be rejected with its reason, and the run must
go on and plan the policy exactly as without it. A decoy named like a
bundled plugin sits in the current directory and must never load.
"""

import json
import os
import shutil
import stat
import unittest

from lethe_testing import FIXTURE_POLICY, plan_digest
from plugin_testing import (FIXTURE_NOW, LetheTestCase, bundled_dir,
                            fixture_database, run, temporary_folder,
                            test_plugin_dir, write_file)

# (plugin, a part of the reason Lethe must give)
BAD_PLUGINS = [
    ("bad_abi_version", "built for plugin ABI version 99"),
    ("bad_short_struct", "struct lethe_host of"),
    ("bad_no_entry", "no entry point lethe_plugin_init"),
    ("bad_init_fails", "lethe_plugin_init failed: the licence file is "
                       "missing"),
    ("bad_signature", "variadic functions ('...') are not supported"),
    ("bad_name", "calls itself 'someone_else'"),
    ("bad_lua_init", "init failed"),
    ("no_such_plugin", "not found in the plugin directories"),
]


class PluginLoadingTest(LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.folder = temporary_folder(cls)
        cls.policy = write_file(cls.folder, "policy.lua", FIXTURE_POLICY)

    def setUp(self):
        self.db = fixture_database(self)

    def plan(self, *extra, cwd=None, env=None):
        return run("plan", self.policy, "--db", self.db, "--now",
                   FIXTURE_NOW, *extra, cwd=cwd, env=env)

    def baseline_digest(self):
        result = self.plan()
        self.assert_exit(result, 0)
        return plan_digest(result.stdout)

    def test_bad_plugins_rejected_run_goes_on(self):
        baseline = self.baseline_digest()
        for name, reason in BAD_PLUGINS:
            with self.subTest(plugin=name):
                result = self.plan("--plugin-dir", test_plugin_dir(),
                                   "--plugin", name)
                self.assert_exit(result, 0)
                self.assert_stderr_contains(
                    result, f"plugin {name}", reason,
                    "the run goes on without it")
                self.assertEqual(plan_digest(result.stdout), baseline,
                                 result.describe())

    def test_short_struct_reason_says_rebuild(self):
        result = self.plan("--plugin-dir", test_plugin_dir(), "--plugin",
                           "bad_short_struct")
        self.assert_stderr_contains(result, "rebuild it against "
                                    "lethe/plugin.h")

    def test_duplicate_name_rejected(self):
        baseline = self.baseline_digest()
        result = self.plan("--plugin-dir", bundled_dir(), "--plugin-dir",
                           test_plugin_dir(), "--plugin", "data_quality",
                           "--plugin", "bad_duplicate")
        self.assert_exit(result, 0)
        self.assert_stderr_contains(
            result, "plugin bad_duplicate", "goes on without it",
            "criterion name 'duplicate_email' is already taken by plugin "
            "'data_quality'")
        self.assertEqual(plan_digest(result.stdout), baseline)

    def test_duplicate_loads_alone(self):
        result = run("plugins", "--plugin-dir", test_plugin_dir(),
                     "--plugin", "bad_duplicate")
        self.assert_exit(result, 0)
        self.assertIn("bad_duplicate 0.0.1 (C, ABI 1)", result.stdout)

    def test_failed_init_keeps_no_registration(self):
        result = run("plugins", "--plugin-dir", test_plugin_dir(),
                     "--plugin", "bad_init_fails", "--json")
        self.assert_exit(result, 1)
        document = json.loads(result.stdout)
        self.assertEqual(document["plugins"], [])
        self.assertEqual(len(document["failures"]), 1)
        self.assertIn("the licence file is missing",
                      document["failures"][0]["message"])

    def test_failed_lua_init_keeps_no_registration(self):
        script = ('print("load", pcall(plugin, "bad_lua_init"))\n'
                  'print("use", pcall(strategy, "never"))\n')
        result = run("repl", "--db", self.db, "--plugin-dir",
                     test_plugin_dir(), stdin=script)
        self.assertIn("the configuration service is unreachable",
                      result.stdout, result.describe())
        self.assertIn("unknown plugin strategy 'never'", result.stdout,
                      result.describe())

    def test_policy_asking_for_bad_plugin_fails(self):
        policy = write_file(temporary_folder(self), "needs_bad.lua",
                            'plugin "bad_abi_version"\n' + FIXTURE_POLICY)
        result = run("plan", policy, "--db", self.db, "--now", FIXTURE_NOW,
                     "--plugin-dir", test_plugin_dir())
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "needs_bad.lua:1:",
                                    "plugin bad_abi_version",
                                    "built for plugin ABI version 99")

    def test_policy_asking_for_missing_plugin_fails(self):
        policy = write_file(temporary_folder(self), "needs_missing.lua",
                            'plugin "not_there"\n' + FIXTURE_POLICY)
        result = run("plan", policy, "--db", self.db, "--now", FIXTURE_NOW)
        self.assert_exit(result, 1)
        self.assert_stderr_contains(result, "needs_missing.lua:1:",
                                    "not_there.so or not_there.lua not "
                                    "found", "--plugin-dir")

    def test_lists_bundled_plugins(self):
        receipts = temporary_folder(self)
        result = run("plugins", "--plugin-dir", bundled_dir(),
                     "--plugin-option",
                     f"erasure_receipt.directory={receipts}")
        self.assert_exit(result, 0)
        for name, kind in [("bookkeeping_hold", "C, ABI 1"),
                           ("contact_format", "C, ABI 1"),
                           ("data_quality", "C, ABI 1"),
                           ("erasure_receipt", "C, ABI 1"),
                           ("text_masks", "Lua")]:
            with self.subTest(plugin=name):
                self.assertIn(f"{name} 1.0.0 ({kind})", result.stdout)
        self.assertIn(f"from {bundled_dir()}/bookkeeping_hold.so",
                      result.stdout)
        self.assertIn(f"from {bundled_dir()}/text_masks.lua", result.stdout)

    def test_lists_failures_with_exit_1(self):
        result = run("plugins", "--plugin-dir", test_plugin_dir(), "--json")
        self.assert_exit(result, 1)
        document = json.loads(result.stdout)
        failed = {failure["name"] for failure in document["failures"]}
        for name in ["bad_abi_version", "bad_short_struct", "bad_no_entry",
                     "bad_init_fails", "bad_signature", "bad_name",
                     "bad_lua_init"]:
            self.assertIn(name, failed)
        loaded = {plugin["name"] for plugin in document["plugins"]}
        self.assertIn("ffi_types", loaded)
        self.assertIn("lua_points", loaded)

    def test_decoy_in_current_directory_not_loaded(self):
        folder = temporary_folder(self)
        shutil.copy(os.path.join(test_plugin_dir(), "decoy",
                                 "data_quality.so"), folder)
        marker = os.path.join(folder, "DECOY_LOADED")
        result = self.plan("--plugin", "data_quality", cwd=folder)
        self.assert_exit(result, 0)
        self.assert_stderr_contains(result, "plugin data_quality",
                                    "no plugin directory is configured")
        self.assertFalse(os.path.exists(marker), result.describe())

    def test_decoy_not_loaded_through_relative_path_variable(self):
        folder = temporary_folder(self)
        shutil.copy(os.path.join(test_plugin_dir(), "decoy",
                                 "data_quality.so"), folder)
        for value in [".", "./", "plugins", ":.:"]:
            with self.subTest(LETHE_PLUGIN_PATH=value):
                result = self.plan("--plugin", "data_quality", cwd=folder,
                                   env={"LETHE_PLUGIN_PATH": value})
                self.assert_exit(result, 0)
                self.assert_stderr_contains(result, "is not an absolute "
                                            "path", "ignored")
                self.assertFalse(os.path.exists(
                    os.path.join(folder, "DECOY_LOADED")))

    def test_decoy_loses_to_configured_directory(self):
        folder = temporary_folder(self)
        shutil.copy(os.path.join(test_plugin_dir(), "decoy",
                                 "data_quality.so"), folder)
        result = run("plugins", "--plugin-dir", bundled_dir(), "--plugin",
                     "data_quality", cwd=folder)
        self.assert_exit(result, 0)
        self.assertIn("data_quality 1.0.0 (C, ABI 1)", result.stdout)
        self.assertIn(f"from {bundled_dir()}/data_quality.so", result.stdout)
        self.assertFalse(os.path.exists(os.path.join(folder,
                                                     "DECOY_LOADED")))

    def test_relative_plugin_dir_is_usage_error(self):
        folder = temporary_folder(self)
        shutil.copy(os.path.join(test_plugin_dir(), "decoy",
                                 "data_quality.so"), folder)
        result = self.plan("--plugin-dir", ".", "--plugin", "data_quality",
                           cwd=folder)
        self.assert_exit(result, 2)
        self.assert_stderr_contains(result, "'.' is not an absolute path")
        self.assertFalse(os.path.exists(os.path.join(folder,
                                                     "DECOY_LOADED")))

    def test_plugin_given_by_path_is_usage_error(self):
        folder = temporary_folder(self)
        shutil.copy(os.path.join(test_plugin_dir(), "decoy",
                                 "data_quality.so"), folder)
        for name in ["./data_quality.so", "data_quality.so",
                     os.path.join(folder, "data_quality.so")]:
            with self.subTest(plugin=name):
                result = self.plan("--plugin", name, cwd=folder)
                self.assert_exit(result, 2)
                self.assert_stderr_contains(result, "never given by path")
        self.assertFalse(os.path.exists(os.path.join(folder,
                                                     "DECOY_LOADED")))

    def test_environment_variable_directory(self):
        result = run("plugins", "--plugin", "data_quality",
                     env={"LETHE_PLUGIN_PATH": "/nonexistent-lethe-dir:"
                          + bundled_dir()})
        self.assert_exit(result, 0)
        self.assertIn(f"{bundled_dir()} (LETHE_PLUGIN_PATH)", result.stdout)
        self.assertIn("data_quality 1.0.0", result.stdout)

    def test_first_directory_wins(self):
        first = temporary_folder(self)
        with open(os.path.join(bundled_dir(), "text_masks.lua"),
                  encoding="utf-8") as file:
            text = file.read()
        write_file(first, "text_masks.lua",
                   text.replace('version = "1.0.0"', 'version = "9.9.9"'))
        result = run("plugins", "--plugin-dir", first, "--plugin-dir",
                     bundled_dir(), "--plugin", "text_masks")
        self.assert_exit(result, 0)
        self.assertIn("text_masks 9.9.9 (Lua)", result.stdout)
        self.assertIn(f"from {os.path.realpath(first)}/text_masks.lua",
                      result.stdout)

    def test_symbolic_link_loads_by_real_path(self):
        folder = temporary_folder(self)
        os.symlink(os.path.join(bundled_dir(), "data_quality.so"),
                   os.path.join(folder, "data_quality.so"))
        result = run("plugins", "--plugin-dir", folder, "--plugin",
                     "data_quality")
        self.assert_exit(result, 0)
        self.assertIn(f"from {bundled_dir()}/data_quality.so", result.stdout)

    def test_world_writable_directory_rejected(self):
        folder = temporary_folder(self)
        shutil.copy(os.path.join(bundled_dir(), "data_quality.so"), folder)
        os.chmod(folder, 0o777)
        result = self.plan("--plugin-dir", folder, "--plugin",
                           "data_quality")
        self.assert_exit(result, 2)
        self.assert_stderr_contains(result, "writable by every user")

    def test_world_writable_file_rejected(self):
        folder = temporary_folder(self)
        copy = shutil.copy(os.path.join(bundled_dir(), "data_quality.so"),
                           folder)
        os.chmod(copy, os.stat(copy).st_mode | stat.S_IWOTH)
        result = self.plan("--plugin-dir", folder, "--plugin",
                           "data_quality")
        self.assert_exit(result, 0)
        self.assert_stderr_contains(result, "plugin data_quality",
                                    "writable by every user")

    def test_invalid_plugin_option_is_usage_error(self):
        result = self.plan("--plugin-option", "no_dot_or_equals")
        self.assert_exit(result, 2)
        self.assert_stderr_contains(result, "NAME.KEY=VALUE")


if __name__ == "__main__":
    unittest.main()
