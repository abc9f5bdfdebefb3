#!/usr/bin/env python3
"""The kiosk page (protocol "The kiosk page"): what sipasd serves under
/kiosk/, checked over real mutual TLS, and the page itself driven in
Debian's headless chromium (tests/browser/kiosk.mjs) with a kiosk's real
client certificate, against the real sipasd and PostgreSQL: surveys filled
by touch, the offline queue across a stopped daemon, a reload and a browser
restart, revocation, a clock two hours off, and axe-core on every screen."""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

# K1 shows the 5-level form, K2 the 3-level counter rating, K3 is revoked
# by the browser test; K4's center has counters and officers, K5 is fixed to
# a counter of a center without officers, K6's center closes.
CENTERS = ["ht-can-loc", "ht-can-loc", "ht-duc-tho", "ht-ky-anh", "ht-huong-son", "ht-vu-quang"]
ORGANISATION = [
    ("counter", "add", "ht-ky-anh", "Q1", "--name", "Quầy 1 – Đất đai"),
    ("counter", "add", "ht-ky-anh", "Q2", "--name", "Quầy 2 – Hộ tịch"),
    ("counter", "add", "ht-huong-son", "F1", "--name", "Quầy tiếp nhận"),
    ("officer", "add", "O1", "--name", "Nguyễn Văn An", "--center", "ht-ky-anh", "--counter", "Q1"),
    ("officer", "add", "O2", "--name", "Trần Thị Bình", "--center", "ht-ky-anh", "--counter", "Q2"),
    ("officer", "add", "O3", "--name", "Lê Văn Cường", "--center", "ht-ky-anh"),
    ("kiosk", "move", "K5", "--counter", "F1"),
]
ASSETS = {
    "/kiosk/": "text/html; charset=utf-8",
    "/kiosk/kiosk.css": "text/css; charset=utf-8",
    "/kiosk/kiosk.js": "text/javascript; charset=utf-8",
    "/kiosk/sender.js": "text/javascript; charset=utf-8",
    "/kiosk/sw.js": "text/javascript; charset=utf-8",
}
BROWSER = os.path.join(SRC, "tests", "browser")
NODE_MODULES = os.environ.get("SIPAS_NODE_MODULES") or os.path.join(BROWSER, "node_modules")


