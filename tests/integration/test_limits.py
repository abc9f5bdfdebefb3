#!/usr/bin/env python3
"""What one client with a valid certificate may take from sipasd (protocol
1.1, "Limits"): memory bounded per connection when it does not read its
replies, request_timeout over the whole request in every phase, limits per
certificate rather than per address once the handshake is done, and HEAD
answered with the headers of GET (and a Date on every reply)."""

import http.client
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

LOAD = os.path.join(BUILD, "bench", "kiosk-load")
REQUEST_TIMEOUT = 2
IDLE_TIMEOUT = 6
# Sanitizers and valgrind slow the daemon down: a deadline may fire later,
# never earlier, and a latency bound there would be a benchmark.
SLOW = bool(os.environ.get("SIPAS_SANITIZED") or os.environ.get("SIPASD_WRAPPER"))
LATE = 3.0 if SLOW else 1.2
# What one connection may hold (docs/security.md): 64 KiB of input, 32 KiB
# of output plus one reply, the TLS buffers; with the allocator's overhead
# well under 512 KiB. Before the fix one connection grew by 300 MB a second.
PER_CONNECTION_KB = 512
BASE_CONF = ("request_timeout = %ds\nidle_timeout = %ds\n" % (REQUEST_TIMEOUT, IDLE_TIMEOUT))


def setUpModule():
    start_world(2, ["ht-can-loc", "ht-duc-tho"], BASE_CONF)
    with open(os.path.join(W["dir"], "sipasd.conf")) as f:
        W["sandbox_conf"] = f.read()


def tearDownModule():
    stop_world()


def restart_with(**keys):
    """Restarts sipasd with the sandbox's configuration, the module's
    timeouts and these keys set (None: the key's default)."""
    text = W["sandbox_conf"]
    for k, v in keys.items():
        text = re.sub(r"(?m)^%s = .*\n" % k, "", text)
        if v is not None:
            text += "%s = %s\n" % (k, v)
    with open(os.path.join(W["dir"], "sipasd.conf"), "w") as f:
        f.write(text)
    W["daemon"].send_signal(signal.SIGTERM)
    W["daemon"].wait(60)
    start_daemon()


def tls_ctx(n=1):
    ctx = ssl.create_default_context(cafile=tls("ca.crt"))
    ctx.load_cert_chain(tls("kiosk%d.crt" % n), tls("kiosk%d.key" % n))
    return ctx


def tls_connect(n=1, timeout=30):
    s = socket.create_connection(("localhost", W["port"]), timeout=timeout)
    return tls_ctx(n).wrap_socket(s, server_hostname="localhost")


def rss_kb():
    with open("/proc/%d/status" % W["daemon"].pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def wait_closed(t, timeout=30):
    """Reads until the server closes; returns (seconds waited, bytes read)."""
    start = time.monotonic()
    got = b""
    t.settimeout(timeout)
    try:
        while True:
            chunk = t.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionError, ssl.SSLError):
        pass
    return time.monotonic() - start, got


def first_reply(t, timeout=30):
    """Waits for the first bytes from the server, or its close; returns
    (seconds waited, bytes: empty when it closed without a reply)."""
    start = time.monotonic()
    t.settimeout(timeout)
    try:
        got = t.recv(65536)
    except (ConnectionError, ssl.SSLError):
        got = b""
    return time.monotonic() - start, got


def open_connections():
    return metric(metrics()[2], "sipasd_connections_open")


