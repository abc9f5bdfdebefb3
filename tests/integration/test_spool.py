#!/usr/bin/env python3
"""The spool never stops, never drops, never lies; revocation holds while the
database is away. sipasd is cut off from PostgreSQL (its role may not log in
and its sessions are ended) while the administrator can still reach it, as in
a network partition; responses answered 202 meanwhile are replayed when it
is back. A record that cannot be stored is set aside, with its bytes and the
reason, listed by sipasd --spool-inspect, and never stops the records after
it."""

import hashlib
import json
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403


def setUpModule():
    # Read the registry every second.
    start_world(3, ["ht-can-loc", "ht-duc-tho", "ht-ky-anh"], "kiosk_cache_ttl = 1s\n")


def tearDownModule():
    stop_world()


def cut_off():
    """sipasd can no longer reach the database; the administrator can. A
    response stored first shows the registry has been read."""
    if kiosk(1).post(example())[0] != 201:
        raise AssertionError("sipasd does not store responses before the cut")
    psql("ALTER ROLE sipasd NOLOGIN")
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'sipasd'")
    deadline = time.monotonic() + 20
    while admin("/healthz")[0] != 503:
        if time.monotonic() > deadline:
            raise AssertionError("sipasd still reaches the database")
        time.sleep(0.1)


def reconnect():
    psql("ALTER ROLE sipasd LOGIN")
    wait_healthy(30)


def restart_daemon():
    W["daemon"].send_signal(signal.SIGTERM)
    W["daemon"].wait(30)
    start_daemon()


def spool_path():
    return os.path.join(W["dir"], "spool", "responses.spool")


