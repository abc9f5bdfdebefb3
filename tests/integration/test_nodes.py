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
P = {}          # node p (proxy_protocol = yes) and its HAProxy (send-proxy-v2)


def node_conf(name, port, admin_port, spool, state, extra=""):
    """The world's configuration with another node's ports, directories and
    name, and the keys of extra in place of the world's."""
    own = ["listen", "admin_listen", "spool_dir", "state_dir", "node_name"]
    own += [l.split(" ")[0] for l in extra.splitlines()]
    with open(os.path.join(W["dir"], "sipasd.conf")) as f:
        lines = [l for l in f if not l.split(" ")[0] in own]
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
    every 200 ms, without its send-proxy-v2: nodes a and b also take the
    tests' direct connections (node p is the PROXY protocol's)."""
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
    for proc in (HA.get("process"), P.get("haproxy")):
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    status, took, waiting = 0, 0.0, []
    try:
        if P.get("daemon") is not None:
            # Half a header at the stop: closed with the rest, its place
            # given back (a stop waits for no header).
            if P["daemon"].poll() is None:
                waiting.append(socket.create_connection(("127.0.0.1", P["port"]), timeout=10))
                waiting[-1].sendall(b"\r\n\r\n\x00\r\nQUIT\n\x21")
                time.sleep(0.3)
                started = time.monotonic()
                P["daemon"].send_signal(signal.SIGTERM)
                P["daemon"].wait(60)
                took = time.monotonic() - started
            status = P["daemon"].returncode
    finally:
        for s in waiting:
            s.close()
        stop_b()
        stop_world()
    # Under ASan a leak, of a connection awaiting its header say, is an
    # exit status.
    if status != 0:
        raise AssertionError("node p exited with %s:\n%s" % (status, p_log()[-4000:]))
    if took > 5:
        raise AssertionError("node p took %.1f s to stop with a header awaited" % took)


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


def start_proxied_node():
    """Node p, proxy_protocol = yes, a handshake at a time per address and
    a 2 s request_timeout, behind an HAProxy of its own sending the PROXY
    protocol version 2, as etc/haproxy-sipasd.cfg does."""
    if P.get("daemon") is not None:
        return
    P["port"], P["admin_port"], P["ha_port"] = free_port(), free_port(), free_port()
    spool, state = os.path.join(W["dir"], "spool-p"), os.path.join(W["dir"], "state-p")
    own_dirs(spool, state)
    conf = node_conf("p", P["port"], P["admin_port"], spool, state,
                     "proxy_protocol = yes\nproxy_protocol_from = 127.0.0.1\n"
                     "max_connections_per_ip = 1\n"
                     "new_connections_per_ip = 0\nrequest_timeout = 2s\nlog_level = debug\n")
    P["log"] = os.path.join(W["dir"], "sipasd-p.log")
    with open(P["log"], "a") as log:
        P["daemon"] = subprocess.Popen([SIPASD, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            if admin_at(P["admin_port"], "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or P["daemon"].poll() is not None:
            raise AssertionError("node p did not become healthy:\n" + open(P["log"]).read())
        time.sleep(0.1)
    haconf = os.path.join(W["dir"], "haproxy-p.cfg")
    with open(haconf, "w") as f:
        f.write("""global
    maxconn 2000
defaults
    mode tcp
    timeout connect 2s
    timeout client 90s
    timeout server 90s
frontend kiosks
    bind 127.0.0.1:%d
    default_backend sipasd
backend sipasd
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 2 rise 2 send-proxy-v2
    server p 127.0.0.1:%d check port %d
""" % (P["ha_port"], P["port"], P["admin_port"]))
    with open(os.path.join(W["dir"], "haproxy-p.log"), "w") as log:
        P["haproxy"] = subprocess.Popen([HAPROXY, "-db", "-f", haconf], stdout=log,
                                        stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            k = kiosk_from(1, "127.0.0.1")
            ok = k.request("GET", "/v1/questionnaire")[0] == 200
            k.close()
            if ok:
                return
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("HAProxy does not pass kiosks to node p:\n" + open(P["log"]).read())
        time.sleep(0.2)


def kiosk_from(n, source, port=None):
    """Kiosk n connected from the loopback address source (Linux routes all
    of 127/8 on lo) to node p's HAProxy, or to port."""
    k = kiosk(n, port=port or P["ha_port"])
    sock = socket.create_connection(("127.0.0.1", k.port), timeout=k.timeout,
                                    source_address=(source, 0))
    k.conn = http.client.HTTPSConnection("localhost", k.port, context=k.ctx, timeout=k.timeout)
    k.conn.sock = k.ctx.wrap_socket(sock, server_hostname="localhost")
    return k


def p_log():
    with open(P["log"]) as f:
        return f.read()


def wait_p_log(pattern, since, timeout=20):
    deadline = time.monotonic() + timeout
    while not re.search(pattern, p_log()[since:]):
        if time.monotonic() > deadline:
            raise AssertionError("node p never logged %r:\n%s" % (pattern, p_log()[since:]))
        time.sleep(0.05)


def closed_without_reply(sock, timeout=15):
    """Whether the peer closes sock (within timeout, against node p's 2 s
    deadline) having sent nothing."""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    finally:
        sock.close()