class Memory(unittest.TestCase):
    """A client that pipelines GET /v1/questionnaire and never reads."""

    def test_clients_that_do_not_read_their_replies_hold_little_and_are_closed(self):
        n = 20
        k2 = kiosk(2)
        self.assertEqual(k2.request("GET", "/v1/questionnaire")[0], 200)
        before = rss_kb()
        opened = open_connections()
        answered = metric(metrics()[2], 'sipasd_requests_total{status="200"}')
        socks = [tls_connect(1) for _ in range(n)]
        req = b"GET /v1/questionnaire HTTP/1.1\r\nHost: k\r\n\r\n" * 200
        sent = [0] * n
        for t in socks:
            t.setblocking(False)
        # Pipeline until the server stops taking requests (its input buffer
        # and the kernel's are full) for every connection.
        last_progress = time.monotonic()
        start = last_progress
        # Before the fix it never stopped: 5 s of that is 1.5 GB.
        while time.monotonic() - last_progress < 1.0 and time.monotonic() - start < 5:
            for i, t in enumerate(socks):
                try:
                    sent[i] += t.send(req)
                    last_progress = time.monotonic()
                except (ssl.SSLWantWriteError, BlockingIOError):
                    pass
            time.sleep(0.001)
        stalled = last_progress
        grown = rss_kb() - before
        print("\n%d non-reading connections: %d requests sent in all; sipasd RSS "
              "%d kB -> %d kB (%+d kB, %.0f kB a connection)"
              % (n, sum(sent) // 44, before, before + grown, grown, grown / n), file=sys.stderr)
        self.assertLess(time.monotonic() - start, 5, "the server never stopped reading")
        # Under ASan or valgrind the RSS is the tool's (ASan keeps freed
        # memory in quarantine): the bound is judged in the plain build.
        if not SLOW:
            self.assertLess(grown, n * PER_CONNECTION_KB)
        # Nor in the kernel's buffers: what was answered fits in 32 KiB,
        # sipasd's socket send buffer and the client's receive buffer, some
        # 50 questionnaires (not 500 and more, as with a send buffer that
        # autotuning grows to 4 MiB).
        answered = metric(metrics()[2], 'sipasd_requests_total{status="200"}') - answered
        print("replies made: %.0f a connection" % (answered / n), file=sys.stderr)
        self.assertLess(answered / n, 120)
        # Meanwhile another kiosk is served.
        self.assertEqual(k2.post(example())[0], 201)
        self.assertEqual(k2.request("GET", "/v1/questionnaire")[0], 200)
        # They are closed once they have not read for idle_timeout; the
        # timer counts from the last reply, which was before the stall.
        while open_connections() > opened and time.monotonic() - stalled < IDLE_TIMEOUT + 30:
            time.sleep(0.1)
        cutoff = time.monotonic() - stalled
        print("closed %.1f s after the client stopped (idle_timeout %d s)"
              % (cutoff, IDLE_TIMEOUT), file=sys.stderr)
        self.assertLessEqual(open_connections(), opened)
        self.assertLess(cutoff, IDLE_TIMEOUT + LATE)
        for t in socks:
            t.close()
        k2.close()

    def test_a_client_that_reads_late_gets_every_reply_in_order(self):
        # Stopping to read is not losing: once the client reads, the
        # replies come, each whole, and the daemon goes on parsing.
        t = tls_connect(1)
        count = 300
        reqs = b"GET /v1/questionnaire HTTP/1.1\r\nHost: k\r\n\r\n" * (count - 1)
        reqs += b"GET /v1/questionnaire HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n"
        sender = threading.Thread(target=t.sendall, args=(reqs,))
        sender.start()
        time.sleep(1.0)
        _, got = wait_closed(t)
        sender.join(10)
        t.close()
        self.assertEqual(got.count(b"HTTP/1.1 200 OK\r\n"), count)


class Pipelining(unittest.TestCase):
    def test_a_client_that_pipelines_more_than_the_input_buffer_and_reads_gets_every_reply(self):
        # 2,500 requests, some 130 KB: twice the input high watermark, so
        # reading is suspended and resumed while OpenSSL holds decrypted
        # bytes (libevent issue #854). Replies are read as they come.
        n = 2500
        req = b"GET /v1/questionnaire HTTP/1.1\r\nHost: localhost\r\n\r\n"
        t = tls_connect()
        sender = threading.Thread(target=lambda: t.sendall(req * n))
        sender.start()
        t.settimeout(1.0)
        mark = b"HTTP/1.1 200 "
        tail, seen, last = b"", 0, time.monotonic()
        # Progress, not speed: fails only when no reply comes for longer
        # than request_timeout.
        while seen < n and time.monotonic() - last < REQUEST_TIMEOUT + 10:
            try:
                chunk = t.recv(1 << 20)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            if not chunk:
                break
            data = tail + chunk
            seen += data.count(mark)
            tail = data[-(len(mark) - 1):]
            last = time.monotonic()
        sender.join(30)
        t.close()
        self.assertEqual(seen, n, "replies stopped after %d of %d" % (seen, n))


class Timeouts(unittest.TestCase):
    """request_timeout counts from the connection's opening or the previous
    reply, and no stage of the request restarts it; idle_timeout between
    requests. The cut-off of each phase is measured."""

    def cutoff(self, phase, seconds, expected):
        print("\n%s: cut after %.2f s (expected %d s)" % (phase, seconds, expected),
              file=sys.stderr)
        self.assertGreater(seconds, expected - 0.5, phase)
        self.assertLess(seconds, expected + LATE, phase)

    def test_handshake_stalled(self):
        s = socket.create_connection(("localhost", W["port"]), timeout=30)
        start = time.monotonic()
        s.sendall(b"\x16\x03\x01\x00")      # the start of a ClientHello, no more
        s.settimeout(30)
        try:
            while s.recv(4096):
                pass
        except ConnectionError:
            pass
        self.cutoff("handshake stalled", time.monotonic() - start, REQUEST_TIMEOUT)
        s.close()

    def test_slow_handshake_then_headers_stalled_counts_from_the_opening(self):
        s = socket.create_connection(("localhost", W["port"]), timeout=30)
        start = time.monotonic()
        time.sleep(1.2)
        t = tls_ctx().wrap_socket(s, server_hostname="localhost")
        t.sendall(b"GET /v1/questionnaire HTTP/1.1\r\nHost:")
        _, got = first_reply(t)
        self.assertTrue(got.startswith(b"HTTP/1.1 408 "), got[:40])
        self.cutoff("handshake 1.2 s, then headers stalled", time.monotonic() - start,
                    REQUEST_TIMEOUT)
        t.close()

    def test_headers_stalled(self):
        start = time.monotonic()
        t = tls_connect()
        t.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: k\r\nContent-Type: appl")
        _, got = first_reply(t)
        self.assertTrue(got.startswith(b"HTTP/1.1 408 "), got[:40])
        self.cutoff("headers stalled", time.monotonic() - start, REQUEST_TIMEOUT)
        t.close()

    def test_headers_trickled_a_byte_at_a_time(self):
        start = time.monotonic()
        t = tls_connect()
        closed = threading.Event()

        def trickle():
            for b in b"POST /v1/responses HTTP/1.1\r\nHost: k\r\nX-Padding: " + b"a" * 100:
                if closed.is_set():
                    return
                try:
                    t.send(bytes([b]))
                except OSError:
                    return
                time.sleep(0.2)
        sender = threading.Thread(target=trickle)
        sender.start()
        _, got = first_reply(t)
        closed.set()
        sender.join(5)
        self.assertTrue(got.startswith(b"HTTP/1.1 408 "), got[:40])
        self.cutoff("headers trickled", time.monotonic() - start, REQUEST_TIMEOUT)
        t.close()

    def test_body_stalled(self):
        start = time.monotonic()
        t = tls_connect()
        t.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{\"id\":")
        _, got = first_reply(t)
        self.assertTrue(got.startswith(b"HTTP/1.1 408 "), got[:40])
        self.cutoff("body stalled", time.monotonic() - start, REQUEST_TIMEOUT)
        t.close()

    def test_second_request_stalled_counts_from_the_previous_reply(self):
        t = tls_connect()
        t.sendall(b"GET /v1/questionnaire HTTP/1.1\r\nHost: k\r\n\r\n"
                  b"POST /v1/responses HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{\"id\":")
        got = b""
        while b"\r\n\r\n" not in got:
            got += t.recv(65536)
        head, got = got.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        while len(got) < length:
            got += t.recv(65536)    # the questionnaire, to its end
        got = got[length:]
        start = time.monotonic()
        if not got:
            _, got = first_reply(t)
        self.assertIn(b"HTTP/1.1 408 ", got)
        self.cutoff("pipelined request stalled after a reply", time.monotonic() - start,
                    REQUEST_TIMEOUT)
        t.close()

    def test_idle_between_requests(self):
        k = kiosk(1)
        self.assertEqual(k.request("GET", "/v1/questionnaire")[0], 200)
        start = time.monotonic()
        waited, got = wait_closed(k.conn.sock)
        self.assertEqual(got, b"")
        self.cutoff("idle between requests", waited, IDLE_TIMEOUT)
        k.close()

    def test_a_kiosk_idle_longer_than_request_timeout_is_still_served(self):
        # The idle time is idle_timeout's: the next request's clock starts
        # with its first byte.
        k = kiosk(1)
        self.assertEqual(k.request("GET", "/v1/questionnaire")[0], 200)
        sock = k.conn.sock
        time.sleep(REQUEST_TIMEOUT + 1.5)
        self.assertEqual(k.post(example())[0], 201)
        self.assertIs(k.conn.sock, sock)
        k.close()


def load(kiosk_no, *args):
    return ([LOAD, "--port", str(W["port"]), "--ca", tls("ca.crt"),
             "--cert", tls("kiosk%d.crt" % kiosk_no), "--key", tls("kiosk%d.key" % kiosk_no)]
            + list(args))


class SharedAddress(unittest.TestCase):
    """Kiosks behind one NAT address: limits on the address count only
    handshakes in progress; after it a connection counts against its
    certificate."""

    @classmethod
    def tearDownClass(cls):
        restart_with()

    def test_an_address_holds_more_connections_than_its_limit_once_identified(self):
        restart_with(max_connections_per_ip=4, new_connections_per_ip=None)
        held = []
        for i in range(24):
            k = kiosk(1 + i % 2)
            self.assertEqual(k.request("GET", "/v1/questionnaire")[0], 200, "connection %d" % i)
            held.append(k)
        for k in held:
            self.assertEqual(k.post(example())[0], 201)
        # Handshakes in progress still count against the address: four
        # that stall take its four slots, the next connection is closed at
        # accept, and the identified connections go on meanwhile.
        stalled = [socket.create_connection(("localhost", W["port"])) for _ in range(4)]
        time.sleep(0.3)
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            kiosk(1).request("GET", "/v1/questionnaire")
        self.assertEqual(held[0].post(example())[0], 201)
        for s in stalled:
            s.close()
        time.sleep(0.3)
        self.assertEqual(kiosk(1).request("GET", "/v1/questionnaire")[0], 200)
        for k in held:
            k.close()

    def test_a_certificate_over_its_connections_gets_429_and_others_are_served(self):
        restart_with(max_connections_per_kiosk=3)
        held = [kiosk(1) for _ in range(3)]
        for k in held:
            self.assertEqual(k.request("GET", "/v1/questionnaire")[0], 200)
        extra = kiosk(1)
        status, headers, reply = extra.request("GET", "/v1/questionnaire")
        self.assertEqual((status, reply), (429, {"error": "rate_limited"}))
        self.assertEqual(headers.get("Connection"), "close")
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertEqual(kiosk(2).post(example())[0], 201)
        held.pop().close()
        time.sleep(0.3)
        self.assertEqual(kiosk(1).request("GET", "/v1/questionnaire")[0], 200)
        for k in held:
            k.close()

    def test_a_reload_does_not_reset_the_rate_limit(self):
        restart_with(rate_limit=1, rate_burst=5)
        k = kiosk(1)
        statuses = [k.post(example())[0] for _ in range(6)]
        self.assertEqual(statuses, [201] * 5 + [429])
        since = os.path.getsize(W["log"])
        W["daemon"].send_signal(signal.SIGHUP)
        wait_log("reloaded", since)
        # A bucket reset by the reload would let five through at once; one
        # token comes back a second.
        start = time.monotonic()
        statuses = [kiosk(1).post(example())[0] for _ in range(5)]
        if time.monotonic() - start < 4:
            self.assertIn(429, statuses)

    def test_a_kiosk_holding_1000_slow_connections_leaves_its_neighbour_served(self):
        # The defaults of a real deployment. Kiosk 1 is connected when
        # kiosk 2, from the same address, opens 1000 connections that
        # trickle headers, and is measured from the fourth second on.
        restart_with(max_connections_per_ip=None, new_connections_per_ip=None)
        normal = subprocess.Popen(load(1, "--connections", "1", "--rate", "10", "--wait", "5",
                                       "--duration", "8"),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(1)
        attacker = subprocess.Popen(load(2, "--connections", "0", "--slowloris", "1000",
                                         "--duration", "14"),
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        held = []
        try:
            while normal.poll() is None:
                held.append(metric(metrics()[2], "sipasd_kiosk_connections_max"))
                time.sleep(0.25)
        finally:
            normal_out = normal.communicate(timeout=60)[0]
            attacker_out = attacker.communicate(timeout=60)[0]
        m = re.search(r"latency_ms: p50 ([\d.]+) p99 ([\d.]+) p99.9 ([\d.]+) max ([\d.]+)",
                      normal_out)
        p50, p99, _, worst = [float(x) for x in m.groups()]
        statuses = re.search(r"statuses: (.*)", normal_out).group(1)
        print("\n1000 slow connections of kiosk 2 from kiosk 1's address: kiosk 1 p50 %.1f "
              "p99 %.1f max %.1f ms, %s; kiosk 2 held at most %d (samples %d); attacker: %s"
              % (p50, p99, worst, statuses, max(held), len(held),
                 attacker_out.strip().splitlines()[-1]), file=sys.stderr)
        self.assertTrue(statuses.startswith("201=") and " 201=" not in statuses, statuses)
        self.assertIn("broken_connections=0", statuses)
        self.assertLessEqual(max(held), 32)
        self.assertEqual(max(held), 32, "the attack never took its share")
        if not SLOW:
            self.assertLess(worst, 1000)
        self.assertIsNone(W["daemon"].poll())


def head_and_get(conn, path):
    conn.request("HEAD", path)
    h = conn.getresponse()
    hbody = h.read()
    conn.request("GET", path)
    g = conn.getresponse()
    gbody = g.read()
    return h, hbody, g, gbody


class Head(unittest.TestCase):
    """HEAD has the status and headers of GET and no body, on every path of
    both listeners; every reply carries a Date."""

    def check(self, conn, path, status, same_length=True):
        h, hbody, g, gbody = head_and_get(conn, path)
        with self.subTest(path=path):
            self.assertEqual((h.status, g.status), (status, status))
            self.assertEqual(hbody, b"")
            self.assertGreater(len(gbody), 0)
            self.assertEqual(h.getheader("Content-Type"), g.getheader("Content-Type"))
            if same_length:
                self.assertEqual(h.getheader("Content-Length"), g.getheader("Content-Length"))
                self.assertEqual(int(g.getheader("Content-Length")), len(gbody))
            for r in (h, g):
                self.assertRegex(r.getheader("Date") or "",
                                 r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                                 r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                                 r"\d{4} \d\d:\d\d:\d\d GMT$")
            return h, g

    def test_head_on_every_kiosk_path_over_one_keep_alive_connection(self):
        c = http.client.HTTPSConnection("localhost", W["port"], context=tls_ctx(), timeout=10)
        c.connect()
        sock = c.sock
        self.check(c, "/v1/questionnaire", 200)
        for path in ("/v1/responses", "/v1/responses/batch"):
            h, _ = self.check(c, path, 405)
            self.assertEqual(h.getheader("Allow"), "POST")
        self.check(c, "/nothing", 404)
        self.check(c, "/v1/questionnaire?x=1", 200)
        self.assertIs(c.sock, sock, "the connection was not kept")
        c.close()

    def test_head_on_every_admin_path(self):
        c = http.client.HTTPConnection("127.0.0.1", W["admin_port"], timeout=10)
        self.check(c, "/healthz", 200)
        # Its counters move between the two requests: the length may differ.
        self.check(c, "/metrics", 200, same_length=False)
        self.check(c, "/v1/questionnaire", 404)
        c.close()

    def test_get_paths_allow_get_and_head(self):
        k = kiosk(1)
        status, headers, reply = k.request("POST", "/v1/questionnaire", example())
        self.assertEqual((status, reply), (405, {"error": "method_not_allowed"}))
        self.assertEqual(headers["Allow"], "GET, HEAD")
        k.close()

    def test_head_then_get_pipelined_leaves_no_stray_bytes(self):
        t = tls_connect()
        t.sendall(b"HEAD /v1/questionnaire HTTP/1.1\r\nHost: k\r\n\r\n"
                  b"HEAD /nothing HTTP/1.1\r\nHost: k\r\n\r\n"
                  b"GET /v1/questionnaire HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n")
        _, got = wait_closed(t)
        t.close()
        first, rest = got.split(b"\r\n\r\n", 1)
        second, rest = rest.split(b"\r\n\r\n", 1)
        self.assertTrue(first.startswith(b"HTTP/1.1 200 "), first)
        self.assertTrue(second.startswith(b"HTTP/1.1 404 "), second)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 "), rest[:40])
        length = int(re.search(rb"Content-Length: (\d+)", rest).group(1))
        self.assertEqual(len(rest.split(b"\r\n\r\n", 1)[1]), length)

    def test_every_reply_carries_a_date(self):
        for data in [b"GET /v1/questionnaire HTTP/1.1\r\nHost: k\r\n\r\n",
                     b"POST /v1/responses HTTP/1.1\r\nHost: k\r\nContent-Length: 2\r\n\r\n{}",
                     b"GARBAGE\r\n\r\n",
                     b"POST /v1/responses HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000000\r\n\r\n"]:
            t = tls_connect()
            t.sendall(data)
            got = t.recv(65536)
            t.close()
            with self.subTest(data=data[:30]):
                self.assertRegex(got.split(b"\r\n\r\n")[0], rb"\r\nDate: \w{3}, \d\d \w{3} \d{4} ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
