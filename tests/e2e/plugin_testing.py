"""Shared helpers for the end-to-end tests of plugins (test_plugins_*.py).

Besides the variables of lethe_testing, ctest sets:

- LETHE_PLUGIN_BUILD_DIR: build/plugins, the bundled plugins.
- LETHE_TEST_PLUGIN_DIR: build/tests/plugins, the test plugins (ffi_types,
  lua_points, the bad_* plugins and decoy/data_quality.so).
- LETHE_BUILD_DIR, LETHE_CMAKE, LETHE_CC: the build tree, cmake and the C
  compiler, for the SDK test.

Every run gets an environment without LETHE_PLUGIN_PATH unless a test
sets it, so that plugins load only from the directories a test names.
"""

import os
import sqlite3
import subprocess
import time

from lethe_testing import (FIXTURE_NOW, LetheTestCase, Result,
                           environment_path, lethe_binary, make_crm_fixture,
                           temporary_folder, write_file)

__all__ = ["FIXTURE_NOW", "LetheTestCase", "bundled_dir", "test_plugin_dir",
           "run", "repl_lines", "crm_database", "fixture_database",
           "temporary_folder", "write_file"]


def bundled_dir():
    return os.path.realpath(environment_path("LETHE_PLUGIN_BUILD_DIR"))


def test_plugin_dir():
    return os.path.realpath(environment_path("LETHE_TEST_PLUGIN_DIR"))


def run(*arguments, env=None, stdin=None, cwd=None, timeout=120):
    """Run lethe with `arguments`; `env` adds variables (None removes one)
    to an environment without LETHE_PLUGIN_PATH; `stdin` is text."""
    arguments = [str(argument) for argument in arguments]
    environment = {key: value for key, value in os.environ.items()
                   if key != "LETHE_PLUGIN_PATH"}
    environment["NO_COLOR"] = "1"
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [lethe_binary(), *arguments], input=stdin or "",
            capture_output=True, text=True, timeout=timeout, cwd=cwd,
            env=environment)
    except subprocess.TimeoutExpired as expired:
        return Result(arguments, None, str(expired.stdout or ""),
                      str(expired.stderr or ""), time.monotonic() - started,
                      True)
    return Result(arguments, completed.returncode, completed.stdout,
                  completed.stderr, time.monotonic() - started, False)


def repl_lines(result):
    """Map the first tab-separated field of each output line of a REPL run
    to the rest of the line."""
    values = {}
    for line in result.stdout.splitlines():
        label, _, rest = line.partition("\t")
        values[label] = rest
    return values


def crm_database(test_case, sql="", name="crm.db"):
    """Create a database with `lethe init` in a temporary folder, add the
    rows of `sql`, and return its path."""
    folder = temporary_folder(test_case)
    path = os.path.join(folder, name)
    result = run("init", path)
    if result.returncode != 0:
        raise AssertionError("lethe init failed:\n" + result.describe())
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(sql)
    finally:
        connection.close()
    return path


def fixture_database(test_case):
    """The shared CRM fixture of lethe_testing in a temporary folder."""
    folder = temporary_folder(test_case)
    return make_crm_fixture(os.path.join(folder, "fixture.db"))