class Nodes(unittest.TestCase):

    @unittest.skipUnless(os.path.exists(HAPROXY), "haproxy not installed (scripts/deps)")
    def test_proxy_protocol_limits_and_logs_the_kiosk_address(self):
        start_proxied_node()
        since = len(p_log())
        # A connection from 127.0.0.2 that never starts its handshake holds
        # the one handshake 127.0.0.2 may have in progress.
        hold = socket.create_connection(("127.0.0.1", P["ha_port"]), timeout=10,
                                        source_address=("127.0.0.2", 0))
        try:
            wait_p_log(r"127\.0\.0\.2:\d+: PROXY header", since)
            refused = metric(admin_at(P["admin_port"], "/metrics")[1],
                             'sipasd_connections_refused_total{limit="address"}')
            with self.assertRaises((OSError, http.client.HTTPException)):
                kiosk_from(2, "127.0.0.2").request("GET", "/v1/questionnaire")
            self.assertEqual(metric(admin_at(P["admin_port"], "/metrics")[1],
                                    'sipasd_connections_refused_total{limit="address"}'),
                             refused + 1)
            # Another address is served meanwhile, and logged as itself.
            other = kiosk_from(3, "127.0.0.3")
            r = example()
            self.assertEqual(other.post(r)[0], 201)
            other.close()
            self.assertEqual(count_stored([r["id"]]), 1)
            wait_p_log(r"127\.0\.0\.3:\d+: TLS ", since)
        finally:
            hold.close()
        # Its slot given back, 127.0.0.2 is served again.
        deadline = time.monotonic() + 20
        while True:
            try:
                k = kiosk_from(2, "127.0.0.2")
                served = k.request("GET", "/v1/questionnaire")[0] == 200
                k.close()
                if served:
                    break
            except (OSError, http.client.HTTPException):
                pass
            self.assertLess(time.monotonic(), deadline, "127.0.0.2 never served again")
            time.sleep(0.2)
        kiosk_lines = [l for l in p_log()[since:].splitlines() if ": TLS " in l]
        self.assertTrue(kiosk_lines)
        self.assertEqual([l for l in kiosk_lines if "127.0.0.1:" in l], [],
                         "a kiosk logged as HAProxy's address")

    @unittest.skipUnless(os.path.exists(HAPROXY), "haproxy not installed (scripts/deps)")
    def test_proxy_protocol_header_believed_only_from_the_balancers(self):
        # From 127.0.0.2, not in proxy_protocol_from: a valid header naming
        # any address it likes is not believed; the connection is closed at
        # once, holding no place among max_connections.
        start_proxied_node()
        refused = lambda: metric(admin_at(P["admin_port"], "/metrics")[1],
                                 'sipasd_connections_refused_total{limit="proxy_source"}')
        before = refused()
        header = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes([127, 0, 0, 9, 127, 0, 0, 1])
                  + (5000).to_bytes(2, "big") + (8443).to_bytes(2, "big"))
        s = socket.create_connection(("127.0.0.1", P["port"]), timeout=10,
                                     source_address=("127.0.0.2", 0))
        s.sendall(header)
        started = time.monotonic()
        self.assertTrue(closed_without_reply(s))
        self.assertLess(time.monotonic() - started, 1.5, "held until request_timeout (2 s)")
        self.assertEqual(refused(), before + 1)
        self.assertIsNone(P["daemon"].poll())

    @unittest.skipUnless(os.path.exists(HAPROXY), "haproxy not installed (scripts/deps)")
    def test_proxy_protocol_connection_without_header_closed_without_reply(self):
        start_proxied_node()
        before = metric(admin_at(P["admin_port"], "/metrics")[1],
                        'sipasd_connections_refused_total{limit="proxy_header"}')
        # A kiosk straight to the node: its ClientHello is no PROXY header.
        k = kiosk(1, port=P["port"])
        with self.assertRaises((OSError, http.client.HTTPException)):
            k.request("GET", "/v1/questionnaire")
        k.close()
        # Plain HTTP: no reply at all.
        s = socket.create_connection(("127.0.0.1", P["port"]), timeout=10)
        s.sendall(b"GET /v1/questionnaire HTTP/1.1\r\nHost: p\r\n\r\n")
        self.assertTrue(closed_without_reply(s))
        # Version 1 (text) is not taken.
        s = socket.create_connection(("127.0.0.1", P["port"]), timeout=10)
        s.sendall(b"PROXY TCP4 127.0.0.9 127.0.0.1 5000 8443\r\n")
        self.assertTrue(closed_without_reply(s))
        # Half a header, then silence: counted among the open connections
        # (max_connections) while waiting, closed at request_timeout (2 s).
        silent = []
        for _ in range(3):
            silent.append(socket.create_connection(("127.0.0.1", P["port"]), timeout=10))
            silent[-1].sendall(b"\r\n\r\n\x00\r\nQUIT\n\x21")
        # Three, and the scrape: the health checks come and go.
        deadline = time.monotonic() + 10
        while metric(admin_at(P["admin_port"], "/metrics")[1], "sipasd_connections_open") < 4:
            self.assertLess(time.monotonic(), deadline, "connections awaiting a header not counted")
            time.sleep(0.05)
        for s in silent:
            self.assertTrue(closed_without_reply(s))
        # UDP over IPv4 is not a kiosk.
        s = socket.create_connection(("127.0.0.1", P["port"]), timeout=10)
        s.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x21\x12\x00\x0c" + bytes(12))
        self.assertTrue(closed_without_reply(s))
        after = metric(admin_at(P["admin_port"], "/metrics")[1],
                       'sipasd_connections_refused_total{limit="proxy_header"}')
        self.assertEqual(after, before + 7)
        self.assertIsNone(P["daemon"].poll())

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
