"""Apply confirms a plan at a prompt and applies it under the write lock.
When another connection commits between the two, apply stops with
nothing changed; when nothing moved, it applies the confirmed plan.
Lethe runs in a pseudo-terminal so that it waits at its prompt.
"""

import os
import pty
import re
import select
import signal
import time
import unittest

import guard_helpers as gh
import lethe_testing as lt

templates = gh.Templates()


def tearDownModule():
    templates.close()


POLICY = gh.CANARY_POLICY

PROMPT = re.compile(rb"Type the plan digest \(([0-9a-f]+)\)")


class PromptedApply:
    """`lethe apply` waiting at its confirmation prompt in a terminal."""

    def __init__(self, policy, db):
        arguments = [lt.lethe_binary(), "apply", policy, "--db", db, "--now",
                     gh.GUARD_NOW, "--as", gh.USER]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "dumb"
            os.execv(arguments[0], arguments)
        self.output = b""

    def read(self, deadline):
        ready, _, _ = select.select([self.fd], [], [],
                                    max(0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:
            chunk = b""
        self.output += chunk
        return bool(chunk)

    def digest(self, timeout=20):
        """Wait for the prompt and return the digest it shows."""
        deadline = time.monotonic() + timeout
        while not PROMPT.search(self.output):
            if time.monotonic() > deadline or not self.read(deadline):
                raise AssertionError("no confirmation prompt; output:\n"
                                     + self.output.decode(errors="replace"))
        return PROMPT.search(self.output).group(1).decode()

    def answer(self, text, timeout=30):
        """Type `text` and Enter; return the exit status and the output."""
        os.write(self.fd, (text + "\r").encode())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.read(deadline):
            pass
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if not pid:
            os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return status, self.output.decode(errors="replace")


class MovedDatabaseTest(lt.LetheTestCase):

    def prepare(self):
        folder = lt.temporary_folder(self)
        db = templates.copy("guard", folder)
        gh.add_canaries(db)
        policy = lt.write_file(folder, "erase.lua", POLICY)
        return db, policy

    def test_commit_after_prompt_stops(self):
        db, policy = self.prepare()
        run = PromptedApply(policy, db)
        digest = run.digest()
        lt.execute(db, "INSERT INTO person (person_id, firstname, lastname, "
                       "category_idx, registered) VALUES (31, 'Second', "
                       "'zqlast9921', 1, '2015-01-01 00:00:00')")
        status, output = run.answer(digest)
        self.assertTrue(os.WIFEXITED(status), output)
        self.assertEqual(os.WEXITSTATUS(status), 1, output)
        self.assertIn("the database changed since the plan was shown", output)
        remaining = lt.query_ids(db, "SELECT person_id FROM person WHERE "
                                     "person_id IN (30, 31)")
        self.assertEqual(remaining, [30, 31])

    def test_unmoved_database_applied(self):
        db, policy = self.prepare()
        run = PromptedApply(policy, db)
        status, output = run.answer(run.digest())
        self.assertTrue(os.WIFEXITED(status), output)
        self.assertEqual(os.WEXITSTATUS(status), 0, output)
        self.assertIn("Erasure verified", output)
        remaining = lt.query_ids(db, "SELECT person_id FROM person WHERE "
                                     "person_id = 30")
        self.assertEqual(remaining, [])


if __name__ == "__main__":
    unittest.main()
