"""The test world shared by the integration tests: a private PostgreSQL
and certificates from scripts/sandbox, the real sipas and sipasd binaries,
and helpers to talk to them."""

import collections
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

SRC = os.environ.get("abs_top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("abs_top_builddir") or SRC
sys.path.insert(0, os.path.join(SRC, "scripts"))
from kiosksim import Kiosk, realistic_response, VN  # noqa: E402

SIPAS = os.path.join(BUILD, "client", "sipas")
SIPASD = os.path.join(BUILD, "daemon", "sipasd")
SANDBOX = os.path.join(SRC, "scripts", "sandbox")

W = {}  # the world: dir, ports, env, daemon


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sipas(*args, check=True):
    r = subprocess.run([SIPAS, *args], env=W["env"], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("sipas %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def psql(sql):
    r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       env=W["env"], capture_output=True, text=True, check=True)
    return r.stdout.strip()


def tls(name):
    return os.path.join(W["dir"], "tls", name)


def kiosk(n, port=None, **kw):
    return Kiosk("localhost", port or W["port"], tls("ca.crt"), tls("kiosk%d.crt" % n),
                 tls("kiosk%d.key" % n), **kw)


def stranger():
    return Kiosk("localhost", W["port"], tls("ca.crt"), tls("stranger.crt"), tls("stranger.key"))


def admin(path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", W["admin_port"], timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body)


def wait_healthy(timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if admin("/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("sipasd did not become healthy; log:\n" + open(W["log"]).read())


def example(**changes):
    """The protocol's example response, with a fresh id and a recent time."""
    r = {
        "id": str(uuid.uuid4()),
        "questionnaire": "sipas-dv-2023",
        "submitted_at": datetime.datetime.now(VN).isoformat(timespec="seconds"),
        "service_area": "dat-dai",
        "procedure": "1.004227",
        "answers": {"TC1": 4, "TC2": 5, "TC3": 4, "TC4": 3,
                    "TT1": 5, "TT2": 4, "TT3": 4, "TT4": 2,
                    "CC1": 5, "CC2": 5, "CC3": 4, "CC4": 4, "CC5": 5,
                    "KQ1": 4, "KQ2": 4, "KQ3": 5,
                    "PA1": 4, "PA2": None, "PA3": 3},
        "overall": 4,
        "comment": "Cán bộ hướng dẫn nhiệt tình.",
        "respondent": {"gender": "female", "age_group": "35-49"},
    }
    r.update(changes)
    return r


def count_stored(ids, host=None):
    """How many of ids are stored (each at most once: the id is the key),
    on the server whose socket directory is host (the world's by default);
    the ids go on standard input, too many for a command line."""
    env = dict(W["env"], PGHOST=host or W["env"]["PGHOST"])
    sql = "SELECT count(*) FROM responses WHERE id = ANY('{%s}'::uuid[]);" % ",".join(ids)
    r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=sql,
                       env=env, capture_output=True, text=True, check=True)
    return int(r.stdout.strip())


def stored(rid):
    return int(psql("SELECT count(*) FROM responses WHERE id = '%s'" % rid))


def own_spool(conf, d):
    """conf with a spool_dir of its own in d: a second sipasd may not share
    the world's (it holds a lock on it)."""
    spool = os.path.join(d, "spool")
    os.makedirs(spool, exist_ok=True)
    os.chmod(d, 0o755)      # sipasd may have become nobody
    if os.getuid() == 0:
        shutil.chown(spool, "nobody")
    return re.sub(r"(?m)^spool_dir = .*$", "spool_dir = " + spool, conf)


def start_daemon():
    # SIPASD_WRAPPER runs the daemon under a tool, e.g. valgrind.
    wrapper = os.environ.get("SIPASD_WRAPPER", "").split()
    with open(W["log"], "a") as log:
        W["daemon"] = subprocess.Popen(wrapper + [SIPASD, "-c", os.path.join(W["dir"], "sipasd.conf")],
                                       stdout=log, stderr=subprocess.STDOUT)
    wait_healthy(120 if wrapper else 20)


def start_world(kiosks, centers, conf=""):
    """Sandbox, schema, Hà Tĩnh's centers, kiosks K1.. at centers, sipasd
    with conf appended to its configuration."""
    W["dir"] = tempfile.mkdtemp(prefix="sipas-test-")
    W["port"], W["admin_port"] = free_port(), free_port()
    W["log"] = os.path.join(W["dir"], "sipasd.log")
    subprocess.run([SANDBOX, "start", W["dir"], "--port", str(W["port"]),
                    "--admin-port", str(W["admin_port"]), "--kiosks", str(kiosks)], check=True)
    env = dict(os.environ)
    env["SIPAS_DB"] = "host=%s/pg dbname=sipas user=sipas" % W["dir"]
    env["PGHOST"], env["PGDATABASE"], env["PGUSER"] = W["dir"] + "/pg", "sipas", "sipas"
    env["SIPAS_SQL_DIR"] = os.path.join(SRC, "sql")
    W["env"] = env
    sipas("db", "init")
    subprocess.run([SANDBOX, "roles", W["dir"]], check=True)
    sipas("center", "import", os.path.join(SRC, "data", "ha-tinh-centers.csv"))
    for i, center in enumerate(centers, 1):
        sipas("kiosk", "add", "K%d" % i, "--center", center, "--cert", tls("kiosk%d.crt" % i))
    with open(os.path.join(W["dir"], "sipasd.conf"), "a") as f:
        f.write(conf)
    start_daemon()


def stop_world():
    """Stops the daemon and checks it exited cleanly: under ASan or valgrind
    a leak or a memory error makes the exit status non-zero."""
    d = W.get("daemon")
    status = 0
    if d is not None and d.poll() is None:
        d.send_signal(signal.SIGTERM)
        try:
            status = d.wait(60)
        except subprocess.TimeoutExpired:
            d.kill()
            status = "killed after 60 s"
    subprocess.run([SANDBOX, "stop", W["dir"]])
    log = ""
    if os.path.exists(W["log"]):
        with open(W["log"]) as f:
            log = f.read()
    if os.environ.get("KEEP_TEST_DIR") or status != 0:
        print("test world kept in", W["dir"])
    else:
        shutil.rmtree(W["dir"], ignore_errors=True)
    if status != 0:
        raise AssertionError("sipasd exited with %s; its log ends:\n%s" % (status, log[-4000:]))


class RowLock:
    """Another session that has inserted the row of an id and not yet
    committed: an insert of the same id waits for it."""

    def __init__(self, rid):
        self.p = subprocess.Popen(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1"], env=W["env"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.p.stdin.write(
            "BEGIN; INSERT INTO responses (id, content_hash, kiosk_id, center_id, "
            "service_area_id, questionnaire_id, submitted_at, answers) "
            "SELECT '%s', '\\x00', id, center_id, 1, 1, now(), '{}' FROM kiosks "
            "WHERE code = 'K1';\n\\echo locked\n" % rid)
        self.p.stdin.flush()
        if self.p.stdout.readline().strip() != "locked":
            raise AssertionError("could not take the row lock")

    def release(self):
        self.p.stdin.write("ROLLBACK;\n")
        self.p.stdin.close()
        self.p.wait(10)
        self.p.stdout.close()


def post_in_background(k, r):
    """Posts r from another thread; result["r"] holds the reply once the
    thread is done."""
    result = {}
    t = threading.Thread(target=lambda: result.update(r=k.post(r)))
    t.start()
    return t, result


def metric(text, name):
    """A sample's value by its name and labels, the node label (on every
    sample) left out."""
    for line in text.splitlines():
        line = re.sub(r'[{,]node="[^"]*"}', lambda m: "}" if m.group(0)[0] == "," else "", line)
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def metrics():
    c = http.client.HTTPConnection("127.0.0.1", W["admin_port"], timeout=10)
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, r.getheader("Content-Type"), body


def wait_log(text, since, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(W["log"]) as f:
            f.seek(since)
            if text in f.read():
                return
        time.sleep(0.05)
    raise AssertionError("%r not logged; log:\n%s" % (text, open(W["log"]).read()[since:]))


def wait_spool_empty(timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(metrics()[2], "sipasd_spool_depth") == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the spool was not replayed")


LOAD_CONNECTIONS = 16
ACKED = (200, 201, 202)


class Load:
    """LOAD_CONNECTIONS kiosk connections, shared by kiosks K1..Kn, posting
    one response after another to port (sipasd's by default), each retried
    with the same id, as a kiosk does, until it is acknowledged (ACKED)."""

    def __init__(self, kiosks, port=None):
        self.kiosks, self.port = kiosks, port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = collections.defaultdict(list)   # id -> every status
        self.cut = {}           # id -> when an attempt first got no reply
        self.carried = {}       # id -> seconds from then to its acknowledgement
        self.replies = []       # (time answered, status, seconds waited)
        self.sent = {}          # id -> (the response, its kiosk's number)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(LOAD_CONNECTIONS)]
        for t in self.threads:
            t.start()

    def run(self, i):
        n = i % self.kiosks + 1
        k = kiosk(n, port=self.port, timeout=60)
        while not self.stop.is_set():
            r = example()
            with self.lock:
                self.sent[r["id"]] = (r, n)
            while True:
                sent = time.monotonic()
                try:
                    status = k.post(r)[0]
                except (OSError, http.client.HTTPException):
                    status = None
                now = time.monotonic()
                with self.lock:
                    self.statuses[r["id"]].append(status)
                    if status is None:
                        self.cut.setdefault(r["id"], now)
                    elif status in ACKED and r["id"] in self.cut:
                        self.carried[r["id"]] = now - self.cut[r["id"]]
                    self.replies.append((now, status, now - sent))
                if status in ACKED or self.stop.is_set():
                    break
                time.sleep(0.2)
        k.close()

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join(120)

    def acknowledged(self):
        with self.lock:
            return {i for i, s in self.statuses.items() if any(x in ACKED for x in s)}

    def first(self, status, after):
        with self.lock:
            return min((t for t, s, _ in self.replies if s == status and t > after),
                       default=None)

    def count(self, status, after=0.0):
        with self.lock:
            return sum(1 for t, s, _ in self.replies if s == status and t > after)

    def check_once(self, test, host=None, sample=20):
        """Once run() stops, no id can be answered 201 twice by it: a
        sample of the ids answered 200 or 201, posted again with the same
        content, must be answered 200 (duplicate), and those ids are
        stored once each, on the server of socket directory host."""
        with self.lock:
            stored = sorted(i for i, s in self.statuses.items() if 200 in s or 201 in s)
            again = [self.sent[i] for i in random.sample(stored, min(sample, len(stored)))]
        test.assertGreater(len(stored), 0, "nothing was answered 200 or 201")
        statuses = []
        for r, n in again:
            k = kiosk(n, port=self.port, timeout=60)
            statuses.append(k.post(r)[0])
            k.close()
        test.assertEqual(statuses, [200] * len(again), "acknowledged ids posted again")
        test.assertEqual(count_stored(stored, host), len(stored),
                         "rows stored for the ids answered 200 or 201")
