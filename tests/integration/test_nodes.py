#!/usr/bin/env python3
"""Several sipasd on one database, on loopback: node a (the world's daemon)
and node b, each with its own ports, spool and state, both folding the
rollup every second, and HAProxy (mode tcp, a health check on each admin
listener's /healthz) in front of both. Node a connects as its own role,
sipasd_a, so that it alone can be cut off from the database."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

KIOSKS = 4
HAPROXY = "/usr/sbin/haproxy"

B = {}          # node b: port, admin_port, dir, conf, log, daemon
HA = {}         # haproxy: port, conf, process


def node_conf(name, port, admin_port, spool, state, extra=""):
    """The world's configuration with another node's ports, directories and
    name."""
    with open(os.path.join(W["dir"], "sipasd.conf")) as f:
        lines = [l for l in f if not l.split(" ")[0] in
                 ("listen", "admin_listen", "spool_dir", "state_dir", "node_name")]
    # Node a alone connects as sipasd_a.
    lines = [l.replace("user=sipasd_a\n", "user=sipasd\n") for l in lines]
    lines += ["listen = 127.0.0.1:%d\n" % port, "admin_listen = 127.0.0.1:%d\n" % admin_port,
              "spool_dir = %s\n" % spool, "state_dir = %s\n" % state,
              "node_name = %s\n" % name, extra]
    path = os.path.join(W["dir"], "sipasd-%s.conf" % name)
    with open(path, "w") as f:
        f.writelines(lines)
    return path


def own_dirs(*dirs):
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(d, "nobody")


def admin_at(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body


def start_b():
    with open(B["log"], "a") as log:
        B["daemon"] = subprocess.Popen([SIPASD, "-c", B["conf"]], stdout=log,
                                       stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            if admin_at(B["admin_port"], "/healthz")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("node b did not become healthy:\n" + open(B["log"]).read())
        time.sleep(0.1)


def stop_b():
    if B.get("daemon") is not None and B["daemon"].poll() is None:
        B["daemon"].send_signal(signal.SIGTERM)
        B["daemon"].wait(60)


def haproxy_conf():
    """The shape of etc/haproxy-sipasd.cfg, on the test's ports, checking
    every 200 ms."""
    return """global
    maxconn 2000
defaults
    mode tcp
    timeout connect 2s
    timeout client 90s
    timeout server 90s
    retries 2
    option redispatch
frontend kiosks
    bind 127.0.0.1:%d
    default_backend sipasd
backend sipasd
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 2 rise 2 on-marked-down shutdown-sessions
    server a 127.0.0.1:%d check port %d
    server b 127.0.0.1:%d check port %d
