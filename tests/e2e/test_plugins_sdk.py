"""The plugin SDK: `cmake --install` into a temporary prefix, then the
installed template builds outside the source tree with only the
installed files, once with CMake (find_package) and once with
pkg-config, and Lethe loads what it built."""

import os
import shutil
import subprocess
import unittest

from lethe_testing import environment_path, rule_by_name
from plugin_testing import (FIXTURE_NOW, LetheTestCase, crm_database, run,
                            temporary_folder, write_file)

# A person with an open sale (status 1), which the template's guard keeps,
# and one without.
FIXTURE_SQL = """
INSERT INTO person (person_id, firstname, lastname, registered) VALUES
  (1, 'Ann', 'Open', '2010-01-01'), (2, 'Bob', 'Closed', '2010-01-01'),
  (3, 'Cas', 'Keeper', '2010-01-01'), (4, 'Dan', 'Keeper', '2010-01-01');
INSERT INTO sale (sale_id, person_id, heading, saledate, amount, status,
                  registered) VALUES
  (1, 1, 'open deal', '2024-01-01', 100, 1, '2024-01-01'),
  (2, 2, 'lost deal', '2020-01-01', 100, 3, '2020-01-01');
"""

POLICY = """
rule "delete" {
  select = entity "person":where { { "lastname", "one of", { "Open", "Closed" } } },
  action = delete(),
}
"""


def command(arguments, cwd, env=None):
    completed = subprocess.run(arguments, cwd=cwd, capture_output=True,
                               text=True, env=env, timeout=300)
    return completed


class PluginSdkTest(LetheTestCase):

    @classmethod
    def setUpClass(cls):
        cls.prefix = temporary_folder(cls)
        completed = command([environment_path("LETHE_CMAKE"), "--install",
                             environment_path("LETHE_BUILD_DIR"), "--prefix",
                             cls.prefix], cwd=cls.prefix)
        if completed.returncode != 0:
            raise AssertionError("cmake --install failed:\n"
                                 + completed.stdout + completed.stderr)
        cls.libdir = next(os.path.join(root)
                          for root, dirs, _ in os.walk(cls.prefix)
                          if "pkgconfig" in dirs)

    def setUp(self):
        self.build = temporary_folder(self)
        shutil.copytree(os.path.join(self.prefix, "share", "lethe",
                                     "template"),
                        os.path.join(self.build, "my_plugin"))
        self.source = os.path.join(self.build, "my_plugin")

    def assert_command(self, completed):
        self.assertEqual(completed.returncode, 0,
                         f"{' '.join(completed.args)}\n{completed.stdout}\n"
                         f"{completed.stderr}")

    def assert_loads_and_guards(self, directory):
        listed = run("plugins", "--plugin-dir", directory, "--plugin",
                     "my_plugin")
        self.assert_exit(listed, 0)
        self.assertIn("my_plugin 0.1.0 (C, ABI 1)", listed.stdout)
        self.assertIn("guard open_sale (person): has an open sale",
                      listed.stdout)
        db = crm_database(self, FIXTURE_SQL)
        policy = write_file(temporary_folder(self), "policy.lua", POLICY)
        planned = run("plan", policy, "--db", db, "--now", FIXTURE_NOW,
                      "--plugin-dir", directory, "--plugin", "my_plugin",
                      "--json")
        self.assert_exit(planned, 0)
        rule = rule_by_name(planned.json(), "delete")
        vetoes = {veto["reason"]: [s["id"] for s in veto["samples"]]
                  for veto in rule["vetoes"]}
        self.assertEqual(vetoes, {"has an open sale": [1]})

    def test_installed_files(self):
        for relative in ["include/lethe/plugin.h",
                         "share/lethe/lua/lethe.lua",
                         "share/lethe/template/CMakeLists.txt",
                         "share/lethe/template/Makefile",
                         "share/lethe/template/my_plugin.c"]:
            with self.subTest(file=relative):
                self.assertTrue(os.path.isfile(os.path.join(self.prefix,
                                                            relative)))
        for relative in ["pkgconfig/lethe-plugin.pc",
                         "cmake/LethePlugin/LethePluginConfig.cmake",
                         "cmake/LethePlugin/LethePluginConfigVersion.cmake",
                         "cmake/LethePlugin/LethePluginFunctions.cmake",
                         "lethe/plugins/bookkeeping_hold.so",
                         "lethe/plugins/text_masks.lua"]:
            with self.subTest(file=relative):
                self.assertTrue(os.path.isfile(os.path.join(self.libdir,
                                                            relative)))

    def test_template_builds_with_cmake(self):
        build = os.path.join(self.build, "build")
        cmake = environment_path("LETHE_CMAKE")
        self.assert_command(command(
            [cmake, "-S", self.source, "-B", build,
             f"-DCMAKE_PREFIX_PATH={self.prefix}",
             f"-DCMAKE_C_COMPILER={environment_path('LETHE_CC')}"],
            cwd=self.build))
        self.assert_command(command([cmake, "--build", build],
                                    cwd=self.build))
        self.assertTrue(os.path.isfile(os.path.join(build, "my_plugin.so")))
        self.assert_loads_and_guards(build)

    def test_template_builds_with_pkg_config(self):
        if shutil.which("make") is None or shutil.which("pkg-config") is None:
            self.skipTest("make or pkg-config is not installed")
        environment = dict(os.environ)
        environment.pop("PKG_CONFIG_PATH", None)
        completed = command(
            ["make", f"CC={environment_path('LETHE_CC')}",
             "PKG_CONFIG_PATH=" + os.path.join(self.libdir, "pkgconfig")],
            cwd=self.source, env=environment)
        self.assert_command(completed)
        self.assertIn("-I" + os.path.join(self.libdir, "pkgconfig"),
                      completed.stdout)
        self.assert_loads_and_guards(self.source)

    def test_pkg_config_variables(self):
        if shutil.which("pkg-config") is None:
            self.skipTest("pkg-config is not installed")
        environment = dict(os.environ,
                           PKG_CONFIG_PATH=os.path.join(self.libdir,
                                                        "pkgconfig"))
        completed = command(["pkg-config", "--variable=abi_version",
                             "lethe-plugin"], cwd=self.build,
                            env=environment)
        self.assert_command(completed)
        self.assertEqual(completed.stdout.strip(), "1")
        completed = command(["pkg-config", "--variable=plugindir",
                             "lethe-plugin"], cwd=self.build,
                            env=environment)
        self.assert_command(completed)
        self.assertEqual(os.path.realpath(completed.stdout.strip()),
                         os.path.realpath(os.path.join(self.libdir, "lethe",
                                                       "plugins")))


if __name__ == "__main__":
    unittest.main()
