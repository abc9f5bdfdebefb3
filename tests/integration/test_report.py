#!/usr/bin/env python3
"""sipas report and sipas export against an independent computation.

Responses go in through sipasd (so the rollup is kept by the trigger, batch
by batch, as in production); every figure of every grouping is then
computed again here, in Python, from the responses as sent, with the
formulas of docs/sipas.md, and compared with what sipas prints. The data
has null answers, a criterion nobody answered in a group, a response with no
valid answer at all, weights other than 1, single-response groups and both
scales (5 and 3 levels). The HTML report is rendered in headless Chromium."""

import collections
import csv
import datetime
import io
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import (W, SRC, VN, kiosk, psql, realistic_response, sipas,  # noqa: E402
                   start_world, stop_world)

CENTERS = ["ht-can-loc", "ht", "ht-ky-anh", "ht-ky-anh", "ht-huong-son"]   # of kiosks K1..K5
QUAY = "quay-2023"
TODAY = datetime.datetime.now(VN).date()
FIRST = TODAY - datetime.timedelta(days=80)
# K5 (ht-huong-son) answers every criterion alike on two days: 6 of 11
# satisfied on EXACT_B, an index of 54.5454... % (54.55 %, 5.45 points; the
# rounded index / 10 would give 5.46), and 1 of 3 on EXACT_A, 33.3333 %:
# a change of -21.21 from B (the rounded indices would give -21.22).
EXACT_B = FIRST + datetime.timedelta(days=10)
EXACT_A = FIRST + datetime.timedelta(days=50)
# Comments are written by the public; what a spreadsheet would run of them.
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tstarts with a tab"]
HOSTILE_CR = "\r=1+2"      # sipasd refuses a CR: stored by another way
HOSTILE_PROCEDURE = "-1.2"  # a valid procedure code that reads as a formula


def round2(x):
    return None if x is None else round(x + (1e-9 if x >= 0 else -1e-9), 2)


def in_csv(text):
    """Text as sipas writes it in CSV: a leading quote where a spreadsheet
    would run it as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def exact_day(day, satisfied, unsatisfied, qjson):
    """K5's responses of one day: every criterion 4, or every one 2."""
    crits = [c["code"] for e in qjson["elements"] for c in e["criteria"]]
    when = datetime.datetime.combine(day, datetime.time(9), VN).isoformat()
    return [{"id": str(uuid.uuid4()), "questionnaire": "sipas-dv-2023", "submitted_at": when,
             "service_area": "dat-dai", "answers": {c: v for c in crits}}
            for v in [4] * satisfied + [2] * unsatisfied]


