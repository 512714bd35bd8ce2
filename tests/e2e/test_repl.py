"""The REPL driven in a real pseudo-terminal, and through a pipe."""

import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import termios
import time
import unittest

LETHE = os.environ["LETHE"]


def make_database(folder):
    """A CRM database with a hand-made handful of rows: 3 prospects (ids
    1-3, one named Anna), 1 customer (id 4)."""
    path = os.path.join(folder, "crm.db")
    subprocess.run([LETHE, "init", path], check=True, capture_output=True)
    connection = sqlite3.connect(path)
    connection.executescript("""
        INSERT INTO person (person_id, firstname, lastname, category_idx,
                            registered)
        VALUES (1, 'Anna', 'Prins', 1, '2015-01-01'),
               (2, 'Bram', 'Smit', 1, '2016-01-01'),
               (3, 'Cato', 'Vos', 1, '2017-01-01'),
               (4, 'Dirk', 'Wit', 2, '2018-01-01');
    """)
    connection.commit()
    connection.close()
    return path


class Terminal:
    """The lethe REPL in a pseudo-terminal, read and written like a user."""

    def __init__(self, database, state_folder):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["XDG_STATE_HOME"] = state_folder
            os.environ["TERM"] = "xterm"
            os.execv(LETHE, [LETHE, "repl", "--db", database])
        self.output = b""

    def read_until(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        wanted = text.encode()
        while wanted not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out waiting for {text!r}; output so far:\n"
                    + self.output.decode(errors="replace"))
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError("the REPL ended; output:\n"
                                         + self.output.decode(
                                             errors="replace"))
                self.output += chunk
        found = self.output.index(wanted) + len(wanted)
        seen, self.output = self.output[:found], self.output[found:]
        return seen.decode(errors="replace")

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait_for_line_editor(self, timeout=30):
        """Wait until libedit has put the terminal in raw mode. It prints
        the prompt first, so keys sent as soon as the prompt shows can
        still reach the terminal's canonical mode, which takes Ctrl-D as
        its own end-of-file mark and never passes it on."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.fd)[3] & termios.ICANON:
            if time.monotonic() > deadline:
                raise AssertionError("the REPL did not start line editing")
            time.sleep(0.01)

    def close(self):
        """Leave with Ctrl-D; kill the REPL if it does not end within 30
        seconds (a loaded machine running the sanitizer build can take
        several). Returns the wait status."""
        try:
            self.wait_for_line_editor()
            self.send("\x15\x04")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    return status
                time.sleep(0.05)
            os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
            return status
        finally:
            os.close(self.fd)


class Repl(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="lethe-repl-")
        self.database = make_database(self.folder)
        self.state = os.path.join(self.folder, "state")
        self.terminal = Terminal(self.database, self.state)
        self.terminal.read_until("lethe> ")

    def tearDown(self):
        try:
            self.terminal.close()
        except OSError:
            pass
        shutil.rmtree(self.folder)

    def test_selection_prints_count_and_rows(self):
        self.terminal.send(
            'person:where { { "category", "=", "Prospect" } }\r')
        output = self.terminal.read_until("lethe> ")
        self.assertIn("person: 3 records", output)
        self.assertIn("Anna", output)
        self.assertNotIn("Dirk", output)

    def test_completion_of_entity_method_and_field(self):
        # The terminal redraws completed words in pieces, so the proof is
        # that the completed line runs: without completion it would be
        # "pers:wh { { "first..." and fail.
        for keys in ("pers\t", ":wh\t", ' { { "first\t'):
            self.terminal.send(keys)
            time.sleep(0.3)
        self.terminal.send('", "=", "Anna" } }\r')
        output = self.terminal.read_until("lethe> ")
        self.assertIn("person: 1 records", output)
        self.assertIn("Anna", output)

    def test_completion_of_dot_command(self):
        self.terminal.send(".sch\t")
        time.sleep(0.3)
        self.terminal.send(" person\r")
        output = self.terminal.read_until("lethe> ")
        self.assertIn("key person_id", output)

    def test_multiline_input(self):
        self.terminal.send("local total = 0\rfor i = 1, 3 do\r")
        self.terminal.read_until("...> ")
        self.terminal.send("total = (total or 0) + i\r")
        self.terminal.read_until("...> ")
        self.terminal.send("end print(6)\r")
        output = self.terminal.read_until("lethe> ")
        self.assertIn("6", output)

    def test_error_then_working_line(self):
        self.terminal.send('person:where { { "frstname", "=", "A" } }\r')
        output = self.terminal.read_until("lethe> ")
        self.assertIn("unknown field 'frstname'", output)
        self.assertIn("did you mean 'firstname'", output)
        self.terminal.send("#person:all()\r")
        output = self.terminal.read_until("lethe> ")
        self.assertIn("4", output)

    def test_ctrl_c_cancels_loop(self):
        self.terminal.send("while true do end\r")
        time.sleep(0.5)
        self.terminal.send("\x03")
        output = self.terminal.read_until("lethe> ")
        self.assertIn("interrupted", output)
        self.terminal.send("1 + 41\r")
        output = self.terminal.read_until("lethe> ")
        self.assertIn("42", output)

    def test_ctrl_c_at_prompt_keeps_session(self):
        # Ctrl-C drops a half-typed line, and an unfinished statement at
        # the continuation prompt, and the session goes on.
        self.terminal.wait_for_line_editor()
        self.terminal.send("person:all(")
        self.terminal.send("\x03")
        self.terminal.read_until("lethe> ")
        self.terminal.wait_for_line_editor()
        self.terminal.send("y = {\r")
        self.terminal.read_until("...> ")
        self.terminal.wait_for_line_editor()
        self.terminal.send("\x03")
        self.terminal.read_until("lethe> ")
        self.terminal.wait_for_line_editor()
        self.terminal.send("return y\r")
        self.assertIn("undefined global 'y'",
                      self.terminal.read_until("lethe> "))
        self.terminal.send("6 * 7\r")
        self.assertIn("42", self.terminal.read_until("lethe> "))

    def test_ctrl_c_cancels_query(self):
        # Counting a selection runs SQL each time; a long loop of them is
        # stopped by Ctrl-C inside SQLite or in Lua between the queries.
        self.terminal.send(
            "for i = 1, 200000000 do local n = #person:all() end\r")
        time.sleep(0.5)
        self.terminal.send("\x03")
        output = self.terminal.read_until("lethe> ")
        self.assertIn("interrupted", output)
        self.terminal.send("#person:all()\r")
        self.assertIn("4", self.terminal.read_until("lethe> "))

    def test_history_kept_across_sessions(self):
        self.terminal.send("1 + 2 -- remembered line\r")
        self.terminal.read_until("lethe> ")
        status = self.terminal.close()
        self.assertTrue(os.WIFEXITED(status))
        self.terminal = Terminal(self.database, self.state)
        self.terminal.read_until("lethe> ")
        self.terminal.send("\x1b[A")
        self.terminal.read_until("remembered line")
        self.terminal.send("\r")
        self.assertIn("3", self.terminal.read_until("lethe> "))

    def test_schema_command(self):
        self.terminal.send(".schema person\r")
        output = self.terminal.read_until("lethe> ")
        self.assertIn("person: table person, key person_id", output)
        self.assertIn("blockEmarketing", output)


class ReplPipe(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="lethe-repl-pipe-")
        self.database = make_database(self.folder)

    def tearDown(self):
        shutil.rmtree(self.folder)

    def run_script(self, script):
        return subprocess.run([LETHE, "repl", "--db", self.database],
                              input=script, capture_output=True, text=True,
                              timeout=60)

    def test_set_with_ids_without_rows(self):
        # The fixture has persons 1 to 4: of 1, 4 and 99, two have rows.
        result = self.run_script(
            'return set.from_array("person", { 1, 4, 99 })\n'
            'return set.range("person", 3, 20)\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        first, second = result.stdout.split("person: ")[1:]
        self.assertTrue(first.startswith("3 ids ("), first)
        self.assertIn("Anna", first)
        self.assertIn("Dirk", first)
        self.assertIn("(1 id has no row in person)", first)
        self.assertTrue(second.startswith("18 ids ("), second)
        self.assertIn("Cato", second)
        self.assertIn("(16 ids have no row in person)", second)
        self.assertNotIn("not shown", result.stdout)

    def test_set_larger_than_table_shown(self):
        # Ids 2 to 2^32 - 1: reading them all would take minutes, but the
        # fixture's persons 2, 3 and 4 are found at once.
        result = self.run_script(
            'return set.range("person", 2, 4294967295)\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith("person: 4294967294 ids ("),
                        result.stdout)
        for name in ("Bram", "Cato", "Dirk"):
            self.assertIn(name, result.stdout)
        self.assertIn("(4294967291 ids have no row in person)",
                      result.stdout)

    def test_set_entity_checked(self):
        result = self.run_script('return set.range("persn", 1, 5)\n'
                                 'return set.new(42)\n'
                                 'return #set.from_array("company", { 1 })\n')
        self.assertEqual(result.returncode, 1)
        self.assertIn("unknown entity 'persn'; did you mean 'person'?",
                      result.stderr)
        self.assertIn("expected, got number", result.stderr)
        self.assertEqual(result.stdout, "1\n")

    def test_set_deserialize_round_trip(self):
        result = self.run_script(
            's = set.from_array("person", { 1, 4, 99, 4294967295 })\n'
            'return set.deserialize(s:serialize()) == s\n'
            'return set.deserialize(s:serialize():sub(1, 10))\n')
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "true\n")
        self.assertIn("invalid serialized id set", result.stderr)

    def test_set_bytes_shown(self):
        result = self.run_script(
            's = set.range("person", 1, 100000)\n'
            'print(s:bytes())\n'
            'return s\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        bytes_line, header = result.stdout.splitlines()[:2]
        self.assertEqual(header, f"person: 100000 ids ({bytes_line} bytes)")
        self.assertGreater(int(bytes_line), 0)

    def test_closed_set_shown(self):
        result = self.run_script('s = set.range("person", 1, 5)\n'
                                 's:close()\n'
                                 'return s\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "closed set of person ids\n")

    def test_set_of_selection(self):
        # The fixture's prospects are persons 1 to 3.
        result = self.run_script(
            'p = set.of(person:where { { "category", "=", "Prospect" } })\n'
            'return #p, p:min(), p:max(), p:entity()\n'
            'return set.of(42)\n')
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout.split(), ["3", "1", "3", '"person"'])
        self.assertIn("set.of needs a selection", result.stderr)

    def test_idle_set_packed_and_unpacked(self):
        # Every tenth id from 1 to 2,999,991: 300,000 ids in 46 blocks of
        # 65,536, 8 KiB bitmaps in CRoaring. Once a line has gone by
        # without it, the set is packed: each gap of 9 takes 5 bits, about
        # 187,500 bytes. Its first use unpacks it with the same ids.
        total = sum(range(1, 3000000, 10))
        result = self.run_script(
            's = set.new("activity") for id = 1, 3000000, 10 do '
            's:add(id) end\n'
            'before = s:bytes()\n'
            'print(before, s:bytes(), #s)\n'
            'local sum = 0 for id in s:ids() do sum = sum + id end '
            'print(sum, s:min(), s:max(), s:bytes() == before)\n'
            'print(s:compact(), s:bytes() < before * 0.6)\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        packed_line, used_line, compact_line = result.stdout.splitlines()
        before, packed, count = (int(part) for part in packed_line.split())
        self.assertEqual(count, 300000)
        self.assertGreater(before, 46 * 8192)
        self.assertGreater(packed, 187500)
        self.assertLess(packed, 187500 + 46 * 16 + 1024)
        self.assertEqual(used_line.split(),
                         [str(total), "1", "2999991", "true"])
        self.assertEqual(compact_line.split(), ["true", "true"])

    def test_control_characters_escaped(self):
        connection = sqlite3.connect(self.database)
        connection.execute("UPDATE person SET firstname = 'B' || char(27) "
                           "|| ']0;title' || char(7) WHERE person_id = 2")
        connection.commit()
        connection.close()
        result = self.run_script(
            'return person:where { { "lastname", "=", "Smit" } }\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("B\\x1b]0;title\\x07", result.stdout)
        self.assertNotIn("\x1b", result.stdout)
        self.assertNotIn("\x07", result.stdout)

    def test_script_from_stdin(self):
        result = self.run_script(
            '#person:where { { "category", "=", "Prospect" } }\n'
            'print("done")\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "3\ndone\n")
        self.assertNotIn("lethe>", result.stdout)

    def test_error_sets_exit_status(self):
        result = self.run_script("nosuch.thing\nprint(1)\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn("undefined global 'nosuch'", result.stderr)
        self.assertEqual(result.stdout, "1\n")

    def test_apply_needs_confirmation(self):
        result = self.run_script(
            'apply { select = person:where { { "person_id" , "=", 4 } } }\n')
        self.assertEqual(result.returncode, 1)
        connection = sqlite3.connect(self.database)
        count = connection.execute("SELECT count(*) FROM person").fetchone()
        connection.close()
        self.assertEqual(count[0], 4)


if __name__ == "__main__":
    unittest.main()
