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

DB_TIMEOUT = 2
CONNECTIONS = 2


def setUpModule():
    # The kiosk cache trusts an entry for its longest so that the kiosk's
    # own lookup does not reach a stopped backend first.
    # The rollup folds every second, for the slow query's test.
    start_world(2, ["ht-can-loc", "ht-duc-tho"],
                "db_timeout = %ds\ndb_connections = %d\nkiosk_cache_ttl = 10s\n"
                "rollup_interval = 1s\n" % (DB_TIMEOUT, CONNECTIONS))


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


class HungBackend(unittest.TestCase):
    def test_a_stopped_backend_makes_the_response_spooled_within_db_timeout(self):
        k = kiosk(1, timeout=30)
        self.assertEqual(k.post(example())[0], 201)    # the kiosk is cached
        pids = wait_backends(CONNECTIONS)
        before = metric(metrics()[2], "sipasd_db_timeouts_total")
        r = example()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            status, _, reply = k.post(r)
            took = time.monotonic() - start
            self.assertEqual((status, reply), (202, {"id": r["id"], "status": "queued"}))
            # The deadline answered it, not a reply from the database; the
            # upper bound only says it did not wait for the kiosk's timeout.
            self.assertGreaterEqual(took, DB_TIMEOUT - 0.1)
            self.assertLess(took, 20)
            self.assertGreaterEqual(metric(metrics()[2], "sipasd_db_timeouts_total") - before, 1)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        wait_healthy(30)
        wait_spool_empty()
        self.assertEqual(stored(r["id"]), 1)
        self.assertEqual(k.post(r)[:1], (200,))
        after = example()
        self.assertEqual(kiosk(2).post(after)[0], 201)
        self.assertEqual(stored(after["id"]), 1)
        wait_backends(CONNECTIONS)


class TableLock:
    """Another session holding a table in ACCESS EXCLUSIVE mode."""

    def __init__(self, table):
        self.p = subprocess.Popen(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1"], env=W["env"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.p.stdin.write("BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n" % table)
        self.p.stdin.flush()
        if self.p.stdout.readline().strip() != "locked":
            raise AssertionError("could not lock " + table)

    def release(self):
        self.p.stdin.write("ROLLBACK;\n")
        self.p.stdin.close()
        self.p.wait(10)
        self.p.stdout.close()


def rollup_waiting():
    """(pid, query_start) of sipasd's folding while it waits on a lock."""
    return psql("SELECT pid, query_start FROM pg_stat_activity WHERE usename = '%s' "
                "AND wait_event_type = 'Lock' AND query LIKE '%%sipas_rollup_compact%%'"
                % daemon_role())


class SlowQuery(unittest.TestCase):
    def test_the_rollup_may_wait_longer_than_db_timeout_and_keeps_its_connection(self):
        before = metric(metrics()[2], "sipasd_db_timeouts_total")
        lock = TableLock("response_rollup")
        try:
            deadline = time.monotonic() + 10
            while not rollup_waiting() and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertTrue(rollup_waiting(), "the rollup never waited on the lock")
            pids = sorted(backends())
            time.sleep(DB_TIMEOUT + 1)
            # No connection was dropped and opened anew.
            self.assertEqual(sorted(backends()), pids)
            # Kiosks are served meanwhile, by the other connection.
            self.assertEqual(kiosk(1).post(example())[0], 201)
        finally:
            lock.release()
        self.assertEqual(metric(metrics()[2], "sipasd_db_timeouts_total"), before)


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
