#!/usr/bin/env python3
"""The kiosk page (protocol "The kiosk page"): what sipasd serves under
/kiosk/, checked over real mutual TLS, and the page itself driven in
Debian's headless chromium (tests/browser/kiosk.mjs) with a kiosk's real
client certificate, against the real sipasd and PostgreSQL: surveys filled
by touch, the offline queue across a stopped daemon, a reload and a browser
restart, revocation, a clock two hours off, and axe-core on every screen."""

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
# by the browser test.
CENTERS = ["ht-can-loc", "ht-can-loc", "ht-duc-tho"]
ASSETS = {
    "/kiosk/": "text/html; charset=utf-8",
    "/kiosk/kiosk.css": "text/css; charset=utf-8",
    "/kiosk/kiosk.js": "text/javascript; charset=utf-8",
    "/kiosk/sender.js": "text/javascript; charset=utf-8",
    "/kiosk/sw.js": "text/javascript; charset=utf-8",
}
BROWSER = os.path.join(SRC, "tests", "browser")


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


def setUpModule():
    start_world(len(CENTERS), CENTERS)
    # The registry is read again within 10 s: the browser test, which
    # starts later, finds K2 on the counter rating.
    psql("UPDATE kiosks SET questionnaire_id = (SELECT id FROM questionnaires "
         "WHERE code = 'quay-2023') WHERE code = 'K2'")


def tearDownModule():
    stop_world()


if __name__ == "__main__":
    unittest.main(verbosity=2)
