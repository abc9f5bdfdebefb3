#!/usr/bin/env python3
"""Never lose an answer: under load from 16 kiosk connections, sipasd is
killed with SIGKILL and restarted, PostgreSQL is stopped with
`pg_ctl -m immediate` and started again, and both at once. Afterwards every
response that got 200, 201 or 202 is stored, exactly once and as sent, and
the kiosks' retries of everything else stored nothing twice. Then a
graceful stop with a request stuck in the database."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

CONNECTIONS = 16
KIOSKS = 4
ACKED = (200, 201, 202)


def setUpModule():
    start_world(KIOSKS, ["ht-can-loc", "ht-duc-tho", "ht-huong-son", "ht-ky-anh"])


def tearDownModule():
    stop_world()


class Load:
    """CONNECTIONS kiosk connections, each sending new responses and, like a
    real kiosk, retrying one with the same id until it is acknowledged."""

    def __init__(self):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}         # id -> the response, as sent
        self.sent = {}          # id -> the response, whatever happened
        self.unexpected = []    # statuses no retry should ever see
        self.replies = 0
        self.failures = 0       # no reply, or 503
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(CONNECTIONS)]

    def run(self, i):
        k = kiosk(i % KIOSKS + 1, timeout=10)
        rng = random.Random(i)
        while not self.stop.is_set():
            r = example(overall=rng.randint(1, 5), comment="phiếu %d của máy %d" % (rng.randint(0, 10**9), i))
            with self.lock:
                self.sent[r["id"]] = r
            deadline = None
            while True:
                try:
                    status, _, _ = k.post(r)
                except Exception:
                    status = None
                with self.lock:
                    self.replies += status is not None
                    if status in ACKED:
                        self.acked[r["id"]] = r
                    elif status in (None, 503):
                        self.failures += 1
                    else:
                        self.unexpected.append((r["id"], status))
                if status in ACKED or (status not in (None, 503)):
                    break
                # Once the chaos is over, the retry must succeed soon.
                if self.stop.is_set():
                    deadline = deadline or time.monotonic() + 60
                    if time.monotonic() > deadline:
                        break
                time.sleep(0.2)
        k.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(120)


def kill_daemon():
    W["daemon"].send_signal(signal.SIGKILL)
    W["daemon"].wait(10)


def pg_stop_immediate():
    pgbin = subprocess.run("ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1", shell=True,
                           capture_output=True, text=True).stdout.strip()
    cmd = [pgbin + "/pg_ctl", "-D", W["dir"] + "/pg/data", "-m", "immediate", "-w", "stop"]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True)


def pg_start():
    subprocess.run([SANDBOX, "resume", W["dir"]], check=True)


class Crash(unittest.TestCase):
    def test_1_acknowledged_responses_survive_kills_and_outages(self):
        with Load() as load:
            time.sleep(1.5)
            for _ in range(3):                      # sipasd killed mid-load
                kill_daemon()
                time.sleep(0.5)
                start_daemon()
                time.sleep(1.5)
            for _ in range(2):                      # PostgreSQL crashes
                pg_stop_immediate()
                time.sleep(3)
                pg_start()
                time.sleep(1.5)
            # Both at once; sipasd comes back while the database is down.
            pg_stop_immediate()
            kill_daemon()
            threading.Timer(2.0, pg_start).start()
            start_daemon()
            time.sleep(2)
        wait_spool_empty(60)

        self.assertEqual(load.unexpected, [])
        self.assertGreater(load.failures, 0, "the chaos did not disturb anything")
        self.assertGreater(len(load.acked), 500, "too little load to mean anything")
        rows = {}
        for line in psql("SELECT id, overall, comment FROM responses").splitlines():
            rid, overall, comment = line.split("|", 2)
            rows[rid] = (int(overall), comment)
        for rid, r in load.acked.items():
            self.assertIn(rid, rows, "acknowledged response %s was lost" % rid)
            self.assertEqual(rows[rid], (r["overall"], r["comment"]))
        # Nothing stored that no kiosk sent; the primary key stores each id once.
        self.assertEqual(set(rows) - set(load.sent), set())
        self.assertEqual(int(psql("SELECT count(*) - count(DISTINCT id) FROM responses")), 0)
        print("\n%d responses acknowledged of %d sent, %d failed attempts retried"
              % (len(load.acked), len(load.sent), load.failures), file=sys.stderr)

    def test_2_graceful_stop_answers_what_is_in_flight(self):
        conf = os.path.join(W["dir"], "sipasd.conf")
        with open(conf) as f:
            saved = f.read()
        with open(conf, "w") as f:
            f.write(saved + "shutdown_timeout = 3s\n")
        try:
            W["daemon"].send_signal(signal.SIGTERM)
            W["daemon"].wait(15)
            start_daemon()
            held = example()
            lock = RowLock(held["id"])
            waiter, result = post_in_background(kiosk(1), held)
            time.sleep(0.5)
            start = time.monotonic()
            W["daemon"].send_signal(signal.SIGTERM)
            waiter.join(10)
            # Stuck in the database until the deadline, then spooled: durable.
            self.assertEqual(result["r"][0], 202)
            self.assertEqual(W["daemon"].wait(10), 0)
            self.assertLess(time.monotonic() - start, 4.5)
            lock.release()
        finally:
            with open(conf, "w") as f:
                f.write(saved)
        start_daemon()
        wait_spool_empty()
        self.assertEqual(stored(held["id"]), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
