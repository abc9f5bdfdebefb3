#!/usr/bin/env python3
"""End to end: a private PostgreSQL, generated certificates, the real sipasd
and sipas binaries, and real mutual TLS. Each test names the behaviour it
pins and checks the exact status, body and stored rows."""

import collections
import datetime
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

def setUpModule():
    start_world(5, ["ht-can-loc", "ht-duc-tho", "ht-can-loc", "ht", "ht-vu-quang"])


def tearDownModule():
    stop_world()


class KioskCA:
    """openssl ca over the sandbox's CA, for revocation and odd validity."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(dir=W["dir"])
        os.chmod(self.dir, 0o755)       # the CRL is read by sipasd as nobody
        open(os.path.join(self.dir, "index.txt"), "w").close()
        for name in ("crlnumber", "serial"):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write("1000\n")
        self.conf = os.path.join(self.dir, "ca.cnf")
        with open(self.conf, "w") as f:
            f.write("[ca]\ndefault_ca = kiosks\n[kiosks]\ndatabase = %s/index.txt\n"
                    "certificate = %s\nprivate_key = %s\ncrlnumber = %s/crlnumber\nserial = %s/serial\n"
                    "new_certs_dir = %s\ndefault_md = sha256\ndefault_crl_days = 2\n"
                    "policy = any\ncopy_extensions = none\nx509_extensions = kiosk\n"
                    "[any]\ncommonName = supplied\n"
                    "[kiosk]\nbasicConstraints = CA:false\nextendedKeyUsage = clientAuth\n"
                    % (self.dir, tls("ca.crt"), tls("ca.key"), self.dir, self.dir, self.dir))

    def issue(self, name, *validity):
        key, csr, crt = (os.path.join(self.dir, name + e) for e in (".key", ".csr", ".crt"))
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
                        "-subj", "/CN=" + name], check=True, capture_output=True)
        subprocess.run(["openssl", "ca", "-batch", "-config", self.conf, "-in", csr, "-out", crt,
                        *(validity or ("-days", "2"))], check=True, capture_output=True)
        return crt, key

    def revoke(self, crt):
        subprocess.run(["openssl", "ca", "-config", self.conf, "-revoke", crt],
                       check=True, capture_output=True)
        crl = os.path.join(self.dir, "crl.pem")
        subprocess.run(["openssl", "ca", "-config", self.conf, "-gencrl", "-out", crl],
                       check=True, capture_output=True)
        return crl


def handshake_fails(crt, key):
    k = Kiosk("localhost", W["port"], tls("ca.crt"), crt, key)
    try:
        k.request("GET", "/v1/questionnaire")
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    return False


class Identity(unittest.TestCase):
    def test_certificate_in_the_crl_is_refused_at_the_handshake(self):
        ca = KioskCA()
        crt, key = ca.issue("kiosk-crl")
        sipas("kiosk", "add", "K-CRL", "--center", "ht", "--cert", crt)
        k = Kiosk("localhost", W["port"], tls("ca.crt"), crt, key)
        self.assertEqual(k.post(example())[0], 201)
        crl = ca.revoke(crt)
        conf = os.path.join(W["dir"], "sipasd.conf")
        with open(conf) as f:
            saved = f.read()
        try:
            with open(conf, "w") as f:
                f.write(saved + "crl = %s\n" % crl)
            since = os.path.getsize(W["log"])
            W["daemon"].send_signal(signal.SIGHUP)
            wait_log("reloaded", since)
            self.assertTrue(handshake_fails(crt, key))
            self.assertEqual(kiosk(1).request("GET", "/v1/questionnaire")[0], 200)
        finally:
            with open(conf, "w") as f:
                f.write(saved)
            since = os.path.getsize(W["log"])
            W["daemon"].send_signal(signal.SIGHUP)
            wait_log("reloaded", since)

    def test_expired_certificate_is_refused_at_the_handshake(self):
        ca = KioskCA()
        crt, key = ca.issue("kiosk-old", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z")
        sipas("kiosk", "add", "K-OLD", "--center", "ht", "--cert", crt)
        self.assertTrue(handshake_fails(crt, key))
        crt, key = ca.issue("kiosk-future", "-startdate", "20990101000000Z", "-enddate", "20990201000000Z")
        self.assertTrue(handshake_fails(crt, key))

    def test_an_rsa_server_key_works_too(self):
        d = tempfile.mkdtemp(dir=W["dir"])
        subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        d + "/rsa.key", "-out", d + "/rsa.csr", "-subj", "/CN=localhost"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", d + "/rsa.csr", "-CA", tls("ca.crt"),
                        "-CAkey", tls("ca.key"), "-CAcreateserial", "-days", "2", "-extfile",
                        tls("ext.cnf"), "-extensions", "server", "-out", d + "/rsa.crt"],
                       check=True, capture_output=True)
        os.chmod(d, 0o755)
        os.chmod(d + "/rsa.key", 0o644)     # readable after sipasd becomes nobody
        port = free_port()
        conf = open(os.path.join(W["dir"], "sipasd.conf")).read()
        conf = conf.replace(tls("server.crt"), d + "/rsa.crt").replace(tls("server.key"), d + "/rsa.key")
        conf = conf.replace(":%d\n" % W["port"], ":%d\n" % port)
        conf = conf.replace(":%d\n" % W["admin_port"], ":%d\n" % free_port())
        with open(d + "/sipasd.conf", "w") as f:
            f.write(own_spool(conf, d))
        p = subprocess.Popen([SIPASD, "-c", d + "/sipasd.conf"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            k = Kiosk("localhost", port, tls("ca.crt"), tls("kiosk1.crt"), tls("kiosk1.key"))
            for _ in range(50):
                try:
                    status, _, _ = k.request("GET", "/v1/questionnaire")
                    break
                except OSError:
                    time.sleep(0.1)
            self.assertEqual(status, 200)
            cipher = k.conn.sock.cipher()
            self.assertIn(cipher[1], ("TLSv1.3", "TLSv1.2"))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(15)

    @staticmethod
    def problems_in_testssl(report, port):
        """What testssl's report (--jsonfile-pretty) holds against the server
        on port. testssl files what concerns the scanner itself (its openssl
        without an engine, say) under clientProblemN, apart from the
        scanResult of the target, and only the target is judged. There OK
        and INFO say nothing is wrong, DEBUG is a note, LOW to CRITICAL is a
        weakness and WARN or FATAL a question testssl could not answer: each
        is a problem, except the checks that need a session without a client
        certificate, which sipasd never grants."""
        targets = [t for t in report.get("scanResult", []) if str(t.get("port")) == str(port)]
        if len(targets) != 1:
            return ["no scan result for port %s in %s" % (port, sorted(report))]
        untestable = {"secure_client_renego", "BREACH"}
        return ["%s %s: %s" % (x["id"], x["severity"], x["finding"])
                for section in targets[0].values() if isinstance(section, list)
                for x in section
                if x["severity"] not in ("OK", "INFO", "DEBUG")
                and not (x["severity"] == "WARN" and x["id"] in untestable)]

    def test_testssl_finds_no_vulnerability_nor_weak_protocol_or_cipher(self):
        out = os.path.join(W["dir"], "testssl.json")
        subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off",
                        "--jsonfile-pretty", out, "--protocols", "--std", "--vulnerable",
                        "127.0.0.1:%d" % W["port"]], capture_output=True, timeout=300)
        with open(out) as f:
            report = json.load(f)
        for name, section in report.items():
            if name.startswith("clientProblem"):
                print("\ntestssl, about itself: %s" % section, file=sys.stderr)
        self.assertEqual(self.problems_in_testssl(report, W["port"]), [])
        findings = {x["id"]: x for section in report["scanResult"][0].values()
                    if isinstance(section, list) for x in section}
        self.assertGreater(len(findings), 20)
        for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
            self.assertIn("not offered", findings[proto]["finding"])
        self.assertIn("offered", findings["TLS1_3"]["finding"])
        self.assertNotIn("not offered", findings["TLS1_3"]["finding"])

    def test_old_protocols_and_weak_ciphers_are_refused(self):
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(tls("ca.crt"))
            ctx.load_cert_chain(tls("kiosk1.crt"), tls("kiosk1.key"))
            ctx.minimum_version = ctx.maximum_version = version
            try:
                ctx.set_ciphers("ALL:@SECLEVEL=0")
            except ssl.SSLError:
                pass
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                with socket.create_connection(("localhost", W["port"]), timeout=5) as s:
                    with ctx.wrap_socket(s, server_hostname="localhost"):
                        pass
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(tls("ca.crt"))
        ctx.load_cert_chain(tls("kiosk1.crt"), tls("kiosk1.key"))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA:AES128-GCM-SHA256:DHE-RSA-AES128-SHA")
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection(("localhost", W["port"]), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname="localhost"):
                    pass

    def test_handshake_without_client_certificate_fails(self):
        ctx = ssl.create_default_context(cafile=tls("ca.crt"))
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection(("localhost", W["port"]), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname="localhost") as t:
                    # TLS 1.3 reports the refusal on the first read.
                    t.sendall(b"GET /v1/questionnaire HTTP/1.1\r\nHost: x\r\n\r\n")
                    if t.recv(100) == b"":
                        raise ConnectionError("closed without a reply")

    def test_certificate_from_another_ca_fails(self):
        d = tempfile.mkdtemp(dir=W["dir"])
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/k.pem",
                        "-out", d + "/c.pem", "-subj", "/CN=rogue", "-days", "2"],
                       check=True, capture_output=True)
        k = Kiosk("localhost", W["port"], tls("ca.crt"), d + "/c.pem", d + "/k.pem")
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            status, _, _ = k.request("GET", "/v1/questionnaire")
            self.fail("got an HTTP answer %d" % status)

    def test_unregistered_certificate_gets_403_on_every_request(self):
        k = stranger()
        for method, path, body in [("GET", "/v1/questionnaire", None),
                                   ("POST", "/v1/responses", example()),
                                   ("GET", "/no/such/path", None)]:
            status, _, reply = k.request(method, path, body)
            self.assertEqual((status, reply), (403, {"error": "unknown_kiosk"}))

    def test_rotated_certificate_replaces_the_old_one_and_keeps_history(self):
        old = kiosk(5)
        first = example()
        self.assertEqual(old.post(first)[0], 201)
        d = tempfile.mkdtemp(dir=W["dir"])
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/k.pem",
                        "-out", d + "/c.csr", "-subj", "/CN=kiosk5-new"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", d + "/c.csr", "-CA", tls("ca.crt"),
                        "-CAkey", tls("ca.key"), "-CAcreateserial", "-days", "2",
                        "-extfile", tls("ext.cnf"), "-extensions", "kiosk", "-out", d + "/c.pem"],
                       check=True, capture_output=True)
        r = sipas("kiosk", "rotate", "K5", "--cert", d + "/c.pem")
        self.assertIn("kiosk K5 now has certificate", r.stdout)
        start = time.monotonic()
        new = Kiosk("localhost", W["port"], tls("ca.crt"), d + "/c.pem", d + "/k.pem")
        while True:
            old.close()     # a new connection, as a kiosk would open
            status, _, reply = old.post(example())
            if status == 403:
                break
            self.assertLess(time.monotonic() - start, 10, "old certificate still accepted")
            time.sleep(0.25)
        self.assertEqual(reply, {"error": "unknown_kiosk"})
        r = example()
        self.assertEqual(new.post(r)[0], 201)
        self.assertEqual(psql("SELECT count(*) FROM responses r JOIN kiosks k ON k.id = r.kiosk_id "
                              "WHERE k.code = 'K5' AND r.id IN ('%s', '%s')" % (first["id"], r["id"])),
                         "2")
        # The same certificate cannot be enrolled twice.
        dup = sipas("kiosk", "add", "K6", "--center", "ht", "--cert", d + "/c.pem", check=False)
        self.assertEqual(dup.returncode, 1)
        self.assertIn("already enrolled as kiosk 'K5'", dup.stderr)

    def test_revoked_kiosk_gets_403_within_10_seconds(self):
        k = kiosk(3)
        status, _, _ = k.post(example())
        self.assertEqual(status, 201)
        sipas("kiosk", "revoke", "K3")
        start = time.monotonic()
        while True:
            r = example()
            status, _, reply = k.post(r)
            if status == 403:
                break
            self.assertEqual(status, 201)
            self.assertLess(time.monotonic() - start, 10, "revocation did not bite within 10 s")
            time.sleep(0.25)
        self.assertEqual(reply, {"error": "kiosk_revoked"})
        self.assertEqual(stored(r["id"]), 0)
        self.assertLess(time.monotonic() - start, 10)
        status, _, reply = k.request("GET", "/v1/questionnaire")
        self.assertEqual((status, reply), (403, {"error": "kiosk_revoked"}))


def run_daemon_with(extra_conf, replace=()):
    """Starts a second sipasd on other ports with changes to the config;
    returns (exit status or None if it is running, its stderr, process)."""
    d = tempfile.mkdtemp(dir=W["dir"])
    conf = open(os.path.join(W["dir"], "sipasd.conf")).read()
    conf = conf.replace(":%d\n" % W["port"], ":%d\n" % free_port())
    conf = conf.replace(":%d\n" % W["admin_port"], ":%d\n" % free_port())
    for old, new in replace:
        conf = conf.replace(old, new)
    path = os.path.join(d, "sipasd.conf")
    with open(path, "w") as f:
        f.write(own_spool(conf, d) + extra_conf)
    p = subprocess.Popen([SIPASD, "-c", path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        status = p.wait(3)
    except subprocess.TimeoutExpired:
        status = None
    if status is None:
        p.send_signal(signal.SIGTERM)
        p.wait(15)
    return status, p.stderr.read()


class Privileges(unittest.TestCase):
    def db_as(self, user, sql):
        return subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-U", user, "-c", sql],
                              env=W["env"], capture_output=True, text=True)

    def test_daemon_refuses_a_superuser_role_unless_told(self):
        to_super = [("user=sipasd", "user=sipas")]
        status, err = run_daemon_with("", to_super)
        self.assertEqual(status, 1)
        self.assertIn("the database role sipas is a superuser", err)
        status, err = run_daemon_with("db_allow_privileged = yes\n", to_super)
        self.assertIsNone(status, err)

    def test_ingest_role_only_inserts(self):
        for sql in ["DELETE FROM responses", "UPDATE kiosks SET status = 'active'",
                    "SELECT comment FROM responses", "TRUNCATE responses",
                    "INSERT INTO kiosks (code, center_id, cert_sha256) SELECT 'X', 1, '\\x00'"]:
            r = self.db_as("sipasd", sql)
            self.assertNotEqual(r.returncode, 0, sql)
            self.assertIn("permission denied", r.stderr, sql)
        self.assertEqual(self.db_as("sipasd", "SELECT count(*) > 0 FROM kiosks").stdout.strip(), "t")

    def test_report_role_reads_everything_and_writes_nothing(self):
        r = self.db_as("reporter", "SELECT count(*) >= 0 FROM responses")
        self.assertEqual(r.stdout.strip(), "t")
        r = self.db_as("reporter", "UPDATE responses SET overall = 1")
        self.assertIn("permission denied", r.stderr)
        r = subprocess.run([SIPAS, "--db", "host=%s/pg dbname=sipas user=reporter" % W["dir"],
                            "report", "--by", "area", "--format", "json"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    @unittest.skipUnless(os.geteuid() == 0, "only root can drop privileges")
    def test_as_root_it_refuses_to_run_without_a_user_to_become(self):
        status, err = run_daemon_with("", [("user = nobody\n", "")])
        self.assertEqual(status, 1)
        self.assertIn("refusing to run as root", err)
        out = subprocess.run(["ps", "-o", "user=", "-p", str(W["daemon"].pid)],
                             capture_output=True, text=True).stdout.strip()
        self.assertEqual(out, "nobody")


class Responses(unittest.TestCase):
    def setUp(self):
        self.k = kiosk(1)

    def tearDown(self):
        self.k.close()

    def test_questionnaire_is_served_with_criteria_and_areas(self):
        status, headers, q = self.k.request("GET", "/v1/questionnaire")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(q["code"], "sipas-dv-2023")
        self.assertEqual([e["code"] for e in q["elements"]], ["TC", "TT", "CC", "KQ", "PA"])
        self.assertEqual(sum(len(e["criteria"]) for e in q["elements"]), 19)
        self.assertEqual(q["elements"][0]["criteria"][0],
                         {"code": "TC1", "text_vi": "Nơi ngồi chờ có đủ chỗ ngồi",
                          "text_en": "Enough waiting seats"})
        self.assertEqual([l["value"] for l in q["scale"]["levels"]], [1, 2, 3, 4, 5])
        self.assertEqual(q["scale"]["levels"][3]["label_vi"], "Hài lòng")
        self.assertEqual(len(q["service_areas"]), 25)

    def test_new_response_is_stored_with_201_and_the_row_holds_it(self):
        r = example(submitted_at="2026-11-26T09:15:02+07:00")
        status, _, reply = self.k.post(r)
        self.assertEqual((status, reply), (201, {"id": r["id"], "status": "stored"}))
        row = psql("SELECT k.code, c.code, sa.code, r.procedure, q.code, "
                   " r.submitted_at AT TIME ZONE 'UTC', r.answers, r.overall, r.comment, "
                   " r.gender, r.age_group, r.ethnicity, length(r.content_hash) "
                   "FROM responses r JOIN kiosks k ON k.id = r.kiosk_id "
                   "JOIN centers c ON c.id = r.center_id "
                   "JOIN service_areas sa ON sa.id = r.service_area_id "
                   "JOIN questionnaires q ON q.id = r.questionnaire_id "
                   "WHERE r.id = '%s'" % r["id"])
        self.assertEqual(row.split("|"), [
            "K1", "ht-can-loc", "dat-dai", "1.004227", "sipas-dv-2023",
            "2026-11-26 02:15:02", "{4,5,4,3,5,4,4,2,5,5,4,4,5,4,4,5,4,NULL,3}", "4",
            "Cán bộ hướng dẫn nhiệt tình.", "female", "35-49", "", "32"])

    def test_center_comes_from_the_registry_not_the_kiosk(self):
        r = example()
        status, _, _ = kiosk(2).post(r)
        self.assertEqual(status, 201)
        self.assertEqual(psql("SELECT c.code FROM responses r JOIN centers c "
                              "ON c.id = r.center_id WHERE r.id = '%s'" % r["id"]), "ht-duc-tho")

    def test_same_id_and_content_again_is_200_duplicate_and_stored_once(self):
        r = example()
        self.assertEqual(self.k.post(r)[0], 201)
        # Member order and the timestamp's offset do not make it different.
        again = dict(reversed(list(r.items())))
        t = datetime.datetime.fromisoformat(r["submitted_at"]).astimezone(datetime.timezone.utc)
        again["submitted_at"] = t.isoformat().replace("+00:00", "Z")
        status, _, reply = kiosk(2).post(again)
        self.assertEqual((status, reply), (200, {"id": r["id"], "status": "duplicate"}))
        self.assertEqual(stored(r["id"]), 1)

    def test_same_id_with_other_content_is_409_and_the_first_stays(self):
        r = example()
        self.assertEqual(self.k.post(r)[0], 201)
        status, _, reply = self.k.post(dict(r, overall=1))
        self.assertEqual((status, reply), (409, {"id": r["id"], "error": "id_conflict"}))
        self.assertEqual(psql("SELECT overall FROM responses WHERE id = '%s'" % r["id"]), "4")

    def test_invalid_response_is_400_naming_the_field_and_nothing_is_stored(self):
        cases = [
            (example(answers=dict(example()["answers"], TT4=6)), "answers.TT4"),
            (example(answers=dict(example()["answers"], TT4=4.0)), "answers.TT4"),
            (example(service_area="nowhere"), "service_area"),
            (example(center="ht"), "center"),
            (example(submitted_at="2026-11-26T09:15:02"), "submitted_at"),
            (example(comment="x" * 2001), "comment"),
            (example(respondent={"gender": "f"}), "respondent.gender"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                status, _, reply = self.k.post(body)
                self.assertEqual(status, 400)
                self.assertEqual(reply["error"], "invalid")
                self.assertEqual(reply["field"], field)
                self.assertTrue(reply["message"])
                self.assertEqual(stored(body["id"]), 0)

    def test_broken_json_is_400_and_the_connection_stays_usable(self):
        status, _, reply = self.k.request("POST", "/v1/responses", b'{"id": ')
        self.assertEqual(status, 400)
        self.assertEqual(reply["error"], "invalid")
        self.assertIsNone(reply["field"])
        status, _, _ = self.k.post(example())
        self.assertEqual(status, 201)

    def test_wrong_content_type_is_415(self):
        for ctype in ["text/plain", "application/x-www-form-urlencoded",
                      "application/json; charset=latin1", None]:
            with self.subTest(ctype=ctype):
                r = example()
                status, _, reply = self.k.request("POST", "/v1/responses", r, content_type=ctype)
                self.assertEqual((status, reply), (415, {"error": "unsupported_media_type"}))
                self.assertEqual(stored(r["id"]), 0)
        status, _, _ = self.k.request("POST", "/v1/responses", example(),
                                      content_type="application/json; charset=UTF-8")
        self.assertEqual(status, 201)

    def test_unknown_path_is_404(self):
        for path in ["/", "/v1", "/v1/responsesx", "/healthz", "/v2/responses", "/" + "a" * 400]:
            with self.subTest(path=path[:20]):
                status, _, reply = self.k.request("GET", path)
                self.assertEqual((status, reply), (404, {"error": "not_found"}))

    def test_wrong_method_is_405_with_allow(self):
        for method, path, allow in [("DELETE", "/v1/responses", "POST"),
                                    ("GET", "/v1/responses", "POST"),
                                    ("POST", "/v1/questionnaire", "GET, HEAD"),
                                    ("PUT", "/v1/responses/batch", "POST")]:
            with self.subTest(method=method, path=path):
                body = example() if method in ("POST", "PUT") else None
                status, headers, reply = self.k.request(method, path, body)
                self.assertEqual((status, reply), (405, {"error": "method_not_allowed"}))
                self.assertEqual(headers["Allow"], allow)

    def test_body_over_the_limit_is_413_and_nothing_is_stored(self):
        r = example(comment="x" * 70000)
        status, headers, reply = self.k.post(r)
        self.assertEqual((status, reply), (413, {"error": "too_large"}))
        self.assertEqual(headers.get("Connection"), "close")
        self.assertEqual(stored(r["id"]), 0)

    def test_chunked_body_is_accepted(self):
        r = example()
        data = json.dumps(r).encode()
        self.k.connect()
        self.k.conn.request("POST", "/v1/responses", body=iter([data[:50], data[50:]]),
                            headers={"Content-Type": "application/json"}, encode_chunked=True)
        resp = self.k.conn.getresponse()
        self.assertEqual((resp.status, json.loads(resp.read())), (201, {"id": r["id"], "status": "stored"}))

    def test_chunked_body_over_the_limit_is_413(self):
        r = example(comment="x" * 70000)
        data = json.dumps(r).encode()
        self.k.connect()
        self.k.conn.request("POST", "/v1/responses",
                            body=iter([data[i:i + 4096] for i in range(0, len(data), 4096)]),
                            headers={"Content-Type": "application/json"}, encode_chunked=True)
        resp = self.k.conn.getresponse()
        self.assertEqual(resp.status, 413)
        self.assertEqual(stored(r["id"]), 0)

    def test_pipelined_requests_are_answered_in_order(self):
        ids = [example()["id"] for _ in range(3)]
        reqs = b""
        for rid in ids:
            body = json.dumps(example(id=rid)).encode()
            reqs += (b"POST /v1/responses HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body)) + body
        reqs += b"GET /v1/nothing HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n"
        ctx = ssl.create_default_context(cafile=tls("ca.crt"))
        ctx.load_cert_chain(tls("kiosk1.crt"), tls("kiosk1.key"))
        with socket.create_connection(("localhost", W["port"]), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                t.sendall(reqs)
                data = b""
                while True:
                    chunk = t.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        replies = [p for p in data.split(b"HTTP/1.1 ")[1:]]
        self.assertEqual([p[:3] for p in replies], [b"201", b"201", b"201", b"404"])
        for rid, p in zip(ids, replies):
            self.assertIn(rid.encode(), p)
            self.assertEqual(stored(rid), 1)

    def test_batch_judges_each_item_as_if_alone(self):
        good, bad = example(), example(overall=9)
        status, _, reply = self.k.request("POST", "/v1/responses/batch", [good, bad, good])
        self.assertEqual(status, 200)
        self.assertEqual(reply[0], {"id": good["id"], "status": "stored"})
        self.assertEqual(reply[1]["status"], 400)
        self.assertEqual(reply[1]["field"], "overall")
        self.assertEqual(reply[2], {"id": good["id"], "status": "duplicate"})
        self.assertEqual(stored(good["id"]), 1)
        self.assertEqual(stored(bad["id"]), 0)
        status, _, reply = self.k.request("POST", "/v1/responses/batch", {"not": "an array"})
        self.assertEqual(status, 400)

    def test_slow_request_does_not_stall_others(self):
        # Another session holds the row lock of an id; the kiosk's insert of
        # that id waits for it while other kiosks are served at once.
        held = example()
        lock = RowLock(held["id"])
        waiter, result = post_in_background(kiosk(1), held)
        time.sleep(0.5)
        self.assertTrue(waiter.is_alive(), "the locked insert did not wait")
        k2 = kiosk(2)
        for _ in range(20):     # more requests than there are database connections
            start = time.monotonic()
            status, _, _ = k2.post(example())
            self.assertEqual(status, 201)
            self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(admin("/healthz")[0], 200)
        lock.release()
        waiter.join(10)
        self.assertEqual(result["r"][0], 201)
        self.assertEqual(stored(held["id"]), 1)


class Admin(unittest.TestCase):
    def test_healthz_is_200_when_the_database_answers(self):
        self.assertEqual(admin("/healthz"), (200, {"status": "ok"}))

    def test_admin_listener_never_serves_the_kiosk_api(self):
        self.assertEqual(admin("/v1/questionnaire"), (404, {"error": "not_found"}))
        self.assertEqual(admin("/v1/responses", "POST")[0], 404)


class DatabaseOutage(unittest.TestCase):
    def test_outage_spools_with_202_and_replays_when_the_database_is_back(self):
        k = kiosk(2)
        self.assertEqual(k.post(example())[0], 201)
        subprocess.run([SANDBOX, "stop", W["dir"]], check=True)
        sent = []
        try:
            for _ in range(5):
                r = example()
                status, _, reply = k.post(r)
                self.assertEqual((status, reply), (202, {"id": r["id"], "status": "queued"}))
                sent.append(r)
            # A batch is spooled item by item.
            batch = [example(), example(overall=9)]
            status, _, reply = k.request("POST", "/v1/responses/batch", batch)
            self.assertEqual(status, 200)
            self.assertEqual(reply[0], {"id": batch[0]["id"], "status": "queued"})
            self.assertEqual(reply[1]["status"], 400)
            sent.append(batch[0])
            self.assertEqual(metric(metrics()[2], "sipasd_spool_depth"), 6)
            status, health = admin("/healthz")
            self.assertEqual(status, 503)
            self.assertEqual(health["status"], "unavailable")
            self.assertTrue(health["reason"])
        finally:
            subprocess.run([SANDBOX, "resume", W["dir"]], check=True)
        wait_healthy(30)
        wait_spool_empty()
        for r in sent:
            self.assertEqual(stored(r["id"]), 1)
            # Retrying after a 202 is harmless: the same content is a duplicate.
            self.assertEqual(k.post(r)[:1], (200,))
        self.assertEqual(os.path.getsize(os.path.join(W["dir"], "spool", "responses.spool")), 0)


class Service(unittest.TestCase):
    conf = property(lambda self: os.path.join(W["dir"], "sipasd.conf"))

    def setUp(self):
        with open(self.conf) as f:
            self.saved = f.read()

    def tearDown(self):
        with open(self.conf, "w") as f:
            f.write(self.saved)
        self.reload("reloaded")

    def reload(self, expect, conf=None):
        if conf is not None:
            with open(self.conf, "w") as f:
                f.write(conf)
        since = os.path.getsize(W["log"])
        W["daemon"].send_signal(signal.SIGHUP)
        wait_log(expect, since)
        return since

    def test_metrics_count_requests_and_outcomes(self):
        status, ctype, before = metrics()
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"))
        k = kiosk(1)
        r = example()
        self.assertEqual(k.post(r)[0], 201)
        self.assertEqual(k.post(r)[0], 200)
        self.assertEqual(k.post(example(overall=0))[0], 400)
        _, _, after = metrics()
        for name, delta in [('sipasd_requests_total{status="201"}', 1),
                            # the duplicate, and the scrape before
                            ('sipasd_requests_total{status="200"}', 2),
                            ('sipasd_requests_total{status="400"}', 1),
                            ('sipasd_responses_total{outcome="stored"}', 1),
                            ('sipasd_responses_total{outcome="duplicate"}', 1),
                            ("sipasd_commit_seconds_count", 2)]:
            self.assertEqual(metric(after, name) - metric(before, name), delta, name)
        self.assertGreaterEqual(metric(after, "sipasd_connections_open"), 2)
        self.assertEqual(metric(after, "sipasd_db_up"), 1)
        self.assertGreater(metric(after, "sipasd_db_round_trip_seconds_count"), 0)
        self.assertGreater(metric(after, 'sipasd_db_round_trip_seconds_bucket{le="+Inf"}'), 0)
        self.assertIn("# TYPE sipasd_batch_items histogram", after)
        self.assertIn("sipasd_tls_handshake_failures_total", after)

    def test_reload_applies_the_new_config_and_keeps_connections(self):
        k = kiosk(1)
        self.assertEqual(k.post(example())[0], 201)
        sock = k.conn.sock
        since = self.reload("reloaded", self.saved.replace("log_level = info", "log_level = debug"))
        r = example()
        self.assertEqual(k.post(r)[0], 201)
        self.assertIs(k.conn.sock, sock, "the connection was dropped")
        wait_log("POST /v1/responses 201", since)   # 2xx lines appear at debug only
        self.assertEqual(kiosk(2).post(example())[0], 201)

    def test_reload_with_a_bad_config_keeps_the_running_one(self):
        k = kiosk(1)
        self.assertEqual(k.post(example())[0], 201)
        self.reload("reload failed", self.saved + "no_such_key = 1\n")
        self.assertEqual(k.post(example())[0], 201)
        self.assertEqual(kiosk(2).post(example())[0], 201)

    def test_reload_with_a_missing_certificate_keeps_the_old_one(self):
        since = self.reload("reload failed",
                            self.saved.replace(tls("server.crt"), tls("missing.crt")))
        wait_log("missing.crt", since)
        self.assertEqual(kiosk(2).post(example())[0], 201)

    def test_reload_names_keys_that_need_a_restart(self):
        self.reload("listen changed; it takes effect at the next restart",
                    self.saved.replace("listen = 127.0.0.1:%d\n" % W["port"],
                                       "listen = 127.0.0.1:%d\n" % free_port()))
        self.assertEqual(kiosk(2).post(example())[0], 201)

    def test_a_kiosk_over_its_rate_gets_429_and_nothing_is_stored(self):
        self.reload("reloaded", self.saved.replace("rate_limit = 0",
                                                   "rate_limit = 2\nrate_burst = 5"))
        k = kiosk(4)
        statuses, refused = [], []
        for _ in range(8):
            r = example()
            status, headers, reply = k.post(r)
            statuses.append(status)
            if status == 429:
                self.assertEqual(reply, {"error": "rate_limited"})
                self.assertGreaterEqual(int(headers["Retry-After"]), 1)
                refused.append(r)
        self.assertEqual(statuses[:5], [201] * 5)
        self.assertIn(429, statuses[5:])
        for r in refused:
            self.assertEqual(stored(r["id"]), 0)
        time.sleep(1.1)     # two tokens come back a second
        self.assertEqual(k.post(refused[0])[0], 201)

    def test_beyond_max_connections_new_ones_are_refused_and_old_ones_work(self):
        opened = [kiosk(1) for _ in range(4)]
        for k in opened:
            self.assertEqual(k.request("GET", "/v1/questionnaire")[0], 200)
        # Open now: ours, and the scrape's own, which closes after it.
        current = int(metric(metrics()[2], "sipasd_connections_open")) - 1
        self.reload("reloaded", self.saved + "max_connections = %d\n" % current)
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            extra = kiosk(2)
            extra.request("GET", "/v1/questionnaire")
        for k in opened:
            self.assertEqual(k.post(example())[0], 201)
            k.close()

    def test_systemd_notifications(self):
        d = tempfile.mkdtemp(dir=W["dir"])
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(os.path.join(d, "notify"))
        # sipasd may have become nobody by the time it is ready.
        os.chmod(d, 0o755)
        os.chmod(os.path.join(d, "notify"), 0o777)
        sock.settimeout(20)
        conf = os.path.join(d, "sipasd.conf")
        port, admin_port = free_port(), free_port()
        with open(conf, "w") as f:
            f.write(own_spool(self.saved.replace(":%d\n" % W["port"], ":%d\n" % port)
                              .replace(":%d\n" % W["admin_port"], ":%d\n" % admin_port), d))
        env = dict(W["env"], NOTIFY_SOCKET=os.path.join(d, "notify"))
        p = subprocess.Popen([SIPASD, "-c", conf], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        def until(text):
            """The notifications up to the first that says text; a
            STATUS= line may come between the ones that matter."""
            seen = []
            while not any(text in m for m in seen):
                seen.append(sock.recv(4096).decode())
            return seen

        try:
            until("READY=1")
            k = Kiosk("localhost", port, tls("ca.crt"), tls("kiosk1.crt"), tls("kiosk1.key"))
            self.assertEqual(k.request("GET", "/v1/questionnaire")[0], 200)
            p.send_signal(signal.SIGHUP)
            self.assertFalse(any("READY=1" in m for m in until("RELOADING=1")))
            until("READY=1")
            p.send_signal(signal.SIGTERM)
            until("STOPPING=1")
            self.assertEqual(p.wait(15), 0)
        finally:
            if p.poll() is None:
                p.kill()
            sock.close()


class Shutdown(unittest.TestCase):
    def test_sigterm_stops_cleanly(self):
        # Last by name: the other classes are done with the daemon.
        d = W["daemon"]
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(15), 0)
        start_daemon()


if __name__ == "__main__":
    unittest.main(verbosity=2)