""" % (HA["port"], W["port"], W["admin_port"], B["port"], B["admin_port"])


def setUpModule():
    start_world(KIOSKS, ["ht-can-loc", "ht-duc-tho", "ht-ky-anh", "ht-huong-son"],
                "node_name = a\nrollup_interval = 1s\n")
    W["daemon"].send_signal(signal.SIGTERM)
    W["daemon"].wait(30)
    psql("CREATE ROLE sipasd_a LOGIN IN ROLE sipas_ingest")
    conf = os.path.join(W["dir"], "sipasd.conf")
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("user=sipasd\n", "user=sipasd_a\n"))
    start_daemon()
    B["port"], B["admin_port"] = free_port(), free_port()
    B["spool"], B["state"] = os.path.join(W["dir"], "spool-b"), os.path.join(W["dir"], "state-b")
    own_dirs(B["spool"], B["state"])
    B["conf"] = node_conf("b", B["port"], B["admin_port"], B["spool"], B["state"])
    B["log"] = os.path.join(W["dir"], "sipasd-b.log")
    start_b()


def tearDownModule():
    if HA.get("process") is not None:
        HA["process"].terminate()
        HA["process"].wait(10)
    stop_b()
    stop_world()


def start_haproxy():
    HA["port"] = free_port()
    HA["conf"] = os.path.join(W["dir"], "haproxy.cfg")
    with open(HA["conf"], "w") as f:
        f.write(haproxy_conf())
    HA["log"] = open(os.path.join(W["dir"], "haproxy.log"), "w")
    HA["process"] = subprocess.Popen([HAPROXY, "-db", "-f", HA["conf"]], stdout=HA["log"],
                                     stderr=subprocess.STDOUT)
    k = kiosk(1, port=HA["port"])
    deadline = time.monotonic() + 30
    while True:
        try:
            if k.request("GET", "/v1/questionnaire")[0] == 200:
                break
        except (OSError, http.client.HTTPException):
            k.close()
        if time.monotonic() > deadline:
            raise AssertionError("HAProxy does not pass kiosks through")
        time.sleep(0.2)
    k.close()


def cut_off_a():
    """Node a can no longer reach the database; node b and the
    administrator still can."""
    psql("ALTER ROLE sipasd_a NOLOGIN")
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'sipasd_a'")
    deadline = time.monotonic() + 30
    while admin("/healthz")[0] != 503:
        if time.monotonic() > deadline:
            raise AssertionError("node a still reaches the database")
        time.sleep(0.1)


def spooled_on_a(n):
    """n responses posted to node a while it is cut off: answered 202."""
    k = kiosk(2)
    rs = [example() for _ in range(n)]
    statuses = [k.post(r)[0] for r in rs]
    k.close()
    if statuses != [202] * n:
        raise AssertionError("node a answered %s, not 202" % statuses)
    return [r["id"] for r in rs]


def kill_a():
    W["daemon"].kill()
    W["daemon"].wait(30)


def pending():
    return int(psql("SELECT count(*) FROM rollup_pending"))


def rollup_differences():
    """Rows of response_rollup unlike the same query over every stored
    response at once, for each questionnaire: a row missing on either
    side, or different counts (n, rated, cells: exact), or sums of shares
    (p_sum, p_sq: float8, added in another order) differing beyond 1e-9 of
    their size."""
    total = 0
    for qid in psql("SELECT id FROM questionnaires").split():
        sql = psql("SELECT sipas_rollup_query('responses', %s::smallint, "
                   "ARRAY['day', 'center_id', 'service_area_id', 'questionnaire_id'], 'true')" % qid)
        apart = ("EXISTS (SELECT 1 FROM unnest(f.{0}, c.{0}) AS u(a, b) "
                 "WHERE a IS DISTINCT FROM b AND NOT abs(a - b) <= 1e-9 * greatest(1, abs(b)))")
        total += int(psql(
            "SELECT count(*) FROM (SELECT * FROM response_rollup WHERE questionnaire_id = %s) f "
            "FULL JOIN (%s) c USING (day, center_id, service_area_id, questionnaire_id) "
            "WHERE f.n IS DISTINCT FROM c.n OR f.rated IS DISTINCT FROM c.rated "
            "OR f.cells IS DISTINCT FROM c.cells OR %s OR %s"
            % (qid, sql, apart.format("p_sum"), apart.format("p_sq"))))
    return total


def haproxy_running():
    if HA.get("process") is None:
        start_haproxy()


def wait_admin(port, path, status, timeout=30):
    deadline = time.monotonic() + timeout
    while admin_at(port, path)[0] != status:
        if time.monotonic() > deadline:
            raise AssertionError("%s on port %d is not %d" % (path, port, status))
        time.sleep(0.1)


class Nodes(unittest.TestCase):

    def test_responses_spooled_behind_haproxy_while_the_database_is_away(self):
        haproxy_running()
        # Each node has read its kiosk registry (a node that never has
        # cannot answer kiosks without the database, and is not ready).
        for port in (W["port"], B["port"]):
            k = kiosk(3, port=port)
            self.assertEqual(k.post(example())[0], 201)
            k.close()
        psql("ALTER ROLE sipasd_a NOLOGIN")
        psql("ALTER ROLE sipasd NOLOGIN")
        try:
            psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE usename IN ('sipasd', 'sipasd_a')")
            for port in (W["admin_port"], B["admin_port"]):
                wait_admin(port, "/healthz", 503)
                status, body = admin_at(port, "/readyz")
                self.assertEqual(status, 200, body)
            time.sleep(2)  # HAProxy's checks: fall 2 at 200 ms
            rs = [example() for _ in range(5)]
            statuses = []
            for r in rs:
                k = kiosk(3, port=HA["port"])
                try:
                    statuses.append(k.post(r)[0])
                except (OSError, http.client.HTTPException) as e:
                    statuses.append(repr(e))
                k.close()
            self.assertEqual(statuses, [202] * 5)
        finally:
            psql("ALTER ROLE sipasd_a LOGIN")
            psql("ALTER ROLE sipasd LOGIN")
        ids = [r["id"] for r in rs]
        deadline = time.monotonic() + 60
        while count_stored(ids) != 5:
            self.assertLess(time.monotonic(), deadline, "the spooled responses were not replayed")
            time.sleep(0.2)

    def test_a_second_sipasd_refuses_a_spool_dir_in_use(self):
        state = os.path.join(W["dir"], "state-c")
        own_dirs(state)
        conf = node_conf("c", free_port(), free_port(), os.path.join(W["dir"], "spool"), state)
        r = subprocess.run([SIPASD, "-c", conf], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("spool directory %s/spool is in use by another sipasd" % W["dir"], r.stderr)
        self.assertIsNone(W["daemon"].poll(), "node a stopped")

    def test_metrics_say_which_node_they_come_from(self):
        for port, name in ((W["admin_port"], "a"), (B["admin_port"], "b")):
            status, body = admin_at(port, "/metrics")
            self.assertEqual(status, 200)
            samples = [l for l in body.splitlines() if l and not l.startswith("#")]
            self.assertGreater(len(samples), 20)
            unlabelled = [l for l in samples if 'node="%s"}' % name not in l]
            self.assertEqual(unlabelled, [], "node %s" % name)
            self.assertIn('sipasd_responses_total{outcome="stored",node="%s"}' % name, body)
            self.assertIn('sipasd_spool_depth{node="%s"} 0' % name, body)

    @unittest.skipUnless(os.path.exists(HAPROXY), "haproxy not installed (scripts/deps)")
    def test_one_node_killed_behind_haproxy_the_other_carries_the_retries(self):
        start_haproxy()
        load = Load(KIOSKS, port=HA["port"])
        time.sleep(3)
        served = [metric(admin_at(p, "/metrics")[1], 'sipasd_requests_total{status="201"}')
                  for p in (W["admin_port"], B["admin_port"])]
        killed = time.monotonic()
        kill_a()
        time.sleep(3)
        load.end()
        with load.lock:
            cut = [i for i, t in load.cut.items() if t >= killed]
            carried = [load.carried[i] for i in cut if i in load.carried]
        print("\nbehind HAProxy: 201s before the kill, node a %d, node b %d; node a "
              "killed: %d requests got no reply, %d of them acknowledged on retry, "
              "the slowest %.2f s after; %d acknowledged in all"
              % (served[0], served[1], len(cut), len(carried), max(carried, default=0),
                 len(load.acknowledged())))
        self.assertTrue(all(n > 0 for n in served), "HAProxy did not use both nodes")
        self.assertGreater(len(cut), 0, "the kill cut no request")
        self.assertEqual(len(carried), len(cut), "requests cut by the kill not retried")
        self.assertGreater(load.count(201, killed + 1), 0, "node b carried nothing")
        load.check_once(self)
        acked = load.acknowledged()
        self.assertEqual(count_stored(acked), len(acked))
        # The killed node's spool, replayed when it comes back.
        start_daemon()
        cut_off_a()
        ids = spooled_on_a(5)
        kill_a()
        psql("ALTER ROLE sipasd_a LOGIN")
        self.assertEqual(count_stored(ids), 0)
        start_daemon()
        wait_spool_empty(60)
        self.assertEqual(count_stored(ids), 5)

    def test_spool_of_a_node_that_never_comes_back_replayed_by_another(self):
        # docs/operations.md: stop a live node, append the dead node's
        # spool to its own, start it.
        cut_off_a()
        ids = spooled_on_a(7)
        kill_a()
        psql("ALTER ROLE sipasd_a LOGIN")
        stop_b()
        with open(os.path.join(W["dir"], "spool", "responses.spool"), "rb") as src, \
                open(os.path.join(B["spool"], "responses.spool"), "ab") as dst:
            shutil.copyfileobj(src, dst)
        os.remove(os.path.join(W["dir"], "spool", "responses.spool"))
        start_b()
        deadline = time.monotonic() + 60
        while count_stored(ids) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(count_stored(ids), 7)
        with open(B["log"]) as f:
            self.assertIn("responses.spool holds 7 response(s) to replay", f.read())
        start_daemon()      # node a, back for the tests after this one

    def test_rollup_stays_exact_with_two_nodes_folding_at_once(self):
        # Both fold every second while both store, and a third session
        # folds as fast as it can: the folding is one at a time (an
        # advisory lock), never the same response twice, none forgotten.
        before = int(psql("SELECT count(*) FROM responses"))
        loads = [Load(KIOSKS), Load(KIOSKS, port=B["port"])]
        third = {"folds": 0}
        stop = threading.Event()

        def fold():
            while not stop.is_set():
                psql("SELECT sipas_rollup_compact(500)")
                third["folds"] += 1
        folder = threading.Thread(target=fold)
        folder.start()
        time.sleep(6)
        for load in loads:
            load.end()
        stop.set()
        folder.join(60)
        stored = int(psql("SELECT count(*) FROM responses")) - before
        deadline = time.monotonic() + 120
        while pending() > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        print("\ntwo nodes and a third session folding: %d responses stored meanwhile, "
              "%d folds from the third; %s bytes a response on disk, table and indexes"
              % (stored, third["folds"], psql("SELECT pg_total_relation_size('responses') / "
                                               "count(*) FROM responses")))
        self.assertEqual(pending(), 0, "the rollup queue was not folded")
        self.assertGreater(stored, 100)
        self.assertEqual(rollup_differences(), 0)
        self.assertEqual(int(psql("SELECT sum(n) FROM response_rollup")),
                         int(psql("SELECT count(*) FROM responses")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
