#!/usr/bin/env python3
"""What sipasd does when PostgreSQL misbehaves rather than going away: a
backend that stops answering, an error raised only at COMMIT, a session
setting that changes how values come back. A private PostgreSQL, the real
sipasd, real mutual TLS."""

import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403


CONNECTIONS = 2


def setUpModule():
    start_world(2, ["ht-can-loc", "ht-duc-tho"], "db_connections = %d\n" % CONNECTIONS)


def tearDownModule():
    stop_world()


def daemon_role():
    """The role in sipasd.conf's db line: scripts/sandbox roles made it."""
    with open(os.path.join(W["dir"], "sipasd.conf")) as f:
        conf = f.read()
    for line in conf.splitlines():
        if line.startswith("db = "):
            return dict(kv.split("=", 1) for kv in line[5:].split())["user"]
    raise AssertionError("no db line in sipasd.conf")


def backends():
    """The pids of the backends serving sipasd's connections."""
    out = psql("SELECT pid FROM pg_stat_activity WHERE usename = '%s' "
               "AND backend_type = 'client backend'" % daemon_role())
    return [int(p) for p in out.split()]


def wait_backends(n, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = backends()
        if len(pids) == n:
            return pids
        time.sleep(0.1)
    raise AssertionError("sipasd does not hold %d database connections: %r" % (n, backends()))


def restart_daemon():
    W["daemon"].send_signal(signal.SIGTERM)
    if W["daemon"].wait(30) != 0:
        raise AssertionError("sipasd did not stop cleanly")
    start_daemon()
    wait_backends(CONNECTIONS)


class ErrorAtCommit(unittest.TestCase):
    MARKER = "9.999999"

    def setUp(self):
        # A constraint trigger deferred to COMMIT: the INSERT itself succeeds
        # and returns its rows, the transaction then fails.
        psql("CREATE FUNCTION test_refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
             "BEGIN IF NEW.procedure = '%s' THEN RAISE EXCEPTION 'refused at commit'; END IF; "
             "RETURN NULL; END $$; "
             "CREATE CONSTRAINT TRIGGER test_refuse_at_commit AFTER INSERT ON responses "
             "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
             "EXECUTE FUNCTION test_refuse_at_commit()" % self.MARKER)

    def tearDown(self):
        psql("DROP TRIGGER test_refuse_at_commit ON responses; "
             "DROP FUNCTION test_refuse_at_commit()")

    def test_an_error_at_commit_is_503_and_nothing_is_stored(self):
        k = kiosk(1)
        r = example(procedure=self.MARKER)
        status, _, reply = k.post(r)
        self.assertEqual((status, reply), (503, {"error": "unavailable"}))
        self.assertEqual(stored(r["id"]), 0)
        ok = example()
        self.assertEqual(k.post(ok)[0], 201)
        self.assertEqual(stored(ok["id"]), 1)

    def test_an_error_at_commit_fails_the_whole_transaction_it_was_in(self):
        k = kiosk(1)
        bad, other = example(procedure=self.MARKER), example()
        status, _, reply = k.request("POST", "/v1/responses/batch", [bad, other])
        self.assertEqual(status, 200)
        self.assertEqual(reply[0], {"id": bad["id"], "status": 503, "error": "unavailable"})
        self.assertEqual(stored(bad["id"]), 0)
        # Whether both went in one transaction is the group commit's choice;
        # either way a 201 only for what is stored.
        self.assertEqual(reply[1]["status"] == "stored", stored(other["id"]) == 1, reply[1])


class SessionSettings(unittest.TestCase):
    def setUp(self):
        psql("ALTER ROLE %s SET bytea_output = 'escape'" % daemon_role())
        restart_daemon()

    def tearDown(self):
        psql("ALTER ROLE %s RESET bytea_output" % daemon_role())
        restart_daemon()

    def test_duplicates_are_found_whatever_bytea_output_says(self):
        k = kiosk(1)
        r = example()
        self.assertEqual(k.post(r)[0], 201)
        status, _, reply = k.post(r)
        self.assertEqual((status, reply), (200, {"id": r["id"], "status": "duplicate"}))
        status, _, reply = k.post(dict(r, overall=1))
        self.assertEqual((status, reply), (409, {"id": r["id"], "error": "id_conflict"}))
        self.assertEqual(stored(r["id"]), 1)


if __name__ == "__main__":
    unittest.main()