class ServedPage(unittest.TestCase):
    """The files, their headers and who may have them."""

    def setUp(self):
        self.k = kiosk(1)

    def tearDown(self):
        self.k.close()

    def test_each_asset_is_served_with_its_type_and_strict_headers(self):
        for path, ctype in ASSETS.items():
            status, h, body = self.k.request("GET", path)
            self.assertEqual(status, 200, path)
            self.assertEqual(h["Content-Type"], ctype, path)
            self.assertEqual(int(h["Content-Length"]), len(body), path)
            self.assertEqual(h["X-Content-Type-Options"], "nosniff", path)
            self.assertEqual(h["Cache-Control"], "no-cache", path)
            self.assertRegex(h["ETag"], r'^"[0-9a-f]{16}"$', path)
            csp = h["Content-Security-Policy"]
            self.assertIn("default-src 'self'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertNotIn("unsafe-eval", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertNotIn(b"http://", body, path + " loads nothing from another origin")
            self.assertNotIn(b"https://", body, path)
        _, _, html = self.k.request("GET", "/kiosk/")
        self.assertIn(b'<html lang="vi">', html)
        self.assertNotIn(b"<script>", html, "no inline script")
        self.assertNotIn(b"style=", html, "no inline style")

    def test_head_has_the_headers_of_get_and_no_body(self):
        _, get, body = self.k.request("GET", "/kiosk/kiosk.js")
        status, head, hbody = self.k.request("HEAD", "/kiosk/kiosk.js")
        self.assertEqual(status, 200)
        self.assertEqual(hbody, b"")
        for name in ("Content-Type", "Content-Length", "ETag", "Cache-Control",
                     "Content-Security-Policy"):
            self.assertEqual(head[name], get[name], name)
        # The connection is still in step: the next reply is whole.
        status, _, again = self.k.request("GET", "/kiosk/kiosk.js")
        self.assertEqual((status, again), (200, body))

    def test_if_none_match_gets_304_without_a_body(self):
        _, h, body = self.k.request("GET", "/kiosk/")
        etag = h["ETag"]
        for sent in (etag, 'W/"0000000000000000", ' + etag, "*"):
            status, h304, b304 = self.k.request("GET", "/kiosk/", headers={"If-None-Match": sent})
            self.assertEqual(status, 304, sent)
            self.assertEqual(b304, b"", sent)
            self.assertEqual(h304["ETag"], etag)
            self.assertEqual(h304["Cache-Control"], "no-cache")
        status, _, again = self.k.request("GET", "/kiosk/", headers={"If-None-Match": '"0123456789abcdef"'})
        self.assertEqual((status, again), (200, body), "another version: the whole file")

    def test_kiosk_path_without_slash_and_index_html_are_the_page(self):
        _, _, page = self.k.request("GET", "/kiosk/")
        status, h, body = self.k.request("GET", "/kiosk")
        self.assertEqual(status, 301)
        self.assertEqual(h["Location"], "/kiosk/")
        status, _, body = self.k.request("GET", "/kiosk/index.html")
        self.assertEqual((status, body), (200, page))

    def test_unknown_asset_and_post_are_refused(self):
        status, _, body = self.k.request("GET", "/kiosk/nothing.js")
        self.assertEqual((status, body), (404, {"error": "not_found"}))
        status, h, body = self.k.request("POST", "/kiosk/", body={})
        self.assertEqual((status, body), (405, {"error": "method_not_allowed"}))
        self.assertEqual(h["Allow"], "GET, HEAD")

    def test_unregistered_certificate_gets_403_not_the_page(self):
        s = stranger()
        try:
            status, _, body = s.request("GET", "/kiosk/")
        finally:
            s.close()
        self.assertEqual((status, body), (403, {"error": "unknown_kiosk"}))

    def test_admin_listener_does_not_serve_the_page(self):
        status, body = admin("/kiosk/")
        self.assertEqual((status, body), (404, {"error": "not_found"}))

    def test_json_replies_still_say_no_store(self):
        _, h, _ = self.k.request("GET", "/v1/questionnaire")
        self.assertEqual(h["Cache-Control"], "no-store")
        self.assertNotIn("ETag", h)


class Browser:
    """Headless chromium on the kiosk page (tests/browser/kiosk.mjs), as
    kiosk n: its key and the CA in an NSS database in a HOME of its own,
    and a profile whose content setting (what the AutoSelectCertificateForUrls
    policy sets) picks the key for this server without asking. Both are
    per test: nothing is written to /etc/chromium."""

    def __init__(self, n, query="", clock_offset_ms=0):
        self.dir = tempfile.mkdtemp(prefix="browser-", dir=W["dir"])
        home, profile = os.path.join(self.dir, "home"), os.path.join(self.dir, "profile")
        nss = "sql:" + os.path.join(home, ".pki", "nssdb")
        os.makedirs(os.path.join(home, ".pki", "nssdb"))
        os.makedirs(os.path.join(profile, "Default"))
        p12 = os.path.join(self.dir, "kiosk.p12")
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
        run("certutil", "-N", "-d", nss, "--empty-password")
        run("certutil", "-A", "-d", nss, "-n", "sipas-ca", "-t", "CT,,", "-i", tls("ca.crt"))
        run("openssl", "pkcs12", "-export", "-in", tls("kiosk%d.crt" % n), "-inkey",
            tls("kiosk%d.key" % n), "-out", p12, "-passout", "pass:x", "-name", "kiosk%d" % n)
        run("pk12util", "-d", nss, "-i", p12, "-W", "x")
        origin = "https://localhost:%d" % W["port"]
        prefs = {"profile": {"content_settings": {"exceptions": {"auto_select_certificate": {
            origin + ",*": {"setting": {"filters": [{"ISSUER": {"CN": "Kiosk CA"}}]}}}}}}}
        with open(os.path.join(profile, "Default", "Preferences"), "w") as f:
            json.dump(prefs, f)
        chromium = shutil.which("chromium", path="/usr/lib/chromium") or shutil.which("chromium")
        node = shutil.which("node")
        if not os.path.isdir(os.path.join(NODE_MODULES, "puppeteer-core")) or not node:
            raise AssertionError("no node, or no puppeteer-core in %s: scripts/deps installs them"
                                 % NODE_MODULES)
        env = dict(os.environ, SIPAS_NODE_MODULES=NODE_MODULES)
        self.p = subprocess.Popen([node, os.path.join(BROWSER, "kiosk.mjs")], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        r = self.cmd("launch", chromium=chromium, home=home, profile=profile,
                     url=origin + "/kiosk/" + query, clockOffsetMs=clock_offset_ms)
        self.first_screen = r["screen"]

    def cmd(self, command, **args):
        self.p.stdin.write(json.dumps(dict(args, cmd=command)) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError("the browser driver ended")
        r = json.loads(line)
        if not r.pop("ok"):
            raise AssertionError("%s: %s" % (command, r["error"]))
        return r

    def quit(self):
        try:
            self.cmd("quit")
        except (AssertionError, BrokenPipeError, ValueError):
            pass
        self.p.stdin.close()
        self.p.wait(30)
        self.p.stdout.close()


def survey(area="dat-dai", value=4, na=("PA2",), questionnaire="sipas-dv-2023", **more):
    """What a person answers: every criterion value except na, not
    applicable."""
    codes = psql("SELECT string_agg(c.code, ' ' ORDER BY c.position) FROM criteria c "
                 "JOIN questionnaires q ON q.id = c.questionnaire_id WHERE q.code = '%s'"
                 % questionnaire).split()
    s = {"service_area": area, "answers": {c: (None if c in na else value) for c in codes}}
    s.update(more)
    return s


def stored_row(comment):
    """The stored rows with that comment: id, answers, overall, area,
    gender, age group, submitted_at as epoch seconds, kiosk, counter and
    officer."""
    out = psql("SELECT r.id, array_to_json(r.answers), r.overall, a.code, r.gender, r.age_group, "
               "extract(epoch FROM r.submitted_at), k.code, q.code, o.code FROM responses r "
               "JOIN service_areas a ON a.id = r.service_area_id JOIN kiosks k ON k.id = r.kiosk_id "
               "LEFT JOIN counters q ON q.id = r.counter_id LEFT JOIN officers o ON o.id = r.officer_id "
               "WHERE r.comment = '%s'" % comment)
    rows = []
    for line in out.splitlines():
        f = line.split("|")
        rows.append({"id": f[0], "answers": json.loads(f[1]), "overall": int(f[2]) if f[2] else None,
                     "area": f[3], "gender": f[4] or None, "age_group": f[5] or None,
                     "submitted_at": float(f[6]), "kiosk": f[7], "counter": f[8] or None,
                     "officer": f[9] or None})
    return rows


def shots_dir():
    d = os.environ.get("SIPAS_SCREENSHOT_DIR") or os.path.join(W["dir"], "shots")
    os.makedirs(d, exist_ok=True)
    return d


def stop_daemon():
    d = W["daemon"]
    d.send_signal(signal.SIGTERM)
    if d.wait(60) != 0:
        raise AssertionError("sipasd exited with %s" % d.returncode)


class PageInBrowser(unittest.TestCase):
    """The page in a real browser, against the real daemon and database."""

    def tearDown(self):
        if W["daemon"].poll() is not None:
            start_daemon()
        for b in getattr(self, "browsers", []):
            b.quit()

    def delivered(self, b):
        """The page's queue empty, nothing set aside, and what sipasd
        spooled (202, durable too) in the database."""
        # After an outage the sender's next try is at most a minute away.
        st = b.cmd("waitStatus", want={"pending": 0}, timeout=180000)
        self.assertEqual(st["aside"], 0, b.cmd("aside")["items"])
        wait_spool_empty()

    def browser(self, *args, **kw):
        b = Browser(*args, **kw)
        self.browsers = getattr(self, "browsers", []) + [b]
        return b

    def test_survey_by_touch_is_stored_with_its_answers_and_every_screen_passes_axe(self):
        b = self.browser(1)
        self.assertEqual(b.cmd("wait", screen="start")["screen"], "start")
        s = survey("ho-tich", 4, na=("PA2", "TT4"), overall=5, comment="browser-dv",
                   respondent={"gender": "female", "age_group": "35-49"})
        s["answers"]["TC1"] = 2
        r = b.cmd("survey", survey=s, audit={"axe": True, "shots": shots_dir()})
        self.assertEqual(r["screen"], "thanks")
        # No counters or officers in the questionnaire: no "who served" step.
        self.assertEqual(r["seen"], ["start", "area", "element-TC", "element-TT", "element-CC",
                                     "element-KQ", "element-PA", "overall", "respondent", "thanks"])
        for screen, v in r["violations"].items():
            self.assertEqual(v, [], "axe-core on the %s screen" % screen)
        self.delivered(b)
        rows = stored_row("browser-dv")
        self.assertEqual(len(rows), 1)
        row = rows[0]
        want = [4] * 19
        want[0], want[7], want[17] = 2, None, None      # TC1, TT4, PA2 by position
        self.assertEqual(row["answers"], want)
        self.assertEqual((row["overall"], row["area"], row["gender"], row["age_group"], row["kiosk"],
                          row["counter"], row["officer"]),
                         (5, "ho-tich", "female", "35-49", "K1", None, None))
        self.assertLess(abs(row["submitted_at"] - time.time()), 300)
        # Back to the start with nothing of the person left, and at 200 %
        # the page still fits its width.
        b.cmd("tap", selector='[data-action="done"]')
        self.assertEqual(b.cmd("wait", screen="start")["screen"], "start")
        self.assertEqual(b.cmd("count", selector=".choice")["count"], 0)
        b.cmd("tap", selector='[data-action="start"]')
        b.cmd("tap", selector='fieldset[data-key="service_area"] label[data-value="dat-dai"]')
        b.cmd("tap", selector='[data-action="next"]')
        self.assertEqual(b.cmd("wait", screen="element-TC")["screen"], "element-TC")
        self.assertEqual(b.cmd("count", selector=".choice.selected")["count"], 0,
                         "nothing of the previous person")
        self.assertFalse(b.cmd("shot", dir=shots_dir(), name="element-TC-200-percent", zoom=2)["overflow"],
                         "no sideways scrolling at 200 %")

    def test_counter_rating_questionnaire_is_stored(self):
        b = self.browser(2)
        s = survey("dat-dai", 3, na=("HD",), questionnaire="quay-2023", comment="browser-quay")
        r = b.cmd("survey", survey=s, audit={"axe": True})
        self.assertEqual(r["seen"], ["start", "area", "element-QY", "overall", "respondent", "thanks"])
        for screen, v in r["violations"].items():
            self.assertEqual(v, [], "axe-core on the %s screen" % screen)
        self.delivered(b)
        rows = stored_row("browser-quay")
        self.assertEqual([x["answers"] for x in rows], [[3, None, 3]])
        self.assertEqual(rows[0]["kiosk"], "K2")

    def test_who_served_shows_the_counters_and_the_officers_of_the_chosen_one(self):
        b = self.browser(4)
        s = survey("ho-tich", 5, counter="Q2", officer="O2", comment="served-q2")
        r = b.cmd("survey", survey=s, audit={"axe": True, "shots": shots_dir()})
        self.assertEqual(r["seen"][:3], ["start", "area", "served"])
        for screen, v in r["violations"].items():
            self.assertEqual(v, [], "axe-core on the %s screen" % screen)
        self.delivered(b)
        rows = stored_row("served-q2")
        self.assertEqual([(x["kiosk"], x["counter"], x["officer"]) for x in rows], [("K4", "Q2", "O2")])
        # The officers offered are those of the chosen counter and those
        # posted at none, by name.
        b.cmd("tap", selector='[data-action="done"]')
        b.cmd("tap", selector='[data-action="start"]')
        b.cmd("tap", selector='fieldset[data-key="service_area"] label[data-value="dat-dai"]')
        b.cmd("tap", selector='[data-action="next"]')
        b.cmd("wait", screen="served")
        officer = 'fieldset[data-key="officer"] label[data-value="%s"]'
        self.assertEqual([b.cmd("count", selector=officer % o)["count"] for o in ("O1", "O2", "O3")],
                         [1, 1, 1], "no counter chosen: every officer of the center")
        b.cmd("tap", selector='fieldset[data-key="counter"] label[data-value="Q1"]')
        self.assertEqual([b.cmd("count", selector=officer % o)["count"] for o in ("O1", "O2", "O3")],
                         [1, 0, 1])
        self.assertIn("Nguyễn Văn An", b.cmd("text", selector=officer % "O1")["text"])
        self.assertIn("Quầy 1 – Đất đai", b.cmd("text", selector='label[data-value="Q1"]')["text"])

    def test_kiosk_fixed_to_a_counter_without_officers_skips_who_served(self):
        b = self.browser(5)
        r = b.cmd("survey", survey=survey("dat-dai", 3, comment="fixed-f1"), audit=None)
        self.assertEqual(r["seen"][:3], ["start", "area", "element-TC"])
        self.delivered(b)
        rows = stored_row("fixed-f1")
        self.assertEqual([(x["kiosk"], x["counter"], x["officer"]) for x in rows], [("K5", "F1", None)])

    def test_keyboard_alone_answers_and_moves_on_with_the_focus_on_each_heading(self):
        b = self.browser(1)
        b.cmd("wait", screen="start")
        self.assertEqual(b.cmd("focused")["focused"]["tag"], "H1", "a screen reader reads the heading first")
        b.cmd("keys", keys=["Tab"])
        self.assertEqual(b.cmd("focused")["focused"]["action"], "start")
        b.cmd("keys", keys=["Enter"])
        b.cmd("wait", screen="area")
        self.assertEqual(b.cmd("focused")["focused"]["tag"], "H1")
        # Into the group of areas, the next one with an arrow, chosen.
        b.cmd("keys", keys=["Tab", "ArrowDown"])
        f = b.cmd("focused")["focused"]
        self.assertEqual((f["type"], f["checked"]), ("radio", True))
        self.assertEqual(b.cmd("count", selector=".choice.selected")["count"], 1)
        b.cmd("keys", keys=["Tab", "Tab"])      # past "back", to "next"
        self.assertEqual(b.cmd("focused")["focused"]["action"], "next")
        b.cmd("keys", keys=["Enter"])
        self.assertEqual(b.cmd("wait", screen="element-TC")["screen"], "element-TC")

    def test_idle_page_returns_to_start_and_forgets_the_answers(self):
        b = self.browser(1, query="?idle=2")
        b.cmd("wait", screen="start")
        b.cmd("tap", selector='[data-action="start"]')
        b.cmd("wait", screen="area")
        b.cmd("tap", selector='fieldset[data-key="service_area"] label[data-value="dat-dai"]')
        self.assertEqual(b.cmd("count", selector=".choice.selected")["count"], 1)
        # The person walked away: two seconds later, the start again.
        b.cmd("wait", screen="start", timeout=30000)
        self.assertEqual(b.cmd("count", selector="fieldset")["count"], 0)
        b.cmd("tap", selector='[data-action="start"]')
        b.cmd("wait", screen="area")
        self.assertEqual(b.cmd("count", selector=".choice.selected")["count"], 0,
                         "nothing of the previous person")
        self.assertEqual(b.cmd("count", selector="input:checked")["count"], 0)

    def test_offline_surveys_survive_reload_close_and_crash_and_are_stored_once(self):
        b = self.browser(1)
        b.cmd("wait", screen="start")
        b.cmd("offlineReady")               # the service worker has the page
        stop_daemon()
        comments = ["offline-%d" % i for i in range(5)]
        for c in comments[:3]:
            self.assertEqual(b.cmd("survey", survey=survey(comment=c), audit=None)["screen"], "thanks")
        b.cmd("reload")                     # the page from the service worker
        self.assertEqual(b.cmd("wait", screen="start")["screen"], "start")
        for c in comments[3:]:
            self.assertEqual(b.cmd("survey", survey=survey(comment=c), audit=None)["screen"], "thanks")
        st = b.cmd("waitStatus", want={"pending": 5})
        self.assertIn("Mất kết nối", st["text"])
        b.cmd("shot", dir=shots_dir(), name="offline-status")
        b.cmd("close")
        b.cmd("reopen")
        b.cmd("wait", screen="start")
        b.cmd("waitStatus", want={"pending": 5})
        b.cmd("crash")
        b.cmd("reopen")
        b.cmd("wait", screen="start")
        b.cmd("waitStatus", want={"pending": 5})
        for c in comments:
            self.assertEqual(stored_row(c), [], "nothing stored while sipasd was down")
        completed = {x["id"]: x["completedAt"] / 1000 for x in b.cmd("queue")["items"]}
        self.assertEqual(len(completed), 5)
        # Long enough that a clock set from the service worker's copy of
        # the questionnaire (its Date is that of its caching) would be off.
        time.sleep(15)
        start_daemon()
        self.delivered(b)
        for c in comments:
            rows = stored_row(c)
            self.assertEqual(len(rows), 1, c)
            # Dated when the person finished, not when it was delivered:
            # the offset's error is under a second plus half an exchange.
            self.assertLess(abs(rows[0]["submitted_at"] - completed[rows[0]["id"]]), 10, c)
        self.assertEqual(b.cmd("posts")["posts"], ["/v1/responses/batch"], "the backlog in one batch")

    def test_browser_killed_at_the_thank_you_screen_loses_nothing(self):
        b = self.browser(1)
        b.cmd("wait", screen="start")
        b.cmd("offlineReady")
        stop_daemon()
        # Killed the moment it says thank you: the response was on disk.
        r = b.cmd("survey", survey=survey(comment="crash-at-thanks"), audit={"crashAtThanks": True})
        self.assertEqual(r["screen"], "thanks")
        b.cmd("reopen")
        b.cmd("wait", screen="start")
        self.assertEqual(b.cmd("waitStatus", want={"pending": 1})["pending"], 1)
        start_daemon()
        self.delivered(b)
        self.assertEqual(len(stored_row("crash-at-thanks")), 1)

    def test_clock_corrected_after_an_offline_survey_still_dates_it_right(self):
        # Two hours ahead, the offset measured; then sipasd goes away.
        b = self.browser(1, clock_offset_ms=2 * 3600 * 1000)
        b.cmd("wait", screen="start")
        b.cmd("offlineReady")
        b.cmd("waitStatus", want={"pending": 0})
        self.assertIn("Đã kết nối", b.cmd("status")["text"])
        stop_daemon()
        # One survey with the offset known, one after a reload (from the
        # service worker) before any exchange with the server.
        done = {}
        self.assertEqual(b.cmd("survey", survey=survey(comment="ntp-known"), audit=None)["screen"], "thanks")
        done["ntp-known"] = time.time()
        b.cmd("reload")
        b.cmd("wait", screen="start")
        self.assertEqual(b.cmd("survey", survey=survey(comment="ntp-unknown"), audit=None)["screen"], "thanks")
        done["ntp-unknown"] = time.time()
        # NTP puts the tablet's clock right before sipasd is back.
        b.cmd("clock", offsetMs=0)
        time.sleep(2)
        start_daemon()
        self.delivered(b)   # not refused as from the future
        for c, t in done.items():
            rows = stored_row(c)
            self.assertEqual(len(rows), 1, c)
            self.assertLess(abs(rows[0]["submitted_at"] - t), 60, c)

    def test_questionnaire_is_fetched_again_at_each_return_to_the_start(self):
        b = self.browser(4, query="?idle=2")
        b.cmd("wait", screen="start")
        sipas("officer", "add", "O4", "--name", "Phạm Thị Dung", "--center", "ht-ky-anh", "--counter", "Q2")
        k = kiosk(4)
        deadline = time.monotonic() + 30
        while "O4" not in [o["code"] for o in k.request("GET", "/v1/questionnaire")[2].get("officers", [])]:
            self.assertLess(time.monotonic(), deadline, "the new officer served within 30 s")
            time.sleep(0.2)
            k.close()
        k.close()
        # Back at the start (the idle timer), the page asks again behind
        # the start screen: the next person sees the new officer.
        officer = 'fieldset[data-key="officer"] label[data-value="O4"]'
        seen = 0
        for _ in range(3):
            b.cmd("tap", selector='[data-action="start"]')
            b.cmd("tap", selector='fieldset[data-key="service_area"] label[data-value="dat-dai"]')
            b.cmd("tap", selector='[data-action="next"]')
            b.cmd("wait", screen="served")
            seen = b.cmd("count", selector=officer)["count"]
            if seen:
                break
            b.cmd("wait", screen="start", timeout=30000)
        self.assertEqual(seen, 1, "the officer added after the page loaded")

    def test_page_asks_for_persistent_storage_and_says_when_refused(self):
        b = self.browser(1)
        b.cmd("wait", screen="start")
        b.cmd("waitStatus", want={"pending": 0})
        time.sleep(1)
        refused = "không cho lưu bền vững"
        if b.cmd("persisted")["persisted"]:
            self.assertNotIn(refused, b.cmd("status")["text"])
        else:
            self.assertIn(refused, b.cmd("status")["text"])

    def test_refused_responses_are_kept_aside_for_staff_and_the_rest_delivered(self):
        taken = example(comment="aside-first")
        k = kiosk(1)
        self.assertEqual(k.post(taken)[0], 201)
        k.close()
        b = self.browser(1)
        b.cmd("wait", screen="start")
        b.cmd("enqueue", bodies=[dict(taken, comment="aside-conflict"),           # its id is taken: 409
                                 example(comment="aside-invalid", service_area="nowhere"),  # 400
                                 example(comment="aside-good")])
        st = b.cmd("waitStatus", want={"pending": 0, "aside": 2})
        self.assertIn("Bị từ chối, cần kiểm tra: 2", st["text"])
        aside = {x["body"]["comment"]: x for x in b.cmd("aside")["items"]}
        self.assertEqual(aside["aside-conflict"]["status"], 409)
        self.assertEqual(aside["aside-conflict"]["error"]["error"], "id_conflict")
        self.assertEqual(aside["aside-invalid"]["status"], 400)
        self.assertEqual(aside["aside-invalid"]["error"]["field"], "service_area")
        wait_spool_empty()
        self.assertEqual(len(stored_row("aside-good")), 1)
        self.assertEqual(stored_row("aside-conflict") + stored_row("aside-invalid"), [])
        # Kept across a restart of the page, and listed for staff.
        b.cmd("reload")
        b.cmd("waitStatus", want={"pending": 0, "aside": 2})
        self.assertEqual(b.cmd("goto", query="?staff")["screen"], "staff")
        self.assertEqual(b.cmd("count", selector="tbody tr")["count"], 2)
        self.assertEqual(b.cmd("axe")["violations"], [])
        b.cmd("shot", dir=shots_dir(), name="staff")

    def test_staff_view_does_not_send_the_queue(self):
        b = self.browser(1)
        b.cmd("wait", screen="start")
        b.cmd("offlineReady")
        stop_daemon()
        self.assertEqual(b.cmd("survey", survey=survey(comment="staff-tab"), audit=None)["screen"], "thanks")
        # The staff view (in the kiosk's tab here, in another tab as
        # well) only reads: the kiosk page's sender is the one sender.
        self.assertEqual(b.cmd("goto", query="?staff")["screen"], "staff")
        start_daemon()
        time.sleep(15)      # several tries of a sender that would run
        self.assertEqual(len(b.cmd("queue")["items"]), 1)
        self.assertEqual(b.cmd("posts")["posts"], [])
        self.assertEqual(stored_row("staff-tab"), [])
        b.cmd("goto", query="")
        self.delivered(b)
        self.assertEqual(len(stored_row("staff-tab")), 1)

    def test_batch_item_of_a_closed_center_stops_the_page_and_is_kept(self):
        b = self.browser(6)
        b.cmd("wait", screen="start")
        yesterday = (datetime.datetime.now(VN) - datetime.timedelta(days=1)).date()
        psql("UPDATE centers SET closed_on = '%s' WHERE code = 'ht-vu-quang'" % yesterday)
        # sipasd judges by the organisation it read last (within
        # kiosk_cache_ttl): until a response of today is refused.
        k = kiosk(6)
        deadline = time.monotonic() + 30
        while k.post(example(comment="closing-probe"))[0] != 403:
            self.assertLess(time.monotonic(), deadline, "the closing read within 30 s")
            time.sleep(0.2)
        k.close()
        # Two responses queued together go as one batch: one of the days
        # the center was open, one of today.
        before = example(comment="closing-before",
                         submitted_at=(datetime.datetime.now(VN) - datetime.timedelta(days=2))
                         .isoformat(timespec="seconds"))
        b.cmd("enqueue", bodies=[before, example(comment="closing-after")])
        self.assertEqual(b.cmd("wait", screen="admin")["screen"], "admin")
        self.assertEqual(b.cmd("posts")["posts"], ["/v1/responses/batch"])
        self.assertEqual(b.cmd("waitStatus", want={"pending": 1, "aside": 0})["pending"], 1,
                         "the refused item waits for the kiosk to be moved")
        wait_spool_empty()
        self.assertEqual(len(stored_row("closing-before")), 1, "its center was open that day")
        self.assertEqual(stored_row("closing-after"), [])

    def test_clock_two_hours_ahead_still_stores_the_right_time(self):
        before = time.time()
        b = self.browser(1, clock_offset_ms=2 * 3600 * 1000)
        r = b.cmd("survey", survey=survey(comment="clock-ahead"), audit=None)
        after = time.time()
        self.assertEqual(r["screen"], "thanks")
        self.delivered(b)   # not refused as from the future
        rows = stored_row("clock-ahead")
        self.assertEqual(len(rows), 1)
        # Dated by the server's clock, give or take the measurement (the
        # Date header's second and the exchange's length), not two hours on.
        self.assertGreater(rows[0]["submitted_at"], before - 60)
        self.assertLess(rows[0]["submitted_at"], after + 60)

    def test_revoked_kiosk_sees_the_administrator_screen_and_keeps_its_answers(self):
        b = self.browser(3)
        b.cmd("wait", screen="start")
        sipas("kiosk", "revoke", "K3")
        k = kiosk(3)
        deadline = time.monotonic() + 30
        while k.request("GET", "/v1/questionnaire")[0] != 403:
            self.assertLess(time.monotonic(), deadline, "revocation within 10 s")
            time.sleep(0.5)
            k.close()
        k.close()
        self.assertEqual(b.cmd("screen")["screen"], "start")
        # The person is thanked: the answer is kept. Then the page stops.
        r = b.cmd("survey", survey=survey(area="ho-tich", comment="revoked"), audit=None)
        self.assertEqual(r["screen"], "thanks")
        b.cmd("tap", selector='[data-action="done"]')
        self.assertEqual(b.cmd("wait", screen="admin")["screen"], "admin")
        self.assertEqual(b.cmd("axe")["violations"], [])
        b.cmd("shot", dir=shots_dir(), name="admin")
        self.assertEqual(b.cmd("status")["pending"], 1, "kept, not thrown away")
        self.assertEqual(stored_row("revoked"), [])
        b.cmd("reload")
        self.assertEqual(b.cmd("wait", screen="admin")["screen"], "admin")


def setUpModule():
    start_world(len(CENTERS), CENTERS, "kiosk_cache_ttl = 1s\n")
    for command in ORGANISATION:
        sipas(*command)
    # The registry is read again within 10 s: the browser test, which
    # starts later, finds K2 on the counter rating.
    psql("UPDATE kiosks SET questionnaire_id = (SELECT id FROM questionnaires "
         "WHERE code = 'quay-2023') WHERE code = 'K2'")
    # Once K5's fixed counter is served, the rest of the organisation is.
    k = kiosk(5)
    deadline = time.monotonic() + 30
    while (k.request("GET", "/v1/questionnaire")[2].get("counter") or {}).get("code") != "F1":
        if time.monotonic() > deadline:
            raise AssertionError("the organisation was not read within 30 s")
        time.sleep(0.2)
    k.close()


def tearDownModule():
    stop_world()


if __name__ == "__main__":
    unittest.main(verbosity=2)