def quarter(d):
    return "%d-Q%d" % (d.year, (d.month - 1) // 3 + 1)


class Shape:
    """A questionnaire as the database holds it, read with psql."""

    def __init__(self, code):
        row = psql("SELECT id, scale_min, scale_max, satisfied_min FROM questionnaires "
                   "WHERE code = '%s'" % code).split("|")
        self.code = code
        self.id, self.lo, self.hi, self.sat = map(int, row)
        self.elements = []      # (code, weight, [(criterion, weight)])
        for line in psql("SELECT e.code, e.weight, string_agg(c.code || ':' || c.weight, ',' "
                         "ORDER BY c.position) FROM elements e JOIN criteria c ON c.element_id = e.id "
                         "WHERE e.questionnaire_id = %d GROUP BY e.code, e.weight, e.position "
                         "ORDER BY e.position" % self.id).splitlines():
            ecode, ew, crits = line.split("|")
            self.elements.append((ecode, float(ew), [(c.split(":")[0], float(c.split(":")[1]))
                                                     for c in crits.split(",")]))
        self.criteria = [c for _, _, cs in self.elements for c, _ in cs]
        self.element_of = {c: e for e, _, cs in self.elements for c, _ in cs}


def figures(q, rs, only=None):
    """Every figure of a group of responses rs. only: a criterion or an
    element code, for the groups of --by criterion and --by element."""
    crits = q.criteria
    if only in q.element_of:
        crits = [only]
    elif only is not None:
        crits = [c for c, e in q.element_of.items() if e == only]
    answers = [[r["answers"][c] for c in crits if r["answers"][c] is not None] for r in rs]
    rates = {}
    for c in crits:
        valid = [r["answers"][c] for r in rs if r["answers"][c] is not None]
        if valid:
            rates[c] = sum(v >= q.sat for v in valid) / len(valid)
    elements = {}
    num = den = 0.0
    for ecode, ew, cs in q.elements:
        got = [(rates[c], w) for c, w in cs if c in rates]
        if got:
            elements[ecode] = sum(r * w for r, w in got) / sum(w for _, w in got)
            num += ew * elements[ecode]
            den += ew
    index = 100 * num / den if den else None      # rounded below, once
    flat = [v for a in answers for v in a]
    shares = [sum(v >= q.sat for v in a) / len(a) for a in answers if a]
    if only in q.element_of:
        n = len(flat)
    elif only is not None:
        n = len(shares)
    else:
        n = len(rs)
    return {
        "n": n,
        "index": round2(index),
        "points": round2(index / 10) if index is not None else None,
        "elements": {e: round2(100 * elements[e]) if e in elements else None
                     for e, _, _ in q.elements},
        "criteria": {c: round2(100 * rates[c]) if c in rates else None for c in q.criteria},
        "mean": round2(sum(flat) / len(flat)) if flat else None,
        "levels": {str(v): round2(100 * flat.count(v) / len(flat)) if flat else None
                   for v in range(q.lo, q.hi + 1)},
        "margin": (round2(100 * 1.96 * statistics.stdev(shares) / math.sqrt(len(shares)))
                   if len(shares) >= 2 else None),
        "low_sample": n < 30,
        "_rates": rates,
        "_index": index,
    }


def ranks(groups):
    """Competition ranking by index: 1, 2, 2, 4."""
    return {k: 1 + sum(1 for o in groups.values() if o["index"] is not None and f["index"] is not None
                       and o["index"] > f["index"])
            for k, f in groups.items() if f["index"] is not None}


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rng = random.Random(4)
        _, _, qjson = kiosk(1).request("GET", "/v1/questionnaire")
        cls.sent = []       # (kiosk number, response)
        batches = collections.defaultdict(list)
        for i in range(420):
            k = rng.choice([1, 1, 2, 3])
            day = FIRST + datetime.timedelta(days=rng.randint(0, 79))
            when = datetime.datetime.combine(day, datetime.time(rng.randint(0, 23), rng.randint(0, 59)), VN)
            r = realistic_response(rng, qjson, when)
            r["service_area"] = rng.choice(["dat-dai", "ho-tich", "lai-xe"])
            if r["service_area"] == "lai-xe":
                r["answers"]["PA3"] = None      # a criterion nobody answered there
            r["procedure"] = rng.choice(["1.000001", "1.000002", "2.000001", None])
            if r["procedure"] is None:
                del r["procedure"]
            batches[k].append(r)
        # One response with no valid answer at all, alone in its procedure.
        r = realistic_response(rng, qjson, datetime.datetime.now(VN) - datetime.timedelta(hours=1))
        r["answers"] = {c: None for c in r["answers"]}
        r["procedure"] = "9.999999"
        batches[2].append(r)
        # The counter rating (3 levels) from K4.
        for i in range(60):
            day = FIRST + datetime.timedelta(days=rng.randint(0, 79))
            batches[4].append({
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "questionnaire": QUAY,
                "submitted_at": datetime.datetime.combine(day, datetime.time(10), VN).isoformat(),
                "service_area": rng.choice(["dat-dai", "ho-tich"]),
                "answers": {c: rng.choice([1, 2, 2, 3, 3, None]) for c in ("TD", "HD", "TG")},
            })
        batches[5] += exact_day(EXACT_B, 6, 5, qjson) + exact_day(EXACT_A, 1, 2, qjson)
        cls.hostile = {}    # id: comment
        for text in HOSTILE + ["replaced by HOSTILE_CR below"]:
            r = dict(realistic_response(rng, qjson, datetime.datetime.now(VN)),
                     comment=text, procedure=HOSTILE_PROCEDURE)
            batches[2].append(r)
            cls.hostile[r["id"]] = text
        for k, rs in batches.items():
            client = kiosk(k)
            for at in range(0, len(rs), 50):
                chunk = rs[at:at + 50]
                status, _, reply = client.request("POST", "/v1/responses/batch", chunk)
                assert status == 200, (status, reply)
                assert all(x["status"] == "stored" for x in reply), reply
                cls.sent += [(k, r) for r in chunk]
        cr = next(rid for rid, text in cls.hostile.items() if text.startswith("replaced"))
        psql("UPDATE responses SET comment = E'\\r=1+2' WHERE id = '%s'" % cr)
        cls.hostile[cr] = HOSTILE_CR
        # Weights other than 1, read back by the independent computation.
        psql("UPDATE criteria SET weight = 3 WHERE code = 'TC1'")
        psql("UPDATE elements SET weight = 2 WHERE code = 'CC'")
        psql("UPDATE criteria SET weight = 2 WHERE code = 'TD'")
        cls.dv = Shape("sipas-dv-2023")
        cls.quay = Shape(QUAY)

    # -- helpers -----------------------------------------------------------

    def responses(self, q, frm=None, to=None, pred=lambda k, r: True):
        out = []
        for k, r in self.sent:
            d = datetime.datetime.fromisoformat(r["submitted_at"]).astimezone(VN).date()
            if r["questionnaire"] == q.code and (frm is None or d >= frm) and \
                    (to is None or d <= to) and pred(k, r):
                out.append((k, r, d))
        return out

    def key_of(self, dim, k, r, d):
        return {
            "area": lambda: r["service_area"],
            "center": lambda: CENTERS[k - 1],
            "district": lambda: CENTERS[k - 1],     # no commune kiosks: each its own district
            "level": lambda: "province" if CENTERS[k - 1] == "ht" else "district",
            "month": lambda: d.strftime("%Y-%m"),
            "quarter": lambda: quarter(d),
            "year": lambda: str(d.year),
            "procedure": lambda: r.get("procedure", "-"),
            "kiosk": lambda: "K%d" % k,
        }[dim]()

    def expected(self, q, dim, rows):
        if dim in ("criterion", "element"):
            rs = [r for _, r, _ in rows]
            parts = q.criteria if dim == "criterion" else [e for e, _, _ in q.elements]
            return {p: figures(q, rs, only=p) for p in parts}
        groups = collections.defaultdict(list)
        for k, r, d in rows:
            groups[self.key_of(dim, k, r, d)].append(r)
        return {key: figures(q, rs) for key, rs in groups.items()}

    def report(self, *args):
        return json.loads(sipas("report", "--format", "json", *args).stdout)

    def assert_figures(self, got, want, what):
        for field in ("n", "index", "points", "elements", "criteria", "mean", "levels", "low_sample"):
            self.assertEqual(got[field], want[field], "%s: %s" % (what, field))
        if want["margin"] is None:
            self.assertIsNone(got["margin"], what + ": margin")
        else:   # sums of shares in another order may differ in the last bit
            self.assertAlmostEqual(got["margin"], want["margin"], delta=0.011, msg=what + ": margin")

    # -- every grouping, both scales -----------------------------------------

    def test_every_grouping_equals_an_independent_computation(self):
        for q in (self.dv, self.quay):
            rows = self.responses(q)
            total = figures(q, [r for _, r, _ in rows])
            for dim in ("area", "center", "district", "level", "criterion", "element",
                        "month", "quarter", "year", "procedure", "kiosk"):
                with self.subTest(questionnaire=q.code, by=dim):
                    got = self.report("--by", dim, "--questionnaire", q.code)
                    want = self.expected(q, dim, rows)
                    keys = [g[dim] for g in got["groups"]]
                    self.assertEqual(sorted(keys), sorted(want))
                    rank = ranks(want)
                    for g in got["groups"]:
                        self.assert_figures(g, want[g[dim]], "%s %s" % (dim, g[dim]))
                        self.assertEqual(g["rank"], rank.get(g[dim]), "rank of " + g[dim])
                    self.assert_figures(got["total"], total, dim + " total")
                    if dim in ("month", "quarter", "year"):
                        self.assertEqual(keys, sorted(keys), "time in order")
                    elif dim not in ("criterion", "element"):
                        idx = [g["index"] for g in got["groups"] if g["index"] is not None]
                        self.assertEqual(idx, sorted(idx, reverse=True), "ranked by index")

    def test_the_edge_groups(self):
        # The response without a valid answer: a group with n = 1 and no figures.
        got = self.report("--by", "procedure", "--questionnaire", self.dv.code)
        alone = next(g for g in got["groups"] if g["procedure"] == "9.999999")
        self.assertEqual((alone["n"], alone["index"], alone["margin"], alone["mean"], alone["rank"]),
                         (1, None, None, None, None))
        self.assertTrue(alone["low_sample"])
        # PA3 nobody answered in lai-xe: no rate, left out of PA there.
        got = self.report("--by", "area", "--area", "lai-xe")
        (g,) = got["groups"]
        self.assertIsNone(g["criteria"]["PA3"])
        self.assertIsNotNone(g["elements"]["PA"])
        # An empty selection: a total of zero, no groups.
        got = self.report("--by", "area", "--from", "2001-01-01", "--to", "2001-12-31",
                          "--questionnaire", self.dv.code)
        self.assertEqual(got["groups"], [])
        self.assertEqual((got["total"]["n"], got["total"]["index"]), (0, None))

    def test_filters_combine(self):
        frm, to = FIRST + datetime.timedelta(days=20), FIRST + datetime.timedelta(days=60)
        got = self.report("--by", "area", "--from", str(frm), "--to", str(to), "--center", "ht-ky-anh",
                          "--questionnaire", self.dv.code)
        rows = self.responses(self.dv, frm, to, lambda k, r: CENTERS[k - 1] == "ht-ky-anh")
        self.assertGreater(len(rows), 10)
        self.assert_figures(got["total"], figures(self.dv, [r for _, r, _ in rows]), "center+dates")
        # The province's center includes the districts below it.
        got = self.report("--by", "area", "--center", "ht", "--questionnaire", self.dv.code)
        self.assertEqual(got["total"]["n"], len(self.responses(self.dv)))
        got = self.report("--by", "center", "--kiosk", "K3", "--area", "ho-tich")
        rows = self.responses(self.dv, pred=lambda k, r: k == 3 and r["service_area"] == "ho-tich")
        self.assertEqual([g["center"] for g in got["groups"]], ["ht-ky-anh"])
        self.assert_figures(got["total"], figures(self.dv, [r for _, r, _ in rows]), "kiosk+area")

    def test_cross_table(self):
        q = self.dv
        rows = self.responses(q)
        got = self.report("--by", "area,quarter", "--questionnaire", q.code)
        self.assertEqual(got["by"], ["area", "quarter"])
        cells = collections.defaultdict(list)
        for k, r, d in rows:
            for a in (r["service_area"], None):
                for qq in (quarter(d), None):
                    if (a, qq) != (None, None):
                        cells[(a, qq)].append(r)
        self.assertEqual(sorted(((g["area"] or ""), (g["quarter"] or "")) for g in got["groups"]),
                         sorted(((a or ""), (qq or "")) for a, qq in cells))
        for g in got["groups"]:
            self.assert_figures(g, figures(q, cells[(g["area"], g["quarter"])]),
                                "cell %s %s" % (g["area"], g["quarter"]))
        # Ranks are within each quarter.
        for qq in {quarter(d) for _, _, d in rows}:
            want = ranks({a: figures(q, rs) for (a, x), rs in cells.items() if x == qq and a})
            for g in got["groups"]:
                if g["quarter"] == qq and g["area"]:
                    self.assertEqual(g["rank"], want.get(g["area"]))
        self.assert_figures(got["total"], figures(q, [r for _, r, _ in rows]), "total")
        # A criterion split crossed with a time dimension.
        got = self.report("--by", "criterion,month", "--questionnaire", q.code)
        for g in got["groups"]:
            if g["criterion"] and g["month"]:
                rs = [r for _, r, d in rows if d.strftime("%Y-%m") == g["month"]]
                self.assert_figures(g, figures(q, rs, only=g["criterion"]),
                                    "%s %s" % (g["criterion"], g["month"]))
        table = sipas("report", "--by", "area,quarter", "--questionnaire", q.code).stdout
        self.assertIn(quarter(TODAY), table)
        self.assertIn("%.2f" % got["total"]["index"], table)

    def test_compare_worst_target(self):
        q = self.dv
        mid = FIRST + datetime.timedelta(days=40)
        now = (mid, TODAY)
        before = (FIRST, mid - datetime.timedelta(days=1))
        got = self.report("--by", "area", "--from", str(now[0]), "--to", str(now[1]),
                          "--compare", "%s:%s" % before, "--worst", "3", "--target", "80",
                          "--questionnaire", q.code)
        self.assertEqual(got["compare"], {"from": str(before[0]), "to": str(before[1])})
        cur = self.expected(q, "area", self.responses(q, *now))
        prev = self.expected(q, "area", self.responses(q, *before))
        rc, rp = ranks(cur), ranks(prev)
        compared = 0
        for g in got["groups"]:
            a = g["area"]
            if cur[a]["index"] is None or a not in prev:   # the response without answers
                self.assertIsNone(g["change"])
                self.assertIsNone(g["rank_change"])
                continue
            compared += 1
            self.assertEqual(g["previous_index"], prev[a]["index"])
            # Of the unrounded indices, rounded once.
            self.assertEqual(g["change"], round2(cur[a]["_index"] - prev[a]["_index"]))
            self.assertEqual(g["rank_change"], rp[a] - rc[a])
            self.assertEqual(g["below_target"], cur[a]["index"] < 80)
            rates = cur[a]["_rates"]
            weakest = sorted(rates, key=lambda c: (rates[c], q.criteria.index(c)))[:3]
            self.assertEqual([w["code"] for w in g["worst"]], weakest)
            self.assertEqual([w["rate"] for w in g["worst"]], [round2(100 * rates[c]) for c in weakest])
        self.assertEqual(compared, 3)
        # "previous" is the period of the same length just before.
        got = self.report("--by", "area", "--from", "2026-04-01", "--to", "2026-06-30",
                          "--compare", "previous")
        self.assertEqual(got["compare"], {"from": "2026-01-01", "to": "2026-03-31"})
        got = self.report("--by", "area", "--from", "2026-03-10", "--to", "2026-03-19",
                          "--compare", "previous")
        self.assertEqual(got["compare"], {"from": "2026-02-28", "to": "2026-03-09"})
        csvout = sipas("report", "--by", "area", "--from", str(now[0]), "--to", str(now[1]),
                       "--compare", "%s:%s" % before, "--worst", "2", "--format", "csv").stdout
        first = next(csv.DictReader(io.StringIO(csvout.lstrip("\ufeff"))))
        self.assertIn("worst_2_rate", first)
        self.assertIn("rank_change", first)

    def test_csv_is_rfc4180_with_every_row(self):
        raw = subprocess.run([os.path.join(os.environ.get("abs_top_builddir", SRC), "client", "sipas"),
                              "report", "--by", "center", "--format", "csv"],
                             env=W["env"], capture_output=True, check=True).stdout
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), "a BOM, so that spreadsheets read UTF-8")
        self.assertIn(b"\r\n", raw)
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        got = self.report("--by", "center")
        self.assertEqual(len(rows), len(got["groups"]) + 1)
        by_key = {r["center"]: r for r in rows}
        for g in got["groups"]:
            self.assertEqual(by_key[g["center"]]["center_label"], g["center_label"])
            self.assertEqual(float(by_key[g["center"]]["index"]), g["index"])
            self.assertEqual(int(by_key[g["center"]]["n"]), g["n"])

    def test_table_columns_line_up_in_screen_cells(self):
        # However many bytes and combining marks the Vietnamese labels take,
        # the index column ends in the same screen cell on every line.
        got = self.report("--by", "center")
        table = sipas("report", "--by", "center").stdout
        lines = table.splitlines()
        header = next(line for line in lines if "Chỉ số %" in line)

        def end_of(line, text):
            head = line[:line.index(text) + len(text)]
            return sum(0 if unicodedata.combining(ch) else 1 for ch in head)
        for g in got["groups"]:
            line = next(line for line in lines if " %s " % g["center"] in line)
            self.assertEqual(end_of(line, " %.2f" % g["index"]), end_of(header, "Chỉ số %"),
                             "column of the index in:\n%s\n%s" % (header, line))

    def test_errors_are_clear(self):
        for args, text in ((["--by", "area,area"], "two different"),
                           (["--by", "criterion,element"], "at most one"),
                           (["--by", "area", "--compare", "previous"], "needs --from and --to"),
                           (["--by", "area", "--compare", "2026-02-01"], "FROM:TO"),
                           (["--by", "area", "--target", "120"], "--target"),
                           (["--by", "area", "--worst", "-1"], "--worst"),
                           (["--by", "area", "--format", "pdf"], "--format")):
            r = sipas("report", *args, check=False)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(text, r.stderr)
        for args, text in ((["--area", "moon"], "unknown area 'moon'"),
                           (["--kiosk", "K99"], "unknown kiosk 'K99'")):
            r = sipas("report", "--by", "area", *args, check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn(text, r.stderr)
        r = subprocess.run([os.path.join(os.environ.get("abs_top_builddir", SRC), "client", "sipas"),
                            "--db", "host=/nonexistent dbname=x", "report", "--by", "area"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect to the database", r.stderr)

    # -- rounding: once, for display, from full precision ----------------

    def test_every_format_rounds_once_from_full_precision(self):
        x = ["--by", "center", "--center", "ht-huong-son", "--questionnaire", self.dv.code]
        b = ["--from", str(EXACT_B), "--to", str(EXACT_B)]
        want = figures(self.dv, [r for k, r, _ in self.responses(self.dv, EXACT_B, EXACT_B) if k == 5])
        self.assertAlmostEqual(want["_index"], 600 / 11, places=9)
        self.assertEqual((want["index"], want["points"]), (54.55, 5.45))
        margin = "%.2f" % want["margin"]
        # JSON
        got = self.report(*x, *b)
        (g,) = got["groups"]
        for what in (g, got["total"]):
            self.assertEqual((what["index"], what["points"], what["margin"]),
                             (54.55, 5.45, want["margin"]))
        # CSV
        rows = list(csv.DictReader(io.StringIO(
            sipas("report", *x, *b, "--format", "csv").stdout.lstrip("\ufeff"), newline="")))
        for row in rows:
            self.assertEqual((row["index"], row["points"], row["margin"]), ("54.55", "5.45", margin))
        # The terminal table: the headline and the row.
        table = sipas("report", *x, *b).stdout
        self.assertIn("54.55 %% (± %s), 5.45 điểm" % margin, table)
        self.assertRegex(table, r"ht-huong-son .* 54\.55 +%s +5\.45 " % margin)
        # HTML: the headline and the table.
        html = sipas("report", *x, *b, "--format", "html").stdout
        self.assertIn("5.45 điểm / 10", html)
        self.assertIn("\">54.55</td><td>%s</td><td>5.45</td>" % margin, html)
        self.assertNotIn("5.46", html)
        # A cross table, and its margins.
        cross = sipas("report", "--by", "center,month", "--center", "ht-huong-son", *b,
                      "--questionnaire", self.dv.code).stdout
        # The headline, the cell, the margin at its right, the bottom row's two.
        self.assertEqual(cross.count("54.55"), 5, cross)
        self.assertIn("54.55 %% (± %s), 5.45 điểm" % margin, cross)
        got = self.report("--by", "center,month", "--center", "ht-huong-son", *b,
                          "--questionnaire", self.dv.code)
        self.assertEqual({(g["index"], g["points"]) for g in got["groups"] + [got["total"]]},
                         {(54.55, 5.45)})
        # The target compares the index as shown: 54.55 is not below 54.55.
        got = self.report(*x, *b, "--target", "54.55")
        self.assertFalse(got["groups"][0]["below_target"])
        self.assertTrue(self.report(*x, *b, "--target", "54.56")["groups"][0]["below_target"])

    def test_compare_change_is_the_rounded_difference_of_unrounded_indices(self):
        x = ["--by", "center", "--center", "ht-huong-son", "--questionnaire", self.dv.code,
             "--from", str(EXACT_A), "--to", str(EXACT_A), "--compare", "%s:%s" % (EXACT_B, EXACT_B)]
        # 100/3 - 600/11 = -21.2121...; 33.33 - 54.55 would be -21.22.
        got = self.report(*x)
        for g in got["groups"] + [got["total"]]:
            self.assertEqual((g["index"], g["previous_index"], g["change"]), (33.33, 54.55, -21.21))
        rows = list(csv.DictReader(io.StringIO(
            sipas("report", *x, "--format", "csv").stdout.lstrip("\ufeff"), newline="")))
        self.assertEqual({(r["index"], r["previous_index"], r["change"]) for r in rows},
                         {("33.33", "54.55", "-21.21")})
        table = sipas("report", *x).stdout
        self.assertRegex(table, r"ht-huong-son .* 54\.55 +-21\.21 ")
        html = sipas("report", *x, "--format", "html").stdout
        self.assertIn("thay đổi -21.21", html)
        self.assertIn("<td>54.55</td><td>-21.21</td>", html)
        self.assertNotIn("21.22", html + table)

    # -- what the administrator opens cannot attack them -------------------

    def test_csv_cells_a_spreadsheet_would_run_are_neutralised(self):
        q = self.dv
        raw = subprocess.run([os.path.join(os.environ.get("abs_top_builddir", SRC), "client", "sipas"),
                              "export", "--questionnaire", q.code, "--with-personal-data"],
                             env=W["env"], capture_output=True, check=True).stdout
        rows = {r["id"]: r for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))}
        self.assertEqual(len(self.hostile), 6)
        for rid, text in self.hostile.items():
            row = rows[rid]
            self.assertEqual(row["comment"], "'" + text, "the comment as a spreadsheet shows it")
            self.assertEqual(row["procedure"], "'" + HOSTILE_PROCEDURE)
            sent = next(r for _, r in self.sent if r["id"] == rid)
            # Numbers are never changed.
            self.assertEqual([row[c] for c in q.criteria],
                             ["" if sent["answers"][c] is None else str(sent["answers"][c])
                              for c in q.criteria])
            self.assertEqual(row["overall"], str(sent.get("overall", "")))
        for row in rows.values():   # nothing else starts as a formula
            for name, cell in row.items():
                self.assertNotIn(cell[:1], ("=", "+", "-", "@", "\t", "\r"), (name, cell))
        # The report: a procedure code is text, the figures beside it numbers.
        out = sipas("report", "--by", "procedure", "--questionnaire", q.code, "--format", "csv").stdout
        got = {g["procedure"]: g for g in self.report("--by", "procedure", "--questionnaire", q.code)["groups"]}
        rows = {r["procedure"]: r for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff"), newline=""))}
        row = rows["'" + HOSTILE_PROCEDURE]
        self.assertEqual(row["procedure_label"], "'" + HOSTILE_PROCEDURE)
        self.assertEqual(float(row["index"]), got[HOSTILE_PROCEDURE]["index"])
        self.assertEqual(int(row["n"]), len(self.hostile))
        # A negative change is a number, written as it is.
        out = sipas("report", "--by", "center", "--center", "ht-huong-son", "--format", "csv",
                    "--from", str(EXACT_A), "--to", str(EXACT_A),
                    "--compare", "%s:%s" % (EXACT_B, EXACT_B)).stdout
        for row in csv.DictReader(io.StringIO(out.lstrip("\ufeff"), newline="")):
            self.assertRegex(row["change"], r"^-\d+\.\d\d$")
        # A center's name, in the list of centers.
        path = os.path.join(W["dir"], "formula-center.csv")
        with open(path, "w") as f:
            f.write('code,name_vi,level,parent\nht-formula,"=cmd|\' /C calc\'!A0",commune,ht-huong-son\n')
        sipas("center", "import", path)
        out = sipas("center", "list", "--format", "csv").stdout
        (row,) = [r for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff"), newline=""))
                  if r["code"] == "ht-formula"]
        self.assertEqual(row["name_vi"], "'=cmd|' /C calc'!A0")

    # -- center import -----------------------------------------------------

    def centers(self):
        return psql("SELECT string_agg(c.code || '<' || coalesce(p.code, '') || ':' || c.name_vi, ' ' "
                    "ORDER BY c.code) FROM centers c LEFT JOIN centers p ON p.id = c.parent_id")

    def import_centers(self, name, rows):
        path = os.path.join(W["dir"], name + ".csv")
        with open(path, "w") as f:
            f.write("code,name_vi,level,parent\n" + "".join(r + "\n" for r in rows))
        return sipas("center", "import", path, check=False)

    def test_center_import_neither_loops_nor_moves_a_center(self):
        r = self.import_centers("tree", ["cy-a,A,district,ht", "cy-b,B,commune,cy-a",
                                         "cy-c,C,commune,cy-b"])
        self.assertEqual(r.returncode, 0, r.stderr)
        before = self.centers()
        # A file gives a parent to a new center only: one that would close a
        # loop through existing centers is a new parent for one of them,
        # refused as such (sipas center move checks the loop).
        for rows, says in ((["cy-a,A,district,cy-c"], "sipas center move cy-a --parent cy-c --on DATE"),
                           (["cy-b,B2,commune,cy-b"], "its own ancestor: cy-b -> cy-b"),
                           (["cy-d,D,commune,cy-a", "cy-a,A2,district,cy-b"],
                            "sipas center move cy-a --parent cy-b --on DATE")):
            with self.subTest(rows=rows):
                r = self.import_centers("cycle", rows)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(says, r.stderr)
                self.assertIn("nothing was imported", r.stderr)
                self.assertEqual(self.centers(), before)
        # Moving a center elsewhere in the tree is sipas center move's, from
        # a date; a file asking for it is refused.
        r = self.import_centers("move", ["cy-c,C,commune,cy-a"])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("sipas center move cy-c --parent cy-a --on DATE", r.stderr)
        self.assertEqual(self.centers(), before)
        sipas("center", "move", "cy-c", "--parent", "cy-a", "--on", str(TODAY))
        self.assertIn("cy-c<cy-a:C", self.centers())
        r = sipas("center", "move", "cy-a", "--parent", "cy-c", "--on", str(TODAY), check=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("cy-a -> cy-c -> cy-a", r.stderr)
        got = self.report("--by", "center", "--center", "cy-a")
        self.assertEqual(got["total"]["n"], 0)

    # -- the rollup itself -------------------------------------------------

    def test_rollup_equals_a_recomputation_from_the_responses(self):
        # Stored responses wait in rollup_pending (sipasd folds them only
        # when a test asks here); reports count them all the same, and give
        # the same figures once they are folded, then with some folded and
        # some pending.
        self.assertEqual(int(psql("SELECT count(*) FROM rollup_pending")), len(self.sent))
        reports = lambda: [self.report("--by", "center,month", "--questionnaire", q.code)
                           for q in (self.dv, self.quay)]
        before = reports()
        self.assertEqual(psql("SELECT sipas_rollup_compact()"), "0")
        self.assertEqual(psql("SELECT count(*) FROM rollup_pending"), "0")
        self.assertEqual(reports(), before)
        k, r = self.sent[1]
        fresh = dict(r, id=str(uuid.uuid4()))
        self.assertEqual(kiosk(k).post(fresh)[0], 201)
        self.sent.append((k, fresh))
        self.assertEqual(psql("SELECT count(*) FROM rollup_pending"), "1")
        both = reports()
        self.assertEqual(psql("SELECT sipas_rollup_compact()"), "0")
        self.assertEqual(reports(), both)
        self.assertNotEqual(both, before)
        # What was folded against the same query over all the responses at once.
        for q in (self.dv, self.quay):
            sql = psql("SELECT sipas_rollup_query('responses', %d::smallint, "
                       "ARRAY['day', 'center_id', 'service_area_id', 'questionnaire_id'], 'true')" % q.id)
            diff = psql("SELECT count(*) FROM ((SELECT day, center_id, service_area_id, n, rated, cells, "
                        "p_sum::numeric(20,9)[], p_sq::numeric(20,9)[] FROM response_rollup "
                        "WHERE questionnaire_id = %d) "
                        "EXCEPT (SELECT day, center_id, service_area_id, n, rated, cells, "
                        "p_sum::numeric(20,9)[], p_sq::numeric(20,9)[] FROM (%s) x)) d" % (q.id, sql))
            self.assertEqual(diff, "0", q.code)
        self.assertEqual(int(psql("SELECT sum(n) FROM response_rollup")), len(self.sent))

    def test_sipasd_folds_the_rollup_every_interval(self):
        k, r = self.sent[0]
        fresh = dict(r, id=str(uuid.uuid4()))
        self.assertEqual(kiosk(k).post(fresh)[0], 201)
        self.assertNotEqual(psql("SELECT count(*) FROM rollup_pending"), "0")
        conf = os.path.join(W["dir"], "sipasd.conf")
        with open(conf) as f:
            saved = f.read()
        try:
            with open(conf, "w") as f:
                f.write(saved.replace("rollup_interval = 0", "rollup_interval = 1s"))
            W["daemon"].send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while psql("SELECT count(*) FROM rollup_pending") != "0":
                self.assertLess(time.monotonic(), deadline, "sipasd did not fold the rollup")
                time.sleep(0.2)
        finally:
            with open(conf, "w") as f:
                f.write(saved)
            W["daemon"].send_signal(signal.SIGHUP)
        self.sent.append((k, fresh))

    def test_a_duplicate_is_not_counted_twice(self):
        k, r = self.sent[0]
        count = "SELECT (SELECT count(*) FROM rollup_pending) + (SELECT coalesce(sum(n), 0) FROM response_rollup)"
        before = psql(count)
        self.assertEqual(int(before), len(self.sent))
        self.assertEqual(kiosk(k).post(r)[0], 200)
        self.assertEqual(psql(count), before)

    # -- the second rollup (sql/007): kiosk and procedure ------------------

    def scans(self, rel):
        """How many times the month and year rows of partition rel were read
        (a report's backend flushes its counts when it exits)."""
        return int(psql("SELECT sum(seq_scan + coalesce(idx_scan, 0)) FROM pg_stat_user_tables "
                        "WHERE relname IN ('%s_month', '%s_year')" % (rel, rel)) or -1)

    def test_second_rollup_answers_kiosk_and_procedure_exactly(self):
        # Everything is folded by now (test_rollup_* ran): a few more stay
        # queued, so that reports add the rollup and the queue.
        self.assertEqual(psql("SELECT sipas_rollup_compact()"), "0")
        rng = random.Random(15)
        _, _, qjson = kiosk(1).request("GET", "/v1/questionnaire")
        for k in (1, 2, 3, 3):
            r = realistic_response(rng, qjson, datetime.datetime.now(VN) - datetime.timedelta(days=2))
            r["service_area"] = "ho-tich"
            r["procedure"] = rng.choice(["1.000001", "7.000007"])
            self.assertEqual(kiosk(k).post(r)[0], 201)
            self.sent.append((k, r))
        self.assertEqual(psql("SELECT count(*) FROM rollup_pending"), "4")
        # Whole years (the year rows), whole months and partial ones (the
        # responses of those days).
        frm, to = FIRST + datetime.timedelta(days=5), FIRST + datetime.timedelta(days=75)
        year = (datetime.date(TODAY.year, 1, 1), datetime.date(TODAY.year, 12, 31))
        cases = [((), None, None, lambda k, r: True),
                 (("--center", "ht-ky-anh"), None, None, lambda k, r: CENTERS[k - 1] == "ht-ky-anh"),
                 (("--from", str(frm)), frm, None, lambda k, r: True),
                 (("--from", str(frm), "--to", str(to)), frm, to, lambda k, r: True),
                 (("--from", str(year[0]), "--to", str(year[1])), year[0], year[1], lambda k, r: True),
                 (("--from", str(year[0])), year[0], None, lambda k, r: True)]
        for phase in ("queued", "folded"):
            for dim in ("kiosk", "procedure"):
                for args, lo, hi, pred in cases:
                    with self.subTest(phase=phase, by=dim, args=args):
                        rel = "response_rollup_" + ("kiosk_id" if dim == "kiosk" else dim)
                        before = self.scans(rel)
                        got = self.report("--by", dim, "--questionnaire", self.dv.code, *args)
                        self.assertGreater(self.scans(rel), before, "read from " + rel)
                        rows = self.responses(self.dv, lo, hi, pred)
                        want = self.expected(self.dv, dim, rows)
                        self.assertEqual(sorted(g[dim] for g in got["groups"]), sorted(want))
                        for g in got["groups"]:
                            self.assert_figures(g, want[g[dim]], "%s %s" % (dim, g[dim]))
                        self.assert_figures(got["total"], figures(self.dv, [r for _, r, _ in rows]),
                                            dim + " total")
            self.assertEqual(psql("SELECT sipas_rollup_compact()"), "0")
        # The area is not in its key: --area reads the responses, as exactly.
        before = self.scans("response_rollup_kiosk_id")
        got = self.report("--by", "kiosk", "--area", "ho-tich", "--questionnaire", self.dv.code)
        self.assertEqual(self.scans("response_rollup_kiosk_id"), before)
        want = self.expected(self.dv, "kiosk", self.responses(
            self.dv, pred=lambda k, r: r["service_area"] == "ho-tich"))
        for g in got["groups"]:
            self.assert_figures(g, want[g["kiosk"]], "kiosk %s in ho-tich" % g["kiosk"])
        # What was folded, against the same query over all the responses at once.
        for q in (self.dv, self.quay):
            sql = psql("SELECT sipas_rollup_by_query('responses', %d::smallint)" % q.id)
            cols = ("dim, grain, day, center_id, kiosk_id, procedure, counter_id, officer_id, gender, "
                    "age_group, ethnicity, education, occupation, n, rated, cells, "
                    "p_sum::numeric(20,9)[], p_sq::numeric(20,9)[]")
            for a, b in (("response_rollup_by WHERE questionnaire_id = %d" % q.id, "(%s) x" % sql),
                         ("(%s) x" % sql, "response_rollup_by WHERE questionnaire_id = %d" % q.id)):
                self.assertEqual(psql("SELECT count(*) FROM ((SELECT %s FROM %s) EXCEPT "
                                      "(SELECT %s FROM %s)) d" % (cols, a, cols, b)), "0", q.code)
        self.assertEqual(psql("SELECT string_agg(DISTINCT s::text, ',') FROM (SELECT sum(n) s "
                              "FROM response_rollup_by GROUP BY dim, grain) d"), str(len(self.sent)))

    # -- other databases in the same cluster ---------------------------------

    def scratch_db(self, name, sql_dir=None):
        """A database of its own with the schema (of sql_dir) and Hà Tĩnh's
        centers: returns run(*sipas args) and sql(statement) for it. With
        sql_dir, the province and Kỳ Anh only, inserted as sipas center
        import would: sipas records its import in the audit log, which
        an older schema does not have."""
        psql("DROP DATABASE IF EXISTS %s" % name)
        psql("CREATE DATABASE %s" % name)
        env = dict(W["env"], PGDATABASE=name,
                   SIPAS_DB="host=%s/pg dbname=%s user=sipas" % (W["dir"], name))

        def run(*args, status=0):
            r = subprocess.run([os.path.join(os.environ.get("abs_top_builddir", SRC), "client",
                                             "sipas"), *args], env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, status, "sipas %s: %s" % (" ".join(args), r.stderr))
            return r.stdout if status == 0 else r.stderr

        def sql(statement):
            r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", statement],
                               env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout.strip()
        run("db", "init", *(("--sql-dir", sql_dir) if sql_dir else ()))
        if sql_dir is None:
            run("center", "import", os.path.join(SRC, "data", "ha-tinh-centers.csv"))
            return run, sql
        sql("INSERT INTO centers (code, name_vi, level) VALUES ('ht', 'Hà Tĩnh', 'province')")
        sql("INSERT INTO centers (code, name_vi, level, parent_id) SELECT 'ht-ky-anh', "
            "'Kỳ Anh', 'district', id FROM centers WHERE code = 'ht'")
        sql("INSERT INTO center_parents SELECT id, '-infinity', parent_id FROM centers")
        return run, sql

    @staticmethod
    def insert_sql(rows):
        """rows: (kiosk code, day, procedure, answers 1..5 of the 19 criteria
        of sipas-dv-2023) inserted as sipasd would store them."""
        return "INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id, " \
            "questionnaire_id, procedure, submitted_at, answers) " + " UNION ALL ".join(
                "SELECT gen_random_uuid(), '\\x00'::bytea, k.id, k.center_id, 1, q.id, %s, "
                "'%s 10:00'::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh', '{%s}'::smallint[] FROM kiosks k, "
                "questionnaires q WHERE k.code = '%s' AND q.code = 'sipas-dv-2023'"
                % ("'%s'" % p if p else "NULL", d, ",".join(map(str, a)), k) for k, d, p, a in rows)

    def test_migration_folds_the_responses_already_stored(self):
        sql6 = tempfile.mkdtemp(dir=W["dir"])
        for f in os.listdir(os.path.join(SRC, "sql")):
            if f < "007":
                shutil.copy(os.path.join(SRC, "sql", f), sql6)
        run, sql = self.scratch_db("before_007", sql6)
        sql("INSERT INTO kiosks (code, center_id, cert_sha256) SELECT 'm-' || code, id, "
            "sha256(convert_to(code, 'UTF8')) FROM centers WHERE code IN ('ht', 'ht-ky-anh')")
        rng = random.Random(7)
        rows = [(rng.choice(["m-ht", "m-ht-ky-anh"]), "2025-0%d-1%d" % (rng.randint(1, 9), rng.randint(0, 9)),
                 rng.choice(["1.1", "2.2", None]), [rng.randint(1, 5) for _ in range(19)]) for _ in range(60)]
        sql(self.insert_sql(rows[:40]))
        sql("SELECT sipas_rollup_compact()")        # 40 folded by 005, 20 still queued
        sql(self.insert_sql(rows[40:]))
        self.assertEqual(sql("SELECT count(*) FROM rollup_pending"), "20")
        run("db", "init")
        self.assertEqual(sql("SELECT count(*) FROM rollup_pending"), "0")
        self.assertEqual(sql("SELECT sum(n) FROM response_rollup"), "60")
        self.assertEqual(sql("SELECT string_agg(DISTINCT s::text, ',') FROM (SELECT sum(n) s "
                             "FROM response_rollup_by GROUP BY dim, grain) d"), "60")
        by_kiosk = json.loads(run("report", "--by", "kiosk", "--format", "json"))
        self.assertEqual({g["kiosk"]: g["n"] for g in by_kiosk["groups"]},
                         dict(collections.Counter(k for k, _, _, _ in rows)))
        by_proc = json.loads(run("report", "--by", "procedure", "--format", "json"))
        self.assertEqual({g["procedure"]: g["n"] for g in by_proc["groups"]},
                         dict(collections.Counter(p or "-" for _, _, p, _ in rows)))
        # Stored after the migration: queued with the new columns, folded once.
        sql(self.insert_sql([("m-ht", "2025-10-01", "1.1", [5] * 19)]))
        self.assertEqual(sql("SELECT count(*) FROM rollup_pending WHERE kiosk_id IS NOT NULL "
                             "AND procedure = '1.1'"), "1")
        sql("SELECT sipas_rollup_compact()")
        self.assertEqual(sql("SELECT n FROM response_rollup_procedure_month WHERE day = '2025-10-01'"), "1")

    # -- the organisation over time ----------------------------------------

    def test_reports_follow_the_tree_of_each_day_and_as_of_through_successors(self):
        run, sql = self.scratch_db("history")
        # h-old, a district center, closed on 2025-06-30 into h-new (opened
        # the next day), itself closed on 2025-09-30 into h-last; h-com, a
        # commune, under h-old until June, under h-dist from July; h-gone
        # closed on 2025-06-30 with no successor.
        sql("INSERT INTO centers (code, name_vi, level, parent_id, opened_on, closed_on) "
            "SELECT x.code, x.name, x.level, (SELECT id FROM centers WHERE code = x.parent), "
            "x.opened::date, x.closed::date FROM (VALUES "
            "('h-last', 'Last', 'district', 'ht', '2025-10-01', NULL), "
            "('h-new', 'New', 'district', 'ht', '2025-07-01', '2025-09-30'), "
            "('h-old', 'Old', 'district', 'ht', NULL, '2025-06-30'), "
            "('h-dist', 'Dist', 'district', 'ht', NULL, NULL), "
            "('h-gone', 'Gone', 'district', 'ht', NULL, '2025-06-30')) "
            "AS x (code, name, level, parent, opened, closed)")
        sql("INSERT INTO centers (code, name_vi, level, parent_id) "
            "SELECT 'h-com', 'Com', 'commune', id FROM centers WHERE code = 'h-dist'")
        sql("UPDATE centers c SET successor_id = s.id FROM centers s WHERE "
            "(c.code, s.code) IN (('h-old', 'h-new'), ('h-new', 'h-last'))")
        # Every center has a row from -infinity (sipas center import writes
        # those of the file's centers).
        sql("INSERT INTO center_parents SELECT id, '-infinity', parent_id FROM centers "
            "WHERE code LIKE 'h-%'")
        sql("UPDATE center_parents SET parent_id = (SELECT id FROM centers WHERE code = 'h-old') "
            "WHERE center_id = (SELECT id FROM centers WHERE code = 'h-com')")
        sql("INSERT INTO center_parents SELECT c.id, '2025-07-01', p.id FROM centers c, centers p "
            "WHERE c.code = 'h-com' AND p.code = 'h-dist'")
        sql("INSERT INTO kiosks (code, center_id, cert_sha256) SELECT code, id, "
            "sha256(convert_to(code, 'UTF8')) FROM centers WHERE code LIKE 'h-%'")
        rows = [("h-com", "2025-06-%02d" % (20 + i), None, [4] * 19) for i in range(2)] + \
            [("h-com", "2025-07-%02d" % (1 + i), None, [2] * 19) for i in range(3)] + \
            [("h-old", "2025-06-30", None, [5] * 19)] * 4 + \
            [("h-new", "2025-07-01", None, [1] * 19), ("h-new", "2025-09-30", None, [4] * 19)] + \
            [("h-last", "2025-10-01", None, [3] * 19), ("h-gone", "2025-06-01", None, [3] * 19)]
        sql(self.insert_sql(rows))
        period = ("--from", "2025-06-01", "--to", "2025-12-31", "--format", "json")

        def n_by(*args):
            got = json.loads(run("report", *period, *args))
            return {g[args[1]]: g["n"] for g in got["groups"]}, got

        for phase in ("queued", "folded"):
            with self.subTest(phase=phase):
                # The parent of each day: June's h-com under h-old, July's under h-dist.
                self.assertEqual(n_by("--by", "district")[0],
                                 {"h-old": 6, "h-dist": 3, "h-new": 2, "h-last": 1, "h-gone": 1})
                self.assertEqual(n_by("--by", "center", "--center", "h-old")[0], {"h-com": 2, "h-old": 4})
                self.assertEqual(n_by("--by", "kiosk", "--center", "h-dist")[0], {"h-com": 3})
                self.assertEqual(n_by("--by", "level", "--center", "h-dist")[0], {"commune": 3})
                # As of August: h-old's history under h-new, h-com's under h-dist.
                got, full = n_by("--by", "center", "--as-of", "2025-08-01")
                self.assertEqual(got, {"h-new": 6, "h-com": 5, "h-last": 1, "h-gone": 1})
                labels = {g["center"]: g["center_label"] for g in full["groups"]}
                self.assertEqual((labels["h-gone"], labels["h-new"]), ("Gone (đã đóng)", "New"))
                self.assertEqual(n_by("--by", "district", "--as-of", "2025-08-01")[0],
                                 {"h-new": 6, "h-dist": 5, "h-last": 1, "h-gone": 1})
                self.assertEqual(n_by("--by", "center", "--center", "h-new", "--as-of", "2025-08-01")[0],
                                 {"h-new": 6})
                # Transitively, as of December: all of h-old and h-new under h-last.
                got, full = n_by("--by", "center", "--as-of", "2025-12-01")
                self.assertEqual(got, {"h-last": 7, "h-com": 5, "h-gone": 1})
                last = next(g for g in full["groups"] if g["center"] == "h-last")
                self.assertEqual(last["index"], round2(100 * 5 / 7))   # [5] x 4, [1], [4], [3]
                # As of mid-June nothing had closed: as the days themselves.
                self.assertEqual(n_by("--by", "district", "--as-of", "2025-06-15")[0],
                                 {"h-old": 9, "h-new": 2, "h-last": 1, "h-gone": 1})
                self.assertEqual(n_by("--by", "procedure", "--as-of", "2025-12-01",
                                      "--center", "h-last")[0], {"-": 7})
                # The second rollup's year rows are of one tree: not for 2025.
                self.assertEqual(n_by("--by", "kiosk", "--center", "h-dist", "--from", "2025-01-01")[0],
                                 {"h-com": 3})
                self.assertEqual(n_by("--by", "procedure", "--center", "h-old")[0], {"-": 6})
                # A center closed by the --as-of day is no part of that
                # tree: refused, naming where its responses are counted.
                err = run("report", *period, "--by", "center", "--center", "h-old",
                          "--as-of", "2025-12-01", status=1)
                self.assertIn("'h-old' closed on 2025-06-30", err)
                self.assertIn("--center h-last", err)
                # One closed into no successor keeps its own responses.
                self.assertEqual(n_by("--by", "center", "--center", "h-gone",
                                      "--as-of", "2025-08-01")[0], {"h-gone": 1})
                self.assertEqual(n_by("--by", "center", "--center", "h-old",
                                      "--as-of", "2025-06-15")[0], {"h-com": 5, "h-old": 4})
            sql("SELECT sipas_rollup_compact()")

    # -- export ------------------------------------------------------------

    def test_export_csv_and_ndjson_carry_every_response(self):
        q = self.dv
        raw = subprocess.run([os.path.join(os.environ.get("abs_top_builddir", SRC), "client", "sipas"),
                              "export", "--questionnaire", q.code],
                             env=W["env"], capture_output=True, check=True).stdout
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        sent = {r["id"]: (k, r) for k, r in self.sent if r["questionnaire"] == q.code}
        self.assertEqual(len(rows), len(sent))
        self.assertEqual(list(rows[0])[6:6 + len(q.criteria)], q.criteria)
        for row in rows:
            k, r = sent[row["id"]]
            self.assertEqual(row["kiosk"], "K%d" % k)
            self.assertEqual(row["center"], CENTERS[k - 1])
            self.assertEqual(row["procedure"], in_csv(r.get("procedure", "")))
            self.assertEqual([row[c] for c in q.criteria],
                             ["" if r["answers"][c] is None else str(r["answers"][c]) for c in q.criteria])
            when = datetime.datetime.fromisoformat(r["submitted_at"])
            self.assertEqual(datetime.datetime.fromisoformat(row["submitted_at"]), when)
        times = [row["submitted_at"] for row in rows]
        self.assertEqual(times, sorted(times), "in the order submitted")
        out = sipas("export", "--questionnaire", QUAY, "--format", "ndjson", "--area", "ho-tich").stdout
        lines = [json.loads(x) for x in out.splitlines()]
        want = {r["id"]: r for k, r in self.sent if r["questionnaire"] == QUAY and r["service_area"] == "ho-tich"}
        self.assertEqual({x["id"] for x in lines}, set(want))
        for x in lines:
            self.assertEqual(x["answers"], want[x["id"]]["answers"])
            self.assertEqual(list(x["answers"]), ["TD", "HD", "TG"])
        r = sipas("export", "--format", "xml", check=False)
        self.assertEqual(r.returncode, 2)

    # -- HTML --------------------------------------------------------------

    def render(self, name, *args):
        """Writes the HTML report, opens it in headless Chromium and returns
        what the rendered page holds, the console messages and the page."""
        # Debian's /usr/bin/chromium is a wrapper that adds the flags of
        # /etc/chromium.d (extensions, GPU, /dev/shm by its free space): the
        # browser itself, with every flag the test needs given here.
        chromium = shutil.which("chromium", path="/usr/lib/chromium") or shutil.which("chromium")
        self.assertIsNotNone(chromium, "chromium is installed by scripts/deps")
        out = self.html_dir
        page = os.path.join(out, name + ".html")
        html = sipas("report", "--format", "html", *args).stdout
        self.assertNotIn("http://", html.replace("http://www.w3.org/2000/svg", ""), "no external asset")
        self.assertNotIn("https://", html)
        # The page's own view of itself once rendered: what a reader sees.
        # It first logs a mark: the console check below proves it sees the
        # console of this Chromium, whose log format has changed before.
        probe = ("(()=>{console.log('sipas-probe');const n=s=>document.querySelectorAll(s).length;"
                 "document.title=JSON.stringify({bars:n('#chart-groups rect'),"
                 "target:n('#chart-groups line[stroke=\"#b00020\"]'),trend:n('#chart-trend polyline'),"
                 "rows:n('#report-table tbody tr'),cross:n('#cross-table tbody tr'),"
                 "worst:n('#worst tbody tr'),lang:document.documentElement.lang,"
                 "h1:document.querySelector('h1').textContent});})()")
        with open(page, "w") as f:
            f.write(html.replace("</body>", "<script>%s</script>\n</body>" % probe))
        base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + os.path.join(out, "profile")]
        dom = subprocess.run(base + ["--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + page],
                             capture_output=True, text=True, timeout=120)
        title = dom.stdout.split("<title>")[1].split("</title>")[0]
        seen = json.loads(title.replace("&quot;", '"').replace("&amp;", "&"))
        console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
        marks = [line for line in console if "sipas-probe" in line]
        self.assertEqual(len(marks), 1, "the probe's console mark, in:\n" + dom.stderr[-3000:])
        console.remove(marks[0])
        shot = os.path.join(out, name + ".png")
        subprocess.run(base + ["--screenshot=" + shot, "--window-size=1280,2000", "file://" + page],
                       capture_output=True, timeout=120, check=True)
        self.assertGreater(os.path.getsize(shot), 10000)
        print("screenshot:", shot, file=sys.stderr)
        return seen, console

    def test_html_renders_in_chromium(self):
        self.html_dir = os.environ.get("SIPAS_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="sipas-html-")
        areas = {r["service_area"] for _, r in self.sent if r["questionnaire"] == self.dv.code}
        seen, console = self.render("by-area", "--by", "area", "--target", "80", "--worst", "3",
                                    "--from", str(FIRST), "--to", str(TODAY), "--compare", "previous")
        self.assertEqual(console, [], "no console messages")
        self.assertEqual(seen["bars"], len(areas))
        self.assertEqual(seen["target"], 1)
        self.assertEqual(seen["trend"], 1, "three months: a trend by month")
        self.assertEqual(seen["rows"], len(areas) + 1)
        self.assertGreaterEqual(seen["worst"], 3 * (len(areas) - 1))
        self.assertEqual(seen["lang"], "vi")
        self.assertIn("chỉ số hài lòng", seen["h1"])
        centers = {CENTERS[k - 1] for k, r in self.sent if r["questionnaire"] == self.dv.code}
        seen, console = self.render("by-center-month", "--by", "center,month")
        self.assertEqual(console, [], "no console messages")
        self.assertEqual(seen["bars"], len(centers))
        self.assertEqual(seen["cross"], len(centers) + 1)


def setUpModule():
    # sipasd folds the rollup only when a test asks it to.
    start_world(kiosks=len(CENTERS), centers=CENTERS, conf="rollup_interval = 0\n")


def tearDownModule():
    stop_world()


if __name__ == "__main__":
    unittest.main(verbosity=2)