def read_records(path):
    """The payloads of a spool file, parsed."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off < len(data):
        (n,) = struct.unpack_from("<I", data, off + 4)
        out.append(json.loads(data[off + 16:off + 16 + n]))
        off += 16 + n
    return out


def write_records(path, payloads):
    with open(path, "wb") as f:
        for p in payloads:
            raw = json.dumps(p, separators=(",", ":")).encode()
            f.write(b"SPL1" + struct.pack("<I", len(raw)) + hashlib.sha256(raw).digest()[:8] + raw)


def inspect():
    r = subprocess.run([SIPASD, "--spool-inspect", "-c", os.path.join(W["dir"], "sipasd.conf")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("sipasd --spool-inspect failed: " + r.stderr)
    return [json.loads(line) for line in r.stdout.splitlines()]


def set_aside_total():
    return metric(metrics()[2], "sipasd_spool_set_aside_total")


def aside_for(rid):
    return [e for e in inspect() if e["state"] == "set aside"
            and (e.get("record") or {}).get("id") == rid]


def post_all(k, rs):
    for r in rs:
        status, _, reply = k.post(r)
        if status != 202:
            raise AssertionError("expected 202 for %s, got %d %r" % (r["id"], status, reply))


class Spool(unittest.TestCase):
    def test_1_a_record_that_cannot_be_read_back_is_set_aside_and_the_next_stored(self):
        k = kiosk(1)
        first, last = example(), example()
        cut_off()
        post_all(k, [first, last])
        W["daemon"].send_signal(signal.SIGTERM)
        W["daemon"].wait(30)
        # A record written for a questionnaire that is gone by the time it
        # is replayed, between two good ones.
        recs = read_records(spool_path())
        self.assertEqual([r["id"] for r in recs], [first["id"], last["id"]])
        gone = dict(recs[0], id=str(uuid.uuid4()), questionnaire="sipas-2019")
        write_records(spool_path(), [recs[0], gone, recs[1]])
        psql("ALTER ROLE sipasd LOGIN")
        start_daemon()
        wait_spool_empty()
        self.assertEqual(stored(first["id"]), 1)
        self.assertEqual(stored(last["id"]), 1)
        self.assertEqual(set_aside_total(), 1)
        kept = aside_for(gone["id"])
        self.assertEqual(len(kept), 1, inspect())
        self.assertIn("cannot be read back", kept[0]["reason"])
        self.assertEqual(kept[0]["record"]["questionnaire"], "sipas-2019")

    def test_2_an_id_stored_meanwhile_with_other_content_is_set_aside_not_dropped(self):
        k = kiosk(1)
        r, after = example(), example()
        before = set_aside_total()
        cut_off()
        post_all(k, [r, after])
        psql("INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id, "
             "questionnaire_id, submitted_at, answers) SELECT '%s', '\\x00', id, center_id, 1, 1, "
             "now(), '{}' FROM kiosks WHERE code = 'K1'" % r["id"])
        reconnect()
        wait_spool_empty()
        self.assertEqual(stored(after["id"]), 1)
        self.assertEqual(psql("SELECT encode(content_hash, 'hex') FROM responses WHERE id = '%s'"
                              % r["id"]), "00")
        self.assertEqual(set_aside_total(), before + 1)
        kept = aside_for(r["id"])
        self.assertEqual(len(kept), 1, inspect())
        self.assertIn("id conflict", kept[0]["reason"])
        self.assertEqual(kept[0]["record"]["comment"], r["comment"])

    def test_3_a_record_the_database_refuses_is_set_aside_and_the_others_stored(self):
        k = kiosk(1)
        with refusing("POISON.1", "'poisoned response %', NEW.id"):
            a, bad, b = example(), example(procedure="POISON.1"), example()
            before = set_aside_total()
            cut_off()
            post_all(k, [a, bad, b])
            reconnect()
            wait_spool_empty()
            self.assertEqual(stored(a["id"]), 1)
            self.assertEqual(stored(b["id"]), 1)
            self.assertEqual(set_aside_total(), before + 1)
            kept = aside_for(bad["id"])
            self.assertEqual(len(kept), 1, inspect())
            self.assertIn("poisoned response", kept[0]["reason"])

    def test_4_a_replay_that_fails_for_a_while_backs_off_and_then_stores_everything(self):
        k = kiosk(1)
        x, y = example(procedure="BUSY.1"), example()
        with refusing("BUSY.1", "'try again' USING ERRCODE = '40001'"):
            cut_off()
            post_all(k, [x, y])
            since = os.path.getsize(W["log"])
            reconnect()
            time.sleep(8)
            with open(W["log"]) as f:
                f.seek(since)
                failures = f.read().count("replaying the spool failed")
            # 1, 2 and 4 s apart: a handful, not one per round trip.
            self.assertGreaterEqual(failures, 2)
            self.assertLessEqual(failures, 5)
        wait_spool_empty(45)
        self.assertEqual(stored(x["id"]), 1)
        self.assertEqual(stored(y["id"]), 1)

    def test_5_revocation_holds_while_the_database_is_away(self):
        restart_daemon()
        k2, k3 = kiosk(2), kiosk(3)
        self.assertEqual(k3.post(example())[0], 201)
        cut_off()
        # K2 has not been seen since sipasd started: it is served all the same.
        early = example()
        post_all(k2, [early])
        # K3 is revoked while sipasd cannot see it; what it sends after that
        # is answered 202 (sipasd cannot know) but never stored.
        sipas("kiosk", "revoke", "K3")
        stolen = example()
        post_all(k3, [stolen])
        # A reload does not forget the registry.
        since = os.path.getsize(W["log"])
        W["daemon"].send_signal(signal.SIGHUP)
        wait_log("reloaded", since)
        late = example()
        post_all(k2, [late])
        before = set_aside_total()
        reconnect()
        wait_spool_empty()
        self.assertEqual(stored(early["id"]), 1)
        self.assertEqual(stored(late["id"]), 1)
        self.assertEqual(stored(stolen["id"]), 0)
        self.assertEqual(set_aside_total(), before + 1)
        kept = aside_for(stolen["id"])
        self.assertEqual(len(kept), 1, inspect())
        self.assertIn("revoked", kept[0]["reason"])
        self.assertEqual(k3.post(example())[:1], (403,))

    def test_6_the_registry_is_trusted_offline_for_kiosk_offline_ttl_only(self):
        k = kiosk(2)
        with configured("kiosk_offline_ttl = 10s\n"):
            cut_off()
            try:
                self.assertEqual(k.post(example())[0], 202)
                time.sleep(11)
                status, headers, reply = k.post(example())
                self.assertEqual((status, reply), (503, {"error": "unavailable"}))
            finally:
                reconnect()
            wait_spool_empty()
            self.assertEqual(k.post(example())[0], 201)

    def test_5b_a_revocation_during_an_outage_shorter_than_the_registry_interval_holds(self):
        with configured("kiosk_cache_ttl = 10s\n"):
            k1 = kiosk(1)
            cut_off()
            stolen = example()
            try:
                psql("UPDATE kiosks SET status = 'revoked', revoked_at = now() WHERE code = 'K1'")
                post_all(k1, [stolen])
            finally:
                reconnect()
            deadline = time.monotonic() + 30
            while not aside_for(stolen["id"]) and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual(stored(stolen["id"]), 0)
            self.assertEqual(len(aside_for(stolen["id"])), 1)
            psql("UPDATE kiosks SET status = 'active', revoked_at = NULL WHERE code = 'K1'")

    def test_3b_an_unreadable_record_just_before_a_refused_one_sets_each_aside_once(self):
        k = kiosk(1)
        with refusing("POISON.2", "'poisoned response %', NEW.id"):
            a, bad, b = example(), example(procedure="POISON.2"), example()
            cut_off()
            post_all(k, [a, bad, b])
            W["daemon"].send_signal(signal.SIGTERM)
            W["daemon"].wait(30)
            recs = read_records(spool_path())
            gone = dict(recs[0], id=str(uuid.uuid4()), questionnaire="sipas-2019")
            write_records(spool_path(), recs[:-3] + [recs[-3], gone] + recs[-2:])
            psql("ALTER ROLE sipasd LOGIN")
            start_daemon()
            wait_spool_empty()
            time.sleep(2)
            self.assertEqual(stored(a["id"]), 1)
            self.assertEqual(stored(b["id"]), 1)
            self.assertEqual(len(aside_for(gone["id"])), 1)
            self.assertEqual(len(aside_for(bad["id"])), 1)

    def test_4b_an_error_that_concerns_every_record_sets_none_aside(self):
        k = kiosk(1)
        rs = [example(), example()]
        before = set_aside_total()
        cut_off()
        post_all(k, rs)
        # The database refuses every insert for a while (a grant lost in
        # a migration, say). A read-only server (25006) is not this: its
        # connection is dropped and the replay retried (test_failover.py).
        psql("REVOKE INSERT ON responses FROM sipas_ingest")
        try:
            since = os.path.getsize(W["log"])
            reconnect()
            wait_log("concerns every record (SQLSTATE 42501)", since, 15)
        finally:
            psql("GRANT INSERT ON responses TO sipas_ingest")
        wait_healthy(30)
        wait_spool_empty(60)
        for r in rs:
            self.assertEqual(stored(r["id"]), 1)
        self.assertEqual(set_aside_total(), before)

    def test_7_a_restart_while_the_database_is_away_serves_from_what_was_kept(self):
        k = kiosk(2)
        state = os.path.join(W["dir"], "state")
        self.assertTrue(os.path.getsize(os.path.join(state, "catalog.json")) > 0)
        self.assertTrue(os.path.getsize(os.path.join(state, "registry.json")) > 0)
        cut_off()
        W["daemon"].send_signal(signal.SIGTERM)
        W["daemon"].wait(30)
        start_unhealthy()
        self.assertEqual(admin("/healthz")[0], 503)
        # A balancer keeps it in service: it answers kiosks (202).
        self.assertEqual(admin("/readyz"), (200, {"status": "ready"}))
        r = example()
        post_all(k, [r])
        reconnect()
        wait_spool_empty()
        self.assertEqual(stored(r["id"]), 1)
        self.assertEqual(k.post(example())[0], 201)

    def test_8_a_first_start_while_the_database_is_away_says_so_and_waits(self):
        cut_off()
        W["daemon"].send_signal(signal.SIGTERM)
        W["daemon"].wait(30)
        state = os.path.join(W["dir"], "state")
        for name in os.listdir(state):
            os.unlink(os.path.join(state, name))
        since = os.path.getsize(W["log"])
        start_unhealthy()
        wait_log("first start", since)
        status, health = admin("/healthz")
        self.assertEqual(status, 503)
        self.assertIn("catalog", health["reason"])
        # Nothing to answer kiosks with: not ready either.
        status, ready = admin("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("catalog", ready["reason"])
        status, _, reply = kiosk(2).post(example())
        self.assertEqual((status, reply), (503, {"error": "unavailable"}))
        reconnect()
        self.assertEqual(kiosk(2).post(example())[0], 201)
        self.assertTrue(os.path.exists(os.path.join(state, "catalog.json")))

    def test_9_a_catalog_changed_while_sipasd_was_stopped_is_served_after_a_restart(self):
        W["daemon"].send_signal(signal.SIGTERM)
        W["daemon"].wait(30)
        psql("INSERT INTO service_areas (code, name_vi, name_en) "
             "VALUES ('thu-nghiem', 'Thử nghiệm', 'Trial')")
        start_daemon()
        status, _, reply = kiosk(2).post(example(service_area="thu-nghiem"))
        self.assertEqual(status, 201, reply)


class refusing:
    """A trigger that raises for responses of one procedure code."""

    def __init__(self, procedure, exception):
        self.procedure, self.exception = procedure, exception

    def __enter__(self):
        psql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "RAISE EXCEPTION %s; END $$; "
             "CREATE TRIGGER refuse BEFORE INSERT ON responses FOR EACH ROW "
             "WHEN (NEW.procedure = '%s') EXECUTE FUNCTION refuse()"
             % (self.exception, self.procedure))

    def __exit__(self, *exc):
        psql("DROP TRIGGER refuse ON responses; DROP FUNCTION refuse()")


class configured:
    """sipasd restarted with more configuration, and back afterwards."""

    def __init__(self, extra):
        self.conf = os.path.join(W["dir"], "sipasd.conf")
        self.extra = extra

    def __enter__(self):
        with open(self.conf) as f:
            self.saved = f.read()
        keys = [line.split("=")[0].strip() for line in self.extra.splitlines()]
        kept = [line for line in self.saved.splitlines(True)
                if line.split("=")[0].strip() not in keys]
        with open(self.conf, "w") as f:
            f.write("".join(kept) + self.extra)
        restart_daemon()

    def __exit__(self, *exc):
        with open(self.conf, "w") as f:
            f.write(self.saved)
        restart_daemon()


def start_unhealthy():
    """Starts sipasd and waits for its admin listener, healthy or not."""
    with open(W["log"], "a") as log:
        W["daemon"] = subprocess.Popen(os.environ.get("SIPASD_WRAPPER", "").split() +
                                       [SIPASD, "-c", os.path.join(W["dir"], "sipasd.conf")],
                                       stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            admin("/healthz")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError("sipasd does not answer; log:\n" + open(W["log"]).read())
            time.sleep(0.1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
