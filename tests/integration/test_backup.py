#!/usr/bin/env python3
"""The backup of docs/operations.md ("Back up and restore"), run against
the world's private cluster: continuous WAL archiving, a base backup with
pg_basebackup, responses stored through sipasd before and after a moment,
and a point-in-time restore to that moment in a new data directory, which
holds exactly the responses stored before it."""

import glob
import os
import sys
import tarfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


def as_pg(*cmd):
    """initdb, postgres and their tools refuse to run as root."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run(prefix + list(cmd), check=True, capture_output=True, text=True)


def give_to_pg(path):
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "postgres", path], check=True)


def setUpModule():
    start_world(1, ["ht-can-loc"])
    W["wal"] = os.path.join(W["dir"], "backup", "wal")
    os.makedirs(W["wal"])
    give_to_pg(os.path.join(W["dir"], "backup"))
    with open(os.path.join(W["dir"], "pg", "data", "postgresql.conf"), "a") as f:
        f.write("archive_mode = on\narchive_command = 'test ! -f %s/%%f && cp %%p %s/%%f'\n"
                % (W["wal"], W["wal"]))
    # archive_mode takes a restart; sipasd reconnects by itself.
    subprocess.run([SANDBOX, "stop", W["dir"], "pg"], check=True)
    subprocess.run([SANDBOX, "resume", W["dir"], "pg"], check=True)
    wait_healthy(30)


def tearDownModule():
    restored = os.path.join(W["dir"], "restored", "data")
    if os.path.exists(os.path.join(restored, "postmaster.pid")):
        as_pg(os.path.join(PGBIN, "pg_ctl"), "-D", restored, "-m", "fast", "-w", "stop")
    stop_world()


def store(n):
    k = kiosk(1)
    rs = [example() for _ in range(n)]
    statuses = [k.post(r)[0] for r in rs]
    k.close()
    if statuses != [201] * n:
        raise AssertionError("not stored: %s" % statuses)
    return [r["id"] for r in rs]


class Backup(unittest.TestCase):

    def test_point_in_time_restore_holds_what_was_stored_before_the_target(self):
        base = os.path.join(W["dir"], "backup", "base")
        before_backup = store(3)
        as_pg(os.path.join(PGBIN, "pg_basebackup"), "-h", W["dir"] + "/pg", "-U", "sipas",
              "-D", base, "-Ft", "-z", "-X", "none", "-c", "fast")
        after_backup = store(4)
        time.sleep(1.1)     # the target falls between two commits, a second apart
        target = psql("SELECT now()")
        time.sleep(1.1)
        after_target = store(5)
        # The segment holding the last commits, archived.
        segment = psql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        psql("SELECT pg_switch_wal()")
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(W["wal"], segment)):
            if time.monotonic() > deadline:
                raise AssertionError("WAL segment %s not archived" % segment)
            time.sleep(0.2)

        # The procedure of docs/operations.md, in a new data directory.
        restored = os.path.join(W["dir"], "restored")
        data = os.path.join(restored, "data")
        os.makedirs(data, mode=0o700)
        with tarfile.open(os.path.join(base, "base.tar.gz")) as t:
            t.extractall(data)
        open(os.path.join(data, "recovery.signal"), "w").close()
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("unix_socket_directories = '%s'\narchive_mode = off\n"
                    "restore_command = 'cp %s/%%f %%p'\nrecovery_target_time = '%s'\n"
                    "recovery_target_action = 'promote'\n" % (restored, W["wal"], target))
        give_to_pg(restored)
        os.chmod(data, 0o700)
        as_pg(os.path.join(PGBIN, "pg_ctl"), "-D", data, "-l", os.path.join(restored, "log"),
              "-w", "start")
        env = dict(W["env"], PGHOST=restored)

        def ask(sql):
            return subprocess.run(["psql", "-XAtq", "-c", sql], env=env, capture_output=True,
                                  text=True).stdout.strip()
        deadline = time.monotonic() + 60
        while ask("SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise AssertionError("the restore did not end; its log:\n"
                                     + open(os.path.join(restored, "log")).read())
            time.sleep(0.2)
        self.assertEqual(count_stored(before_backup + after_backup, restored), 7)
        self.assertEqual(count_stored(after_target, restored), 0)
        # The live database still has everything.
        self.assertEqual(count_stored(before_backup + after_backup + after_target), 12)


if __name__ == "__main__":
    unittest.main(verbosity=2)
