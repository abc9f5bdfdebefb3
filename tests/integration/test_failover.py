#!/usr/bin/env python3
"""sipasd under PostgreSQL failover, on loopback: a primary and a
synchronous standby (scripts/sandbox standby), sipasd pointed at both with
a multi-host connection string and target_session_attrs=read-write, and 16
kiosk connections of load. Every response a kiosk was answered 200, 201 or
202 for is on whichever server is the primary at the end, once; no id is
answered 201 twice. Figures are printed, not bounded: the machine is
shared."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

KIOSKS = 4


def setUpModule():
    start_world(KIOSKS, ["ht-can-loc", "ht-duc-tho", "ht-ky-anh", "ht-huong-son"],
                "db_timeout = 3s\n")
    W["daemon"].send_signal(signal.SIGTERM)
    W["daemon"].wait(30)
    subprocess.run([SANDBOX, "standby", W["dir"]], check=True)
    set_db(["pg", "pg2"])
    start_daemon()


def set_db(hosts):
    conf = os.path.join(W["dir"], "sipasd.conf")
    with open(conf) as f:
        lines = [l for l in f if not l.startswith("db = ")]
    lines.append("db = host=%s dbname=sipas user=sipasd target_session_attrs=read-write\n"
                 % ",".join("%s/%s" % (W["dir"], h) for h in hosts))
    with open(conf, "w") as f:
        f.writelines(lines)


def restart_daemon():
    W["daemon"].send_signal(signal.SIGTERM)
    W["daemon"].wait(30)
    start_daemon()


def tearDownModule():
    stop_world()


def psql_on(node, sql):
    env = dict(W["env"], PGHOST="%s/%s" % (W["dir"], node))
    r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       env=env, capture_output=True, text=True, check=True)
    return r.stdout.strip()


def sipasd_backends(node):
    return int(psql_on(node, "SELECT count(*) FROM pg_stat_activity "
                       "WHERE usename = 'sipasd'"))


def sandbox(*args):
    subprocess.run([SANDBOX, args[0], W["dir"], *args[1:]], check=True)


def wait_until(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(what + "; log:\n" + open(W["log"]).read()[-4000:])
        time.sleep(0.2)


class Failover(unittest.TestCase):
    """In order: each leaves the servers as the next expects."""

    def test_0_first_host_that_never_answers_is_passed_over(self):
        # The first host of the list accepts connections and never says a
        # word, as a server behind a network that drops its replies does:
        # each host gets its own db_timeout, so that the second is tried
        # (libpq's asynchronous connect applies no connect_timeout).
        hang = os.path.join(W["dir"], "hang")
        os.mkdir(hang)
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(os.path.join(hang, ".s.PGSQL.5432"))
        os.chmod(os.path.join(hang, ".s.PGSQL.5432"), 0o777)   # sipasd runs as nobody
        listener.listen(64)
        try:
            set_db(["hang", "pg", "pg2"])
            restart_daemon()
            k = kiosk(1)
            self.assertEqual(k.post(example())[0], 201)
            k.close()
        finally:
            listener.close()
            set_db(["pg", "pg2"])
            restart_daemon()

    def test_1_read_only_server_is_left_and_its_responses_spooled(self):
        # The primary refuses writes while sipasd is connected to it, as
        # a demoted or fenced server does (SQLSTATE 25006): what it
        # refuses is spooled (202), the connections are dropped, and none
        # comes back until a server takes writes again.
        before = open(W["log"]).read()
        psql_on("pg", "ALTER SYSTEM SET default_transaction_read_only = on")
        psql_on("pg", "SELECT pg_reload_conf()")
        time.sleep(0.5)
        rs = [example() for _ in range(5)]
        k = kiosk(1)
        statuses = [k.post(r)[0] for r in rs]
        k.close()
        self.assertEqual(statuses, [202] * 5)
        wait_until("the read-only server still serves sipasd",
                   lambda: admin("/healthz")[0] == 503, 30)
        psql_on("pg", "ALTER SYSTEM RESET default_transaction_read_only")
        psql_on("pg", "SELECT pg_reload_conf()")
        wait_healthy(30)
        wait_spool_empty(60)
        for r in rs:
            self.assertEqual(stored(r["id"]), 1)
        self.assertIn("no longer takes writes", open(W["log"]).read()[len(before):])

    def test_2_stopped_synchronous_standby_spools_instead_of_hanging(self):
        # The primary waits for its synchronous standby to flush each
        # commit: with the standby stopped, nothing commits, and sipasd's
        # db_timeout answers 202 rather than leave the kiosks waiting.
        load = Load(KIOSKS)
        time.sleep(2)
        sandbox("stop", "pg2")
        stopped = time.monotonic()
        wait_until("nothing was spooled with the standby stopped",
                   lambda: load.count(202, stopped) >= LOAD_CONNECTIONS, 60)
        # Several db_timeouts go by: each one that gives up a connection
        # must take its backend along, or the backends left waiting for
        # the standby pile up to max_connections and lock every client out.
        while time.monotonic() < stopped + 20:
            time.sleep(1)
        backends = sipasd_backends("pg")
        # Nothing leaves the spool while the standby is away: a replayed
        # response found on the primary is there only (its wait for the
        # standby was given up), not yet stored as 201 promises. Each 202
        # was answered after its record was written.
        answered = load.count(202, stopped)
        time.sleep(5)
        spooled = metric(metrics()[2], "sipasd_spool_depth")
        self.assertGreaterEqual(spooled, answered, "responses left the spool while the "
                                "synchronous standby was stopped")
        sandbox("resume", "pg2")
        resumed = time.monotonic()
        wait_until("nothing was stored after the standby came back",
                   lambda: load.first(201, resumed + 1) is not None, 60)
        load.end()
        wait_spool_empty(120)
        with load.lock:
            waits = [w for t, s, w in load.replies if s == 202 and t > stopped]
        print("\nstandby stopped: %d responses spooled (202), the slowest "
              "answered in %.1f s (db_timeout 3 s); storing again %.1f s after "
              "the standby resumed; %d sipasd backends on the primary 20 s after "
              "the stop" % (len(waits), max(waits), load.first(201, resumed) - resumed,
                            backends))
        load.check_once(self, "%s/pg" % W["dir"])
        acked = load.acknowledged()
        self.assertEqual(count_stored(acked, "%s/pg" % W["dir"]), len(acked))
        # Not hanging: well within the kiosks' own 60 s timeout.
        self.assertLess(max(waits), 30)
        # db_connections (4), and those being given up at that moment.
        self.assertLessEqual(backends, 2 * 4, "sipasd's backends after 20 s "
                             "of a stopped standby")

    def test_2b_commit_whose_wait_for_the_standby_is_cancelled_is_spooled(self):
        # A cancelled wait for the synchronous standby (pg_cancel_backend,
        # or a statement cancelled by anyone) ends in success with only a
        # WARNING: the commit is local, possibly on no standby. sipasd must
        # not answer 201 for it, but 202, and store it again on replay.
        sandbox("stop", "pg2")
        r = example()
        k = kiosk(1, timeout=60)
        since = os.path.getsize(W["log"])
        t, result = post_in_background(k, r)
        waiting = "FROM pg_stat_activity WHERE wait_event = 'SyncRep' " \
                  "AND query LIKE 'INSERT INTO responses%'"
        wait_until("the insert does not wait for the standby",
                   lambda: psql_on("pg", "SELECT count(*) " + waiting) != "0", 10)
        psql_on("pg", "SELECT pg_cancel_backend(pid) " + waiting)
        t.join(30)
        k.close()
        self.assertEqual(result["r"][0], 202, result["r"])
        wait_log("the server warns", since)
        # On the primary only: it stays in the spool until the standby
        # has it.
        time.sleep(3)
        self.assertGreaterEqual(metric(metrics()[2], "sipasd_spool_depth"), 1)
        sandbox("resume", "pg2")
        wait_healthy(30)
        wait_spool_empty(60)
        self.assertEqual(count_stored([r["id"]], "%s/pg2" % W["dir"]), 1)

    def test_3_primary_lost_standby_promoted_nothing_acknowledged_lost(self):
        load = Load(KIOSKS)
        time.sleep(3)
        sandbox("crash", "pg")
        crashed = time.monotonic()
        time.sleep(2)
        sandbox("promote")
        promoted = time.monotonic()
        wait_until("sipasd does not write to the promoted standby",
                   lambda: load.first(201, promoted) is not None, 60)
        writing = load.first(201, promoted)
        time.sleep(2)
        load.end()
        wait_healthy(30)
        wait_spool_empty(120)
        print("\nfailover: primary killed, standby promoted %.1f s later; "
              "sipasd stored on it %.1f s after the promotion; %d answered "
              "202 (spooled) from the kill on; %d acknowledged in all"
              % (promoted - crashed, writing - promoted, load.count(202, crashed),
                 len(load.acknowledged())))
        load.check_once(self, "%s/pg2" % W["dir"])
        acked = load.acknowledged()
        self.assertGreater(load.count(202, crashed), 0)
        self.assertEqual(count_stored(acked, "%s/pg2" % W["dir"]), len(acked))


if __name__ == "__main__":
    unittest.main(verbosity=2)
