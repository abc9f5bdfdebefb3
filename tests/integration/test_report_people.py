#!/usr/bin/env python3
"""sipas report by who served the person and by who the respondents are.

The responses carry a counter, an officer and the respondent's profile;
until kiosks send them (protocol 1.1), they are stored here with SQL,
which the rollup's trigger queues as it queues sipasd's. Every figure is
computed again in Python with test_report.py's independent computation.
Figures by officer are for the personnel role only, in the client and in
the database; breakdowns by respondent attributes hide their small cells."""

import collections
import csv
import datetime
import html.parser
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import W, VN, psql, sipas, start_world, stop_world  # noqa: E402
from test_report import Shape, figures, quarter, ranks  # noqa: E402
import test_report  # noqa: E402  (its Report class is not ours to run)

CENTERS = ["ht-ky-anh", "ht-can-loc", "ht"]      # of kiosks K1..K3
COUNTERS = {"ht-ky-anh": ["Q1", "Q2"], "ht-can-loc": ["Q1", "Q3"], "ht": []}
COUNTER_NAMES = {"Q1": "Quầy đất đai", "Q2": "Quầy hộ tịch", "Q3": "Quầy tư pháp"}
OFFICERS = {"CB01": "Nguyễn Văn An", "CB02": "Trần Thị Bình", "CB03": "Lê Văn Cường",
            "CB04": "Phạm Thị Dung"}
ATTRS = {
    "gender": ["male", "female"],
    "age_group": ["18-25", "26-34", "35-49", "50-60", "60+"],
    "ethnicity": ["kinh"],
    "education": ["none", "primary", "lower-secondary", "upper-secondary", "vocational",
                  "university"],
    "occupation": ["farmer", "worker", "public-sector", "business", "student", "retired",
                   "other"],
}
RESPONDENT = tuple(ATTRS)
TODAY = datetime.datetime.now(VN).date()
FIRST = TODAY - datetime.timedelta(days=170)     # two or three quarters


def role(name, *args, check=True):
    """sipas as the login role name of the sandbox (reporter, chief)."""
    return sipas(*args, "--db", "host=%s/pg dbname=sipas user=%s" % (W["dir"], name), check=check)


def psql_as(name, sql):
    env = dict(W["env"], PGUSER=name)
    return subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], env=env,
                          capture_output=True, text=True)


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))


class Page(html.parser.HTMLParser):
    """What an HTML report holds: the text of each element with an id, and
    the bars and their labels of each chart."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.rects, self.stack, self.h2 = {}, collections.Counter(), [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.setdefault(a["id"], "")
        if tag == "rect":
            for i in self.stack:
                self.rects[i] += 1
        if tag == "h2":
            self.h2.append("")
        if tag not in ("rect", "line", "circle", "meta", "br", "polyline"):
            self.stack.append(a.get("id"))

    def handle_endtag(self, tag):
        if tag not in ("rect", "line", "circle", "meta", "br", "polyline") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for i in self.stack:
            if i is not None:
                self.ids[i] += data
        if self.stack and self.h2 and self.lasttag == "h2":
            self.h2[-1] += data


class People(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        psql("CREATE ROLE chief LOGIN IN ROLE sipas_report_personnel")
        cls.q = Shape("sipas-dv-2023")
        ids = lambda sql: dict(line.split("|") for line in psql(sql).splitlines())
        for center, codes in COUNTERS.items():
            for code in codes:
                psql("INSERT INTO counters (center_id, code, name_vi) SELECT id, '%s', '%s' "
                     "FROM centers WHERE code = '%s'" % (code, COUNTER_NAMES[code], center))
        for code, name in OFFICERS.items():
            psql("INSERT INTO officers (code, full_name) VALUES ('%s', '%s')" % (code, name))
        kiosks = {k: v.split(",") for k, v in ids(
            "SELECT code, id || ',' || center_id FROM kiosks").items()}
        counters = ids("SELECT c.code || '/' || ct.code, ct.id FROM counters ct "
                       "JOIN centers c ON c.id = ct.center_id")
        officers = ids("SELECT code, id FROM officers")
        areas = ids("SELECT code, id FROM service_areas WHERE code IN ('dat-dai', 'ho-tich')")
        rng = random.Random(15)
        cls.rows = []
        values = []
        for i in range(480):
            k = rng.choice([1, 1, 2, 3])
            center = CENTERS[k - 1]
            counter = rng.choice(COUNTERS[center] + [None])
            officer = rng.choice(["CB01", "CB01", "CB02", "CB03", None])
            if i < 4:
                officer = "CB04"            # a low-sample officer
            r = {"kiosk": "K%d" % k, "center": center,
                 "counter": "%s/%s" % (center, counter) if counter else "-",
                 "officer": officer or "-",
                 "day": FIRST + datetime.timedelta(days=rng.randint(0, 170)),
                 "area": rng.choice(["dat-dai", "ho-tich"]),
                 "answers": {}}
            for c in cls.q.criteria:
                v = rng.choice([1, 2, 3, 4, 4, 5, 5, 5, None]) if c.startswith("PA") else \
                    rng.choice([2, 3, 4, 4, 4, 5, 5])
                r["answers"][c] = v
            for attr, choices in ATTRS.items():
                r[attr] = rng.choice(choices) if rng.random() < 0.93 else None
            # Small groups to suppress: three of another gender, a few of
            # another ethnicity.
            if i in (10, 20, 30):
                r["gender"] = "other"
            if i % 120 == 5:
                r["ethnicity"] = "other"
            cls.rows.append(r)
            when = datetime.datetime.combine(r["day"], datetime.time(rng.randint(7, 16)), VN)
            lit = lambda v: "NULL" if v is None else "'%s'" % v
            values.append("('%s', '\\x00', %s, %s, %s, %d, '%s', '{%s}', %s, %s, %s)" % (
                uuid.uuid4(), kiosks[r["kiosk"]][0], kiosks[r["kiosk"]][1], areas[r["area"]],
                cls.q.id, when.isoformat(),
                ",".join("NULL" if r["answers"][c] is None else str(r["answers"][c])
                         for c in cls.q.criteria),
                lit(counters.get(r["counter"])), lit(officers.get(r["officer"])),
                ", ".join(lit(r[a]) for a in RESPONDENT)))
        psql("INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id, "
             "questionnaire_id, submitted_at, answers, counter_id, officer_id, %s) VALUES %s"
             % (", ".join(RESPONDENT), ", ".join(values)))

    # -- helpers -----------------------------------------------------------

    def key(self, dim, r):
        if dim == "quarter":
            return quarter(r["day"])
        if dim in ("month", "year"):
            return r["day"].strftime("%Y-%m" if dim == "month" else "%Y")
        if dim == "district":       # no commune among CENTERS
            return r["center"]
        v = r[dim]
        return "-" if v is None else v

    def groups(self, dims, pred=lambda r: True):
        """Every cell, margin and the total of a report by dims, as lists of
        responses keyed by a tuple (None: all of that dimension)."""
        out = collections.defaultdict(list)
        for r in self.rows:
            if not pred(r):
                continue
            keys = [self.key(d, r) for d in dims]
            for mask in range(1 << len(dims)):
                out[tuple(None if mask >> i & 1 else keys[i] for i in range(len(dims)))].append(r)
        return out

    def report(self, *args, who="chief"):
        return json.loads(role(who, "report", "--format", "json", *args).stdout)

    def assert_figures(self, got, rs, what):
        want = figures(self.q, [{"answers": r["answers"]} for r in rs])
        for field in ("n", "index", "points", "elements", "criteria", "mean", "levels", "low_sample"):
            self.assertEqual(got[field], want[field], "%s: %s" % (what, field))

    def assert_suppression(self, got, dims, pred=lambda r: True, min_cell=5):
        """Every group with fewer than min_cell respondents is suppressed,
        every line of the table (the cells along one dimension and their
        margin) has none or at least two suppressed, and every group shown
        has the figures of the independent computation."""
        want = self.groups(dims, pred)
        seen = {}
        for g in got["groups"] + [got["total"]]:
            k = tuple(g[d] for d in dims)
            seen[k] = g
            if len(want[k]) < min_cell:
                self.assertTrue(g["suppressed"], "%s: %d respondents" % (k, len(want[k])))
            if g["suppressed"]:
                self.assertEqual((g["n"], g["index"], g["margin"], g["rank"], g["elements"]),
                                 (None, None, None, None, None), k)
            else:
                self.assert_figures(g, want[k], str(k))
        self.assertEqual(set(seen), set(want))
        for d in range(len(dims)):
            lines = collections.defaultdict(list)
            for k, g in seen.items():
                lines[k[:d] + k[d + 1:]].append(g["suppressed"])
            for line, flags in lines.items():
                self.assertNotEqual(sum(flags), 1, "line %s along %s" % (line, dims[d]))
        return seen

    # -- the new dimensions ------------------------------------------------

    def test_every_new_dimension_equals_an_independent_computation(self):
        labels = {"gender": {"male": "Nam", "female": "Nữ", "other": "Khác"},
                  "ethnicity": {"kinh": "Kinh"}}
        for dim in ("counter", "officer") + RESPONDENT:
            with self.subTest(by=dim):
                got = self.report("--by", dim)
                want = self.groups([dim])
                if dim in RESPONDENT:
                    seen = self.assert_suppression(got, [dim])
                    self.assertTrue(any(g["suppressed"] for g in seen.values())
                                    or dim not in ("gender", "ethnicity"), dim)
                    for g in got["groups"]:
                        if g[dim] in labels.get(dim, {}):
                            self.assertEqual(g[dim + "_label"], labels[dim][g[dim]])
                        if g[dim] == "-":
                            self.assertEqual(g[dim + "_label"], "Không trả lời")
                    continue
                self.assertEqual(sorted(g[dim] for g in got["groups"]),
                                 sorted(k[0] for k in want if k[0] is not None))
                rank = ranks({k[0]: figures(self.q, [{"answers": r["answers"]} for r in rs])
                              for k, rs in want.items() if k[0] is not None})
                for g in got["groups"]:
                    self.assert_figures(g, want[(g[dim],)], "%s %s" % (dim, g[dim]))
                    self.assertEqual(g["rank"], rank.get(g[dim]))
                    self.assertFalse(g["suppressed"])
                self.assert_figures(got["total"], self.rows, dim + " total")
        got = {g["counter"]: g for g in self.report("--by", "counter")["groups"]}
        self.assertEqual(got["ht-ky-anh/Q2"]["counter_label"],
                         "Quầy hộ tịch - Trung tâm Hành chính công huyện Kỳ Anh")
        self.assertEqual(got["-"]["counter_label"], "Không ghi quầy")
        got = {g["officer"]: g for g in self.report("--by", "officer")["groups"]}
        self.assertEqual(got["CB02"]["officer_label"], "Trần Thị Bình")
        self.assertEqual((got["CB04"]["n"], got["CB04"]["low_sample"]), (4, True))

    def test_respondent_figures_are_the_same_from_the_rollup_and_the_queue(self):
        # sipas_respondent_rollup reads the second rollup's leaves for whole
        # years and months, the queue for months not folded yet, and the
        # responses for partial months: some rows folded, the rest queued.
        psql("SELECT sipas_rollup_compact(%d)" % (len(self.rows) // 2))
        self.assertNotEqual(psql("SELECT count(*) FROM rollup_pending"), "0")
        year = TODAY.replace(month=1, day=1)
        mid = FIRST + datetime.timedelta(days=40)
        periods = [(None, None), (str(year), str(year.replace(month=12, day=31))),
                   (str(FIRST + datetime.timedelta(days=9)), str(TODAY - datetime.timedelta(days=9))),
                   (str(mid.replace(day=1)), str(TODAY)), (str(mid), str(mid + datetime.timedelta(days=3)))]
        for dims in (["gender"], ["age_group", "month"], ["education", "quarter"],
                     ["occupation", "year"], ["district", "ethnicity"], ["gender", "center"]):
            for a, b in periods:
                with self.subTest(by=dims, period=(a, b)):
                    args = ("--from", a) if a else ()
                    args += ("--to", b) if b else ()
                    pred = lambda r: (a is None or str(r["day"]) >= a) and (b is None or str(r["day"]) <= b)
                    self.assert_suppression(self.report("--by", ",".join(dims), *args), dims, pred)

    def test_the_new_dimensions_combine_with_the_others(self):
        got = self.report("--by", "officer,quarter")
        want = self.groups(["officer", "quarter"])
        self.assertEqual({(g["officer"], g["quarter"]) for g in got["groups"]},
                         set(want) - {(None, None)})
        for g in got["groups"]:
            self.assert_figures(g, want[(g["officer"], g["quarter"])], str(g))
        got = self.report("--by", "counter", "--worst", "3")
        for g in got["groups"]:
            rs = [r for r in self.rows if r["counter"] == g["counter"]]
            rates = figures(self.q, [{"answers": r["answers"]} for r in rs])["_rates"]
            weakest = sorted(rates, key=lambda c: (rates[c], self.q.criteria.index(c)))[:3]
            self.assertEqual([w["code"] for w in g["worst"]], weakest, g["counter"])
        got = self.report("--by", "gender,area")
        self.assert_suppression(got, ["gender", "area"])
        got = self.report("--by", "age_group,quarter", "--center", "ht-ky-anh")
        self.assert_suppression(got, ["age_group", "quarter"],
                                lambda r: r["center"] == "ht-ky-anh")
        table = role("chief", "report", "--by", "officer,quarter").stdout
        self.assertIn("Trần Thị Bình", table)

    # -- the filters -------------------------------------------------------

    def test_counter_and_officer_filters(self):
        got = self.report("--by", "officer", "--counter", "Q3")
        rs = [r for r in self.rows if r["counter"] == "ht-can-loc/Q3"]
        self.assertGreater(len(rs), 10)
        self.assert_figures(got["total"], rs, "--counter Q3")
        # Q1 is at two centers: which one must be said.
        r = role("chief", "report", "--by", "officer", "--counter", "Q1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("counter 'Q1' is at several centers (ht-can-loc, ht-ky-anh)", r.stderr)
        self.assertIn("--center", r.stderr)
        got = self.report("--by", "area", "--counter", "Q1", "--center", "ht-ky-anh")
        self.assert_figures(got["total"], [r for r in self.rows if r["counter"] == "ht-ky-anh/Q1"],
                            "--counter Q1 --center ht-ky-anh")
        r = role("chief", "report", "--by", "area", "--counter", "Q2", "--center", "ht-can-loc",
                 check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no counter 'Q2' at or below center 'ht-can-loc'", r.stderr)
        r = role("chief", "report", "--by", "area", "--counter", "Q9", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown counter 'Q9'", r.stderr)
        got = self.report("--by", "counter", "--officer", "CB02", "--from", str(FIRST + datetime.timedelta(days=30)))
        rs = [r for r in self.rows if r["officer"] == "CB02" and
              r["day"] >= FIRST + datetime.timedelta(days=30)]
        self.assert_figures(got["total"], rs, "--officer CB02")
        r = role("chief", "report", "--by", "area", "--officer", "CB99", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown officer 'CB99'", r.stderr)
        # Export takes them too.
        out = role("chief", "export", "--counter", "Q3").stdout
        self.assertEqual(len(csv_rows(out)), len([r for r in self.rows if r["counter"] == "ht-can-loc/Q3"]))
        out = role("chief", "export", "--officer", "CB01", "--format", "ndjson").stdout
        self.assertEqual(len(out.splitlines()), len([r for r in self.rows if r["officer"] == "CB01"]))

    # -- who may see figures by officer ----------------------------------

    def test_figures_by_officer_are_refused_to_the_report_role(self):
        for args in (["report", "--by", "officer"], ["report", "--by", "quarter,officer"],
                     ["report", "--by", "area", "--officer", "CB01"],
                     ["report", "--by", "officer", "--format", "html", "--center", "ht-ky-anh"],
                     ["export", "--officer", "CB01"]):
            with self.subTest(args=args):
                r = role("reporter", *args, check=False)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn("sipas_report_personnel", r.stderr)
                self.assertIn("'reporter'", r.stderr)
                self.assertEqual(r.stdout, "")
        # The database refuses it too, whatever the client.
        r = psql_as("reporter", "SELECT officer_id FROM responses LIMIT 1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)
        r = psql_as("reporter", "SELECT * FROM responses LIMIT 1")
        self.assertIn("permission denied", r.stderr)
        self.assertEqual(psql_as("reporter", "SELECT count(counter_id) FROM responses").stdout.strip(),
                         str(sum(r["counter"] != "-" for r in self.rows)))
        self.assertEqual(psql_as("chief", "SELECT count(officer_id) FROM responses").stdout.strip(),
                         str(sum(r["officer"] != "-" for r in self.rows)))

    def test_officers_and_their_postings_are_for_the_personnel_role(self):
        # Where one officer works a counter, the counter's figures are that
        # officer's: who works where is a personnel matter too.
        for table in ("officers", "officer_postings", "officer_posting_spans"):
            with self.subTest(table=table):
                r = psql_as("reporter", "SELECT count(*) FROM %s" % table)
                self.assertNotEqual(r.returncode, 0, table)
                self.assertIn("permission denied", r.stderr)
                self.assertEqual(psql_as("chief", "SELECT count(*) >= 0 FROM %s" % table).stdout
                                 .strip(), "t")
                self.assertEqual(psql("SELECT has_table_privilege('sipas_ingest', '%s', 'SELECT')"
                                      % table), "t")
        r = role("reporter", "officer", "list", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("permission denied", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("full_name", role("chief", "officer", "list").stdout)
        # The place stays readable: counters, and the report by counter.
        self.assertEqual(psql_as("reporter", "SELECT count(*) FROM counters").stdout.strip(),
                         str(sum(len(v) for v in COUNTERS.values())))
        got = self.report("--by", "counter", who="reporter")
        self.assertEqual(got, self.report("--by", "counter"))
        self.assertEqual(got["total"]["n"], len(self.rows))

    def test_every_other_report_and_export_works_as_the_report_role(self):
        for dim in ("area", "center", "district", "level", "criterion", "element", "month",
                    "quarter", "year", "procedure", "kiosk", "counter") + RESPONDENT:
            with self.subTest(by=dim):
                self.assertEqual(self.report("--by", dim, who="reporter"), self.report("--by", dim))
        self.assertEqual(self.report("--by", "gender,kiosk", "--counter", "Q3", who="reporter"),
                         self.report("--by", "gender,kiosk", "--counter", "Q3"))
        for fmt in ("csv", "ndjson"):
            self.assertEqual(role("reporter", "export", "--format", fmt).stdout,
                             role("chief", "export", "--format", fmt).stdout)
        self.assertEqual(len(csv_rows(role("reporter", "export").stdout)), len(self.rows))

    # -- suppression -------------------------------------------------------

    def test_small_cells_are_suppressed_in_every_format(self):
        want = self.groups(["gender"])
        others = sorted((len(rs), k[0]) for k, rs in want.items() if k[0] not in (None, "other"))
        hidden = {"other", others[0][1]}    # the small cell, and the next smallest
        got = self.report("--by", "gender")
        self.assertEqual({g["gender"] for g in got["groups"] if g["suppressed"]}, hidden)
        self.assertFalse(got["total"]["suppressed"])
        self.assertEqual(got["total"]["n"], len(self.rows))
        self.assertEqual(got["min_cell"], 5)
        shown = [g for g in got["groups"] if not g["suppressed"]]
        self.assertEqual([g["rank"] for g in shown], [1, 2])
        # CSV: empty figures and a column that says so.
        # (A key starting with '-' is neutralised as text: see test_report.py.)
        rows = {r["gender"].lstrip("'"): r for r in csv_rows(role("chief", "report", "--by", "gender",
                                                                  "--format", "csv").stdout)}
        for key in hidden:
            self.assertEqual((rows[key]["n"], rows[key]["index"], rows[key]["suppressed"]),
                             ("", "", "true"))
        self.assertEqual(rows["female"]["suppressed"], "false")
        self.assertEqual(int(rows["female"]["n"]), len(want[("female",)]))
        # The table: a mark, not a zero, and the note saying what it means.
        table = role("chief", "report", "--by", "gender").stdout
        line = next(x for x in table.splitlines() if " other " in x)
        self.assertIn("ẩn", line)
        self.assertNotRegex(line, r"\d")
        self.assertIn("ẩn: dưới 5 người", table)
        cross = role("chief", "report", "--by", "gender,quarter").stdout
        self.assertIn("ẩn", next(x for x in cross.splitlines() if x.startswith("other ")))
        # HTML: the mark in the table, and no bar for a hidden group.
        page = Page(role("chief", "report", "--by", "gender", "--format", "html").stdout)
        self.assertEqual(page.rects["chart-groups"], len(want) - 1 - len(hidden))
        self.assertIn("ẩn", page.ids["chart-groups"])
        self.assertEqual(page.ids["report-table"].count("ẩn"), len(hidden))
        # No trend: its points are totals, not suppressed, which for a small
        # selection would show what the groups hide.
        self.assertNotIn("chart-trend", page.ids)
        self.assertIn("chart-trend", Page(role("chief", "report", "--by", "officer",
                                               "--format", "html").stdout).ids)
        # A larger threshold hides more; below the floor of 3 is refused.
        got = self.report("--by", "ethnicity", "--min-cell", "1000")
        self.assertTrue(all(g["suppressed"] for g in got["groups"] + [got["total"]]))
        for bad in ("2", "0", "x"):
            r = role("chief", "report", "--by", "gender", "--min-cell", bad, check=False)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--min-cell", r.stderr)
        # Not a breakdown by respondents: nothing is hidden, however small.
        got = self.report("--by", "officer")
        self.assertFalse(any(g["suppressed"] for g in got["groups"]))

    def test_a_hidden_group_split_by_criterion_stays_hidden(self):
        # The parts of a group the database suppressed are no figures of
        # zero respondents, but hidden too.
        got = self.report("--by", "gender,criterion")
        hidden = {g["gender"] for g in self.report("--by", "gender")["groups"] if g["suppressed"]}
        self.assertTrue(hidden)
        for g in got["groups"]:
            if g["gender"] in hidden:
                self.assertTrue(g["suppressed"], g)
            elif g["gender"] is not None and g["criterion"] is not None:
                self.assertFalse(g["suppressed"], g)

    def test_an_empty_breakdown_by_respondents_has_a_total_of_zero(self):
        # No response in the period: nobody to protect, and a total of zero
        # must not look like one hidden; the group of those who did not
        # answer is not invented either.
        for dims in ("gender", "gender,quarter"):
            got = self.report("--by", dims, "--from", "2031-01-01", "--to", "2031-03-31")
            self.assertEqual(got["groups"], [], dims)
            self.assertFalse(got["total"]["suppressed"], dims)
            self.assertEqual(got["total"]["n"], 0, dims)
        table = role("chief", "report", "--by", "gender", "--from", "2031-01-01",
                     "--to", "2031-03-31").stdout
        self.assertIn("Toàn bộ: 0 phiếu", table)
        self.assertRegex(next(x for x in table.splitlines() if "Tổng cộng" in x),
                         r"Tổng cộng\s+0\s")

    def test_a_suppressed_group_says_nothing_of_the_target(self):
        # Whether a group is below the target is a figure of it: with a
        # target between the groups' indices, a suppressed group's flag
        # would tell on which side its index lies.
        got = self.report("--by", "gender")
        shown = sorted(g["index"] for g in got["groups"] if not g["suppressed"])
        target = "%.2f" % ((shown[0] + shown[-1]) / 2)
        got = self.report("--by", "gender", "--target", target)
        hidden = {g["gender"] for g in got["groups"] if g["suppressed"]}
        self.assertEqual(len(hidden), 2)
        for g in got["groups"]:
            if g["suppressed"]:
                self.assertIsNone(g["below_target"], g["gender"])
            else:
                self.assertEqual(g["below_target"], g["index"] < float(target), g["gender"])
        self.assertEqual({g["below_target"] for g in got["groups"] if not g["suppressed"]},
                         {True, False})
        self.assertFalse(got["total"]["suppressed"])
        self.assertIsInstance(got["total"]["below_target"], bool)
        # The total too, when it is suppressed.
        got = self.report("--by", "gender", "--target", "100", "--min-cell", "1000")
        for g in got["groups"] + [got["total"]]:
            self.assertEqual((g["suppressed"], g["below_target"]), (True, None), g["gender"])
        # CSV: the cell is empty, as the other figures of the group.
        rows = {r["gender"].lstrip("'"): r for r in csv_rows(role(
            "chief", "report", "--by", "gender", "--target", target, "--format", "csv").stdout)}
        for key, r in rows.items():
            self.assertEqual(r["below_target"], "" if key in hidden else
                             ("true" if float(r["index"]) < float(target) else "false"), key)
        # The table: no mark below the target on a suppressed line, nor in a
        # cross table's suppressed cells.
        table = role("chief", "report", "--by", "gender", "--target", target).stdout
        for line in table.splitlines():
            if any(" %s " % k in line for k in hidden):
                self.assertNotIn("dưới", line)
        self.assertIn("dưới", table)
        cross = role("chief", "report", "--by", "gender,area", "--target", "100").stdout
        cells = [c for line in cross.splitlines() for c in line.split()]
        self.assertIn("ẩn", cells)
        self.assertNotIn("ẩn!", cross)
        # HTML: a suppressed group has no cell or bar marked below the target.
        page = role("chief", "report", "--by", "gender", "--target", "100", "--format", "html").stdout
        rows = [x for x in page.split("<tr") if "suppressed" in x.split(">")[0]]
        self.assertEqual(len(rows), len(hidden))
        for x in rows:
            self.assertNotIn("below", x)
        self.assertEqual(page.count("#d9534f"), len(self.groups(["gender"])) - 1 - len(hidden))

    def test_a_suppressed_cell_is_not_given_away_by_a_previous_period(self):
        mid = FIRST + datetime.timedelta(days=85)
        got = self.report("--by", "gender", "--from", str(mid), "--to", str(TODAY),
                          "--compare", "%s:%s" % (FIRST, mid - datetime.timedelta(days=1)))
        for g in got["groups"]:
            if g["suppressed"]:
                self.assertEqual((g["previous_index"], g["change"], g["rank_change"]),
                                 (None, None, None), g["gender"])

    # -- the HTML page of a center's counters and officers -----------------

    def test_a_breakdown_by_respondents_refuses_as_of(self):
        # Those figures come from sipas_respondent_rollup, which counts under
        # today's tree: --as-of would be silently ignored.
        for by in ("gender", "age_group,center"):
            r = role("chief", "report", "--by", by, "--as-of", "2025-08-01", check=False)
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertIn("--as-of", r.stderr)
        self.assertEqual(role("chief", "report", "--by", "center", "--as-of",
                              "2025-08-01", check=False).returncode, 0)

    def test_html_page_of_a_centers_counters_and_officers(self):
        out = role("chief", "report", "--center", "ht-ky-anh", "--by", "officer",
                   "--format", "html").stdout
        page = Page(out)
        rs = [r for r in self.rows if r["center"] == "ht-ky-anh"]
        officers = collections.Counter(r["officer"] for r in rs)
        counters = collections.Counter(r["counter"] for r in rs)
        self.assertIn("Quầy và công chức", page.ids["title"])
        self.assertIn("ht-ky-anh", out)
        self.assertEqual(page.rects["chart-groups"], len(officers))
        self.assertEqual(page.rects["chart-counters"], len(counters))
        for code, n in officers.items():
            label = OFFICERS.get(code, "Không ghi công chức")
            self.assertIn("%s (n = %d)" % (label, n), page.ids["chart-groups"])
        self.assertIn("Phạm Thị Dung (n = %d)*" % officers["CB04"], page.ids["chart-groups"])
        for code, n in counters.items():
            label = COUNTER_NAMES[code.split("/")[1]] if code != "-" else "Không ghi quầy"
            self.assertIn("(n = %d)" % n, page.ids["chart-counters"])
            self.assertIn(label, page.ids["chart-counters"])
        # The weakest criteria of every officer, three each.
        worst = page.ids["worst"]
        for code in officers:
            self.assertIn(OFFICERS.get(code, "Không ghi công chức"), worst)
        cb01 = [r for r in rs if r["officer"] == "CB01"]
        rates = figures(self.q, [{"answers": r["answers"]} for r in cb01])["_rates"]
        weakest = sorted(rates, key=lambda c: (rates[c], self.q.criteria.index(c)))[:3]
        after = worst[worst.index("Nguyễn Văn An"):]
        for c in weakest:
            self.assertIn(c + " - ", after[:600])
        self.assertIn("theo công chức", page.h2[0])
        self.assertIn("tiêu chí yếu nhất của từng công chức", page.h2[1])
        self.assertIn("theo quầy", page.h2[2])
        self.assertIn("mẫu nhỏ", out)
        # As a browser shows it (sipas as the tables' owner, a superuser).
        self.html_dir = os.environ.get("SIPAS_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="sipas-html-")
        seen, console = test_report.Report.render(self, "staff", "--center", "ht-ky-anh",
                                                  "--by", "officer")
        self.assertEqual(console, [], "no console messages")
        self.assertEqual(seen["bars"], len(officers))
        self.assertEqual(seen["worst"], 3 * (len(officers) + 1), "three for each, and the total")


def setUpModule():
    start_world(kiosks=len(CENTERS), centers=CENTERS)


def tearDownModule():
    stop_world()


if __name__ == "__main__":
    unittest.main(verbosity=2)
