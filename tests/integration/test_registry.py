#!/usr/bin/env python3
"""The registry in sipas: counters, officers and their postings, kiosks
fixed to a counter and moved, centers over time (close, move, import with
dates). A private PostgreSQL, the real sipas, and the real sipasd over
mutual TLS where a kiosk's move must show in what it stores. Every refusal
must leave the database as it was."""

import datetime
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403

CENTERS_2025 = os.path.join(SRC, "data", "ha-tinh-2025.csv")
CENTERS_OLD = os.path.join(SRC, "data", "ha-tinh-centers.csv")


def setUpModule():
    # K1 and K2 at the province's center (open whatever the date); the
    # certificates of kiosks 3 and 4 are enrolled by the tests. No kiosk
    # cache, so that a move shows in the next request.
    start_world(4, ["ht", "ht"], "kiosk_cache_ttl = 0s\n")
    sipas("center", "import", CENTERS_2025)


def tearDownModule():
    stop_world()


def vn_today(days=0):
    return (datetime.datetime.now(VN).date() + datetime.timedelta(days=days)).isoformat()


def snapshot():
    """Everything the registry commands may change, as text."""
    return psql(
        "SELECT (SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', code, name_vi, level, "
        "parent_id, opened_on, closed_on, successor_id, official_code), E'\\n' ORDER BY id) "
        "FROM centers) || E'\\n--\\n' || "
        "(SELECT coalesce(string_agg(format('%s|%s|%s', center_id, valid_from, parent_id), "
        "E'\\n' ORDER BY center_id, valid_from), '') FROM center_parents) || E'\\n--\\n' || "
        "(SELECT coalesce(string_agg(format('%s|%s|%s|%s', center_id, code, name_vi, retired_on), "
        "E'\\n' ORDER BY id), '') FROM counters) || E'\\n--\\n' || "
        "(SELECT coalesce(string_agg(format('%s|%s|%s', code, full_name, retired_on), "
        "E'\\n' ORDER BY id), '') FROM officers) || E'\\n--\\n' || "
        "(SELECT coalesce(string_agg(format('%s|%s|%s|%s', officer_id, valid_from, center_id, "
        "counter_id), E'\\n' ORDER BY officer_id, valid_from), '') FROM officer_postings) "
        "|| E'\\n--\\n' || (SELECT string_agg(format('%s|%s|%s|%s|%s', code, center_id, "
        "counter_id, status, encode(cert_sha256, 'hex')), E'\\n' ORDER BY id) FROM kiosks)")


def csv_file(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".csv", dir=W["dir"], delete=False)
    f.write(text)
    f.close()
    return f.name


def file_row(code, parent):
    """code's row of the 2025 file, its four first columns, with parent."""
    with open(CENTERS_2025, encoding="utf-8") as f:
        row = next(line.split(",") for line in f if line.startswith(code + ","))
    return ",".join(row[:3] + [parent]) + "\n"


def csv_rows(r):
    return [line.split(",") for line in r.stdout.lstrip("\ufeff").strip().splitlines()]


class Refusals:
    def refused(self, *args, says):
        """sipas ARGS fails, its message says SAYS, and nothing changed."""
        before = snapshot()
        r = sipas(*args, check=False)
        self.assertNotEqual(r.returncode, 0, "sipas %s succeeded: %s" % (" ".join(args), r.stdout))
        self.assertIn(says, r.stderr)
        self.assertEqual(snapshot(), before, "sipas %s changed the database" % " ".join(args))
        return r


class CenterImportTest(unittest.TestCase, Refusals):
    def center(self, code):
        return psql("SELECT format('%%s|%%s|%%s|%%s', c.opened_on, c.closed_on, s.code, "
                    "c.official_code) FROM centers c LEFT JOIN centers s ON s.id = c.successor_id "
                    "WHERE c.code = '%s'" % code)

    def test_dates_successors_and_official_codes(self):
        # ht-thanh-sen, the successor, comes later in the file than ht-tp-ha-tinh.
        self.assertEqual(self.center("ht-tp-ha-tinh"), "|2025-06-30|ht-thanh-sen|")
        self.assertEqual(self.center("ht-tx-hong-linh"), "|2025-06-30||")
        self.assertEqual(self.center("ht-loc-ha"), "|2024-12-31|ht-thach-ha|")
        self.assertEqual(self.center("ht-song-tri"), "2025-07-01|||18754")
        with open(CENTERS_2025, encoding="utf-8") as f:
            codes = [line.split(",")[0] for line in f][1:]
        self.assertEqual(len(codes), 83)
        self.assertEqual(psql("SELECT count(*) FROM centers WHERE code IN (%s)"
                              % ", ".join("'%s'" % c for c in codes)), "83")

    def test_every_center_has_its_parent_since_always(self):
        n = psql("SELECT count(*) FROM centers")
        self.assertEqual(psql("SELECT count(*) FROM center_parents WHERE valid_from = '-infinity'"), n)
        # centers.parent_id is the parent of today's span.
        self.assertEqual(psql(
            "SELECT count(*) FROM centers c JOIN center_parent_spans p ON p.center_id = c.id "
            "AND p.valid_from <= '%s' AND '%s' < p.valid_until "
            "AND p.parent_id IS NOT DISTINCT FROM c.parent_id" % (vn_today(), vn_today())), n)

    def test_reimport_of_both_shapes_changes_nothing(self):
        for f in (CENTERS_2025, CENTERS_OLD, CENTERS_2025):
            before = snapshot()
            r = sipas("center", "import", f)
            self.assertIn("0 new, 0 changed", r.stdout)
            # The file of four columns leaves the dates of the 2025 file alone.
            self.assertEqual(snapshot(), before, f)

    def test_import_changes_what_the_file_says(self):
        f = csv_file("code,name_vi,level,parent,official_code\n"
                     "ht-imp-a,Trung tâm A,commune,ht,\n")
        r = sipas("center", "import", f)
        self.assertIn("1 new, 0 changed", r.stdout)
        f = csv_file("parent,code,level,name_vi,closed_on,official_code\n"
                     "ht,ht-imp-a,commune,Trung tâm A mới,2026-01-31,12345\n")
        r = sipas("center", "import", f)
        self.assertIn("0 new, 1 changed", r.stdout)
        self.assertEqual(self.center("ht-imp-a"), "|2026-01-31||12345")
        self.assertEqual(psql("SELECT name_vi FROM centers WHERE code = 'ht-imp-a'"),
                         "Trung tâm A mới")

    def test_import_refusals(self):
        head = "code,name_vi,level,parent,opened_on,closed_on,successor\n"
        for body, says in [
            ("ht-r1,R1,commune,ht,,2025-06-30,ht-nowhere\n", "unknown successor 'ht-nowhere'"),
            ("ht-r1,R1,commune,ht,,2025-06-30,ht-r1\n", "its own successor"),
            # ht-can-loc closed on 2025-06-30: it cannot succeed on 2026-01-01.
            ("ht-r1,R1,commune,ht,,2025-12-31,ht-can-loc\n", "closed on 2025-06-30"),
            ("ht-r1,R1,commune,ht,,,ht-thanh-sen\n", "no closed_on"),
            ("ht-r1,R1,commune,ht,2025-02-30,,\n", "'2025-02-30' is not a date"),
            ("ht-r1,R1,commune,ht,30/06/2025,,\n", "'30/06/2025' is not a date"),
            ("ht-r1,R1,commune,ht,2025-07-01,2025-06-30,\n", "closes before it opens"),
            ("ht-r1,R1,commune,ht-nowhere,,,\n", "unknown parent 'ht-nowhere'"),
            ("ht-r1,R1,commune,ht-r1,,,\n", "would be its own ancestor"),
            # A loop of existing centers: the first new parent is refused.
            ("ht-thach-ha-xa,X,commune,ht-thach-ha,,,\nht-thach-ha,T,district,ht-thach-ha-xa,,,\n",
             "sipas center move ht-thach-ha-xa --parent ht-thach-ha --on DATE"),
        ]:
            f = csv_file(head + "ht-r0,R0,commune,ht,,,\n" + body)
            self.refused("center", "import", f, says=says)
        f = csv_file("code,name_vi,level,parent,closed\nht-r1,R1,commune,ht,\n")
        self.refused("center", "import", f, says="unknown column 'closed'")
        f = csv_file("code,name_vi,level\nht-r1,R1,commune\n")
        self.refused("center", "import", f, says="no column 'parent'")

    def test_import_does_not_reparent_the_past_of_a_center(self):
        # ht-thien-cam is under ht since always: a file naming another
        # parent would move its past too. Refused, with the command that
        # moves it from a date; the new center before it is not imported.
        head = "code,name_vi,level,parent\n"
        f = csv_file(head + "ht-r0,R0,commune,ht\n" + file_row("ht-thien-cam", "ht-cam-xuyen-xa"))
        r = self.refused("center", "import", f, says="center 'ht-thien-cam'")
        self.assertIn("its parent is 'ht'", r.stderr)
        self.assertIn("sipas center move ht-thien-cam --parent ht-cam-xuyen-xa --on DATE", r.stderr)
        self.assertIn("nothing was imported", r.stderr)
        # A center moved from a date: a file with the parent before the move
        # or after it is what the database says (nothing changes), and its
        # past stays under ht; another parent is refused.
        sipas("center", "move", "ht-cam-due", "--parent", "ht-cam-hung", "--on", vn_today(-3))
        for parent in ("ht", "ht-cam-hung"):
            before = snapshot()
            r = sipas("center", "import", csv_file(head + file_row("ht-cam-due", parent)))
            self.assertIn("0 new, 0 changed", r.stdout, parent)
            self.assertEqual(snapshot(), before, parent)
        self.refused("center", "import", csv_file(head + file_row("ht-cam-due", "ht-cam-lac")),
                     says="sipas center move ht-cam-due --parent ht-cam-lac --on DATE")
        # A new center gets the file's parent since always.
        sipas("center", "import", csv_file(head + "ht-r2,R2,commune,ht-cam-lac\n"))
        self.assertEqual(psql("SELECT string_agg(p.valid_from || ' ' || pp.code, ', ') "
                              "FROM center_parents p JOIN centers c ON c.id = p.center_id "
                              "JOIN centers pp ON pp.id = p.parent_id WHERE c.code = 'ht-r2'"),
                         "-infinity ht-cam-lac")

    def test_list_shows_dates_and_successor(self):
        rows = {r[0]: r for r in csv_rows(sipas("center", "list", "--format", "csv"))}
        self.assertEqual(rows["code"], ["code", "level", "parent", "opened_on", "closed_on",
                                        "successor", "official_code", "name_vi"])
        self.assertEqual(rows["ht-tp-ha-tinh"][1:7],
                         ["district", "ht", "", "2025-06-30", "ht-thanh-sen", ""])
        self.assertEqual(rows["ht-song-tri"][3:7], ["2025-07-01", "", "", "18754"])


class CenterCloseMoveTest(unittest.TestCase, Refusals):
    def test_close_with_successor_names_the_kiosks_left(self):
        sipas("kiosk", "add", "K4", "--center", "ht-ky-lac", "--cert", tls("kiosk4.crt"))
        last = vn_today(-30)
        r = sipas("center", "close", "ht-ky-lac", "--on", last, "--successor", "ht-ky-thuong")
        self.assertIn("1 active kiosk", r.stdout)
        self.assertIn("K4", r.stdout)
        self.assertIn("sipas kiosk move", r.stdout)
        self.assertEqual(psql("SELECT c.closed_on || ' ' || s.code FROM centers c "
                              "JOIN centers s ON s.id = c.successor_id WHERE c.code = 'ht-ky-lac'"),
                         last + " ht-ky-thuong")
        before = snapshot()
        sipas("center", "close", "ht-ky-lac", "--on", last, "--successor", "ht-ky-thuong")
        self.assertEqual(snapshot(), before)
        # An import, too, names the kiosks left at centers closed before today.
        r = sipas("center", "import", csv_file("code,name_vi,level,parent\n"))
        self.assertIn("K4 (ht-ky-lac)", r.stdout)
        # ht-ky-thuong succeeds ht-ky-lac from the day after: it cannot close before.
        self.refused("center", "close", "ht-ky-thuong", "--on", vn_today(-31),
                     says="succeeds 'ht-ky-lac'")

    def test_close_keeps_the_successor_unless_told(self):
        sipas("center", "import", csv_file(
            "code,name_vi,level,parent,opened_on,closed_on,successor\n"
            "ht-c3-old,C3 cũ,commune,ht,,2026-03-31,ht-c3-new\n"
            "ht-c3-new,C3 mới,commune,ht,2026-04-01,,\n"))
        successor = lambda: psql("SELECT c.closed_on || ' ' || coalesce(s.code, '-') FROM centers c "
                                 "LEFT JOIN centers s ON s.id = c.successor_id "
                                 "WHERE c.code = 'ht-c3-old'")
        # Another closing day, the same successor.
        r = sipas("center", "close", "ht-c3-old", "--on", "2026-03-31")
        self.assertEqual(successor(), "2026-03-31 ht-c3-new")
        self.assertIn("its successor is ht-c3-new", r.stdout)
        # A successor must be open from the day after the closing: here it
        # opens two days after, whether it is kept or given.
        self.refused("center", "close", "ht-c3-old", "--on", "2026-03-30",
                     says="'ht-c3-new' succeeds 'ht-c3-old' from 2026-03-31 but opens on 2026-04-01")
        self.refused("center", "close", "ht-c3-old", "--on", "2026-03-30", "--successor", "ht-c3-new",
                     says="opens on 2026-04-01")
        self.refused("center", "close", "ht-c3-old", "--on", "2026-03-31", "--successor", "ht-c3-new",
                     "--no-successor", says="not both")
        r = sipas("center", "close", "ht-c3-old", "--on", "2026-03-30", "--no-successor")
        self.assertNotIn("successor", r.stdout)
        self.assertEqual(successor(), "2026-03-30 -")
        self.refused("center", "import", csv_file(
            "code,name_vi,level,parent,opened_on,closed_on,successor\n"
            "ht-c3-old,C3 cũ,commune,ht,,2026-03-30,ht-c3-new\n"), says="opens on 2026-04-01")

    def test_close_refusals(self):
        self.refused("center", "close", "ht-nowhere", "--on", "2026-01-01", says="unknown center 'ht-nowhere'")
        self.refused("center", "close", "ht-ky-hoa", "--on", "2026-13-01", says="'2026-13-01' is not a date")
        self.refused("center", "close", "ht-ky-hoa", says="--on is required")
        self.refused("center", "close", "ht-ky-hoa", "--on", "2026-01-01", "--successor", "ht-ky-hoa",
                     says="its own successor")
        self.refused("center", "close", "ht-ky-hoa", "--on", "2026-01-01", "--successor", "ht-nowhere",
                     says="unknown successor 'ht-nowhere'")
        # ht-duc-tho closed on 2025-06-30, before 2026-01-02.
        self.refused("center", "close", "ht-ky-hoa", "--on", "2026-01-01", "--successor", "ht-duc-tho",
                     says="closed on 2025-06-30")
        self.refused("center", "close", "ht-ky-hoa", "--on", "2025-06-30", says="opened on 2025-07-01")

    def test_move_from_a_date(self):
        sipas("center", "move", "ht-ky-van", "--parent", "ht-ky-anh-xa", "--on", vn_today(-10))
        sipas("center", "move", "ht-ky-khang", "--parent", "ht-ky-anh-xa", "--on", vn_today(10))
        self.assertEqual(psql(
            "SELECT string_agg(c.code || ' ' || p.valid_from || ' ' || coalesce(pp.code, ''), ', ' "
            "ORDER BY c.code, p.valid_from) FROM center_parents p JOIN centers c ON c.id = p.center_id "
            "LEFT JOIN centers pp ON pp.id = p.parent_id WHERE c.code IN ('ht-ky-van', 'ht-ky-khang')"),
            "ht-ky-khang -infinity ht, ht-ky-khang %s ht-ky-anh-xa, "
            "ht-ky-van -infinity ht, ht-ky-van %s ht-ky-anh-xa" % (vn_today(10), vn_today(-10)))
        # The parent now follows the move of the past, not yet the one to come.
        self.assertEqual(psql("SELECT string_agg(c.code || ' ' || p.code, ', ' ORDER BY c.code) "
                              "FROM centers c JOIN centers p ON p.id = c.parent_id "
                              "WHERE c.code IN ('ht-ky-van', 'ht-ky-khang')"),
                         "ht-ky-khang ht, ht-ky-van ht-ky-anh-xa")

    def test_move_refusals(self):
        self.refused("center", "move", "ht-ky-xuan", "--parent", "ht-ky-xuan", "--on", vn_today(),
                     says="its own parent")
        self.refused("center", "move", "ht-ky-xuan", "--parent", "ht-nowhere", "--on", vn_today(),
                     says="unknown center 'ht-nowhere'")
        self.refused("center", "move", "ht-ky-xuan", "--parent", "ht", "--on", "2026-02-29",
                     says="'2026-02-29' is not a date")
        # A cycle today, and one that only the tree of a later day has.
        sipas("center", "move", "ht-vung-ang", "--parent", "ht-hoanh-son", "--on", vn_today(-5))
        self.refused("center", "move", "ht-hoanh-son", "--parent", "ht-vung-ang", "--on", vn_today(-1),
                     says="would be its own ancestor")
        sipas("center", "move", "ht-hai-ninh", "--parent", "ht-song-tri", "--on", vn_today(30))
        r = self.refused("center", "move", "ht-song-tri", "--parent", "ht-hai-ninh", "--on", vn_today(),
                         says="would be its own ancestor")
        self.assertIn(vn_today(30), r.stderr)


class CounterTest(unittest.TestCase, Refusals):
    def test_add_list_retire(self):
        sipas("counter", "add", "ht-tran-phu", "Q1", "--name", "Quầy 1")
        sipas("counter", "add", "ht-tran-phu", "Q2", "--name", "Quầy 2")
        sipas("counter", "add", "ht-ha-huy-tap", "Q1", "--name", "Quầy một")
        rows = csv_rows(sipas("counter", "list", "--center", "ht-tran-phu", "--format", "csv"))
        self.assertEqual(rows, [["center", "code", "name_vi", "retired_on"],
                                ["ht-tran-phu", "Q1", "Quầy 1", ""], ["ht-tran-phu", "Q2", "Quầy 2", ""]])
        self.assertIn("Quầy một", sipas("counter", "list").stdout)
        sipas("counter", "retire", "ht-tran-phu", "Q2", "--on", vn_today(-1))
        sipas("counter", "retire", "ht-tran-phu", "Q1", "--on", vn_today(7))
        rows = csv_rows(sipas("counter", "list", "--center", "ht-tran-phu", "--format", "csv"))
        self.assertEqual(rows[1:], [["ht-tran-phu", "Q1", "Quầy 1", vn_today(7)]])
        rows = csv_rows(sipas("counter", "list", "--center", "ht-tran-phu", "--all", "--format", "csv"))
        self.assertEqual([r[1] for r in rows[1:]], ["Q1", "Q2"])
        sipas("counter", "add", "ht-tran-phu", "Q3", "--name", "Quầy 3")
        sipas("counter", "retire", "ht-tran-phu", "Q3")
        self.assertEqual(psql("SELECT retired_on FROM counters WHERE code = 'Q3'"), vn_today())

    def test_refusals(self):
        sipas("counter", "add", "ht-thach-lac", "Q1", "--name", "Quầy 1")
        self.refused("counter", "add", "ht-thach-lac", "Q1", "--name", "Again", says="exists already")
        self.refused("counter", "add", "ht-nowhere", "Q1", "--name", "X", says="unknown center 'ht-nowhere'")
        self.refused("counter", "add", "ht-thach-lac", "Q 9", "--name", "X", says="not a valid counter code")
        self.refused("counter", "add", "ht-thach-lac", "Q9", says="--name is required")
        self.refused("counter", "add", "ht-can-loc", "Q9", "--name", "X", says="closed on 2025-06-30")
        self.refused("counter", "retire", "ht-thach-lac", "Q8", says="unknown counter 'Q8'")
        self.refused("counter", "retire", "ht-thach-lac", "Q1", "--on", "2026-04-31",
                     says="'2026-04-31' is not a date")
        self.refused("counter", "list", "--center", "ht-nowhere", says="unknown center 'ht-nowhere'")

    def test_retire_refuses_a_counter_a_kiosk_is_fixed_to(self):
        sipas("counter", "add", "ht-dong-tien", "Q1", "--name", "Quầy 1")
        sipas("kiosk", "move", "K1", "--center", "ht-dong-tien", "--counter", "Q1")
        self.refused("counter", "retire", "ht-dong-tien", "Q1", says="kiosk(s) K1")
        sipas("kiosk", "move", "K1", "--center", "ht")


class OfficerTest(unittest.TestCase, Refusals):
    def postings(self, code):
        return psql("SELECT string_agg(p.valid_from || ' ' || c.code || ' ' || coalesce(q.code, '-'), "
                    "', ' ORDER BY p.valid_from) FROM officer_postings p "
                    "JOIN officers o ON o.id = p.officer_id JOIN centers c ON c.id = p.center_id "
                    "LEFT JOIN counters q ON q.id = p.counter_id WHERE o.code = '%s'" % code)

    @classmethod
    def setUpClass(cls):
        for center in ("ht-thach-khe", "ht-cam-binh"):
            for q in ("Q1", "Q2"):
                sipas("counter", "add", center, q, "--name", "Quầy " + q)

    def test_add_move_list(self):
        sipas("officer", "add", "CB001", "--name", "Nguyễn Thị Hoa", "--center", "ht-thach-khe",
              "--counter", "Q1", "--from", "2025-07-01")
        sipas("officer", "add", "CB002", "--name", "Trần Văn Nam", "--center", "ht-thach-khe")
        self.assertEqual(self.postings("CB002"), "%s ht-thach-khe -" % vn_today())
        sipas("officer", "move", "CB001", "--center", "ht-cam-binh", "--counter", "Q2", "--on", "2026-01-01")
        self.assertEqual(self.postings("CB001"),
                         "2025-07-01 ht-thach-khe Q1, 2026-01-01 ht-cam-binh Q2")
        self.refused("officer", "move", "CB001", "--center", "ht-thach-khe", "--on", "2025-12-31",
                     says="before their current posting from 2026-01-01")
        on = csv_rows(sipas("officer", "list", "--center", "ht-thach-khe", "--on", "2025-08-01",
                            "--format", "csv"))
        on = [r for r in on if r[0] == "code" or r[0].startswith("CB00")]
        self.assertEqual(on, [["code", "full_name", "center", "counter", "since", "retired_on"],
                              ["CB001", "Nguyễn Thị Hoa", "ht-thach-khe", "Q1", "2025-07-01", ""]])
        on = csv_rows(sipas("officer", "list", "--center", "ht-cam-binh", "--format", "csv"))
        self.assertEqual([r for r in on if r[0].startswith("CB00")], [["CB001", "Nguyễn Thị Hoa", "ht-cam-binh", "Q2", "2026-01-01", ""]])
        sipas("officer", "retire", "CB002", "--on", vn_today(1))
        self.assertIn("CB002", sipas("officer", "list", "--on", vn_today()).stdout)
        self.assertNotIn("CB002", sipas("officer", "list", "--on", vn_today(1)).stdout)
        self.refused("officer", "move", "CB002", "--center", "ht-cam-binh", "--on", vn_today(2),
                     says="retired on %s" % vn_today(1))

    def test_refusals(self):
        sipas("officer", "add", "CB101", "--name", "Lê Văn Hùng", "--center", "ht-cam-binh")
        self.refused("officer", "add", "CB101", "--name", "X", "--center", "ht-cam-binh", says="exists already")
        self.refused("officer", "add", "CB102", "--name", "X", "--center", "ht-nowhere",
                     says="unknown center 'ht-nowhere'")
        self.refused("officer", "add", "CB102", "--name", "X", "--center", "ht-cam-binh", "--counter", "Q9",
                     says="unknown counter 'Q9' of center 'ht-cam-binh'")
        self.refused("officer", "add", "CB102", "--center", "ht-cam-binh", says="--name is required")
        self.refused("officer", "add", "CB102", "--name", "X", "--center", "ht-cam-binh", "--from", "2025-1-1",
                     says="'2025-1-1' is not a date")
        # A leap day is a date; 2025-1-1 above is not, as written.
        self.refused("officer", "add", "CB103", "--name", "Đỗ Thị Thu", "--center", "ht-cam-binh",
                     "--from", "2024-02-29", says="center 'ht-cam-binh' opens on 2025-07-01")
        sipas("officer", "add", "CB103", "--name", "Đỗ Thị Thu", "--center", "ht",
              "--from", "2024-02-29")
        self.refused("officer", "move", "CB999", "--center", "ht-cam-binh", "--on", vn_today(),
                     says="unknown officer 'CB999'")
        self.refused("officer", "move", "CB101", "--center", "ht-cam-binh", says="--on is required")
        self.refused("officer", "retire", "CB999", says="unknown officer 'CB999'")
        self.refused("officer", "retire", "CB101", "--on", vn_today(-1),
                     says="before their current posting from %s" % vn_today())
        self.refused("officer", "list", "--on", "yesterday", says="'yesterday' is not a date")

    def test_import_is_idempotent_and_moves_changed_postings(self):
        f = csv_file("code,full_name,center,counter,valid_from\n"
                     "CB201,Phạm Thị Lan,ht-thach-khe,Q1,2025-07-01\n"
                     "CB202,\"Hoàng Văn Bình, con\",ht-thach-khe,,2025-07-01\n")
        r = sipas("officer", "import", f)
        self.assertIn("2 new, 0 moved", r.stdout)
        before = snapshot()
        r = sipas("officer", "import", f)
        self.assertIn("0 new, 0 moved", r.stdout)
        self.assertEqual(snapshot(), before)
        self.assertEqual(self.postings("CB202"), "2025-07-01 ht-thach-khe -")
        self.assertEqual(psql("SELECT full_name FROM officers WHERE code = 'CB202'"), "Hoàng Văn Bình, con")
        # The four columns: a changed posting becomes a move from today.
        f4 = csv_file("code,full_name,center,counter\n"
                      "CB201,Phạm Thị Lan,ht-thach-khe,Q1\nCB202,Hoàng Văn Bình,ht-cam-binh,Q2\n")
        r = sipas("officer", "import", f4)
        self.assertIn("0 new, 1 moved", r.stdout)
        self.assertEqual(self.postings("CB202"),
                         "2025-07-01 ht-thach-khe -, %s ht-cam-binh Q2" % vn_today())
        self.assertEqual(psql("SELECT full_name FROM officers WHERE code = 'CB202'"), "Hoàng Văn Bình")
        before = snapshot()
        sipas("officer", "import", f4)
        self.assertEqual(snapshot(), before)
        f = csv_file("code,full_name,center,counter,valid_from\n"
                     "CB201,Phạm Thị Lan,ht-cam-binh,Q1,2026-02-01\n")
        sipas("officer", "import", f)
        self.assertEqual(self.postings("CB201"), "2025-07-01 ht-thach-khe Q1, 2026-02-01 ht-cam-binh Q1")

    def test_import_refusals(self):
        head = "code,full_name,center,counter,valid_from\nCB301,Ngô Văn A,ht-thach-khe,Q1,\n"
        for body, says in [
            ("CB302,X,ht-nowhere,,\n", "unknown center 'ht-nowhere'"),
            ("CB302,X,ht-thach-khe,Q7,\n", "unknown counter 'Q7'"),
            ("CB302,X,ht-thach-khe,,2025-13-01\n", "'2025-13-01' is not a date"),
            ("CB 302,X,ht-thach-khe,,\n", "not a valid officer code"),
            ("CB301,Ngô Văn A,ht,,2020-01-01\n", "before their current posting"),
        ]:
            self.refused("officer", "import", csv_file(head + body), says=says)
        self.refused("officer", "import", csv_file("code,name,center,counter\n"), says="unknown column 'name'")


class KioskTest(unittest.TestCase, Refusals):
    @classmethod
    def setUpClass(cls):
        for center in ("ht-can-loc-xa", "ht-duc-tho-xa"):
            sipas("counter", "add", center, "Q1", "--name", "Quầy 1")

    def test_add_with_a_counter(self):
        self.refused("kiosk", "add", "K3", "--center", "ht-can-loc-xa", "--counter", "Q9",
                     "--cert", tls("kiosk3.crt"), says="unknown counter 'Q9' of center 'ht-can-loc-xa'")
        sipas("counter", "add", "ht-yen-hoa", "Q1", "--name", "Quầy 1")
        sipas("counter", "retire", "ht-yen-hoa", "Q1")
        self.refused("kiosk", "add", "K3", "--center", "ht-yen-hoa", "--counter", "Q1",
                     "--cert", tls("kiosk3.crt"), says="retired on")
        sipas("kiosk", "add", "K3", "--center", "ht-can-loc-xa", "--counter", "Q1",
              "--cert", tls("kiosk3.crt"))
        rows = {r[0]: r for r in csv_rows(sipas("kiosk", "list", "--format", "csv"))}
        self.assertEqual(rows["code"][:4], ["code", "center", "counter", "status"])
        self.assertEqual(rows["K3"][1:3], ["ht-can-loc-xa", "Q1"])

    def test_move_keeps_the_certificate_and_the_past(self):
        k = kiosk(2)
        first = example()
        self.assertIn(k.post(first)[0], (200, 201))
        cert = psql("SELECT cert_sha256 FROM kiosks WHERE code = 'K2'")
        r = sipas("kiosk", "move", "K2", "--center", "ht-duc-tho-xa", "--counter", "Q1")
        self.assertIn("ht-duc-tho-xa", r.stdout)
        # sipasd reads the registry again every second here: the kiosk's
        # responses go on being served throughout, and land at the new
        # center once it has.
        deadline = time.monotonic() + 30
        while True:
            second = example()
            self.assertIn(k.post(second)[0], (200, 201))
            where = psql("SELECT c.code FROM responses r JOIN centers c ON c.id = r.center_id "
                         "WHERE r.id = '%s'" % second["id"])
            if where != "ht" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        k.close()
        self.assertEqual(where, "ht-duc-tho-xa")
        self.assertEqual(psql("SELECT c.code FROM responses r JOIN centers c ON c.id = r.center_id "
                              "WHERE r.id = '%s'" % first["id"]), "ht")
        self.assertEqual(psql("SELECT cert_sha256 FROM kiosks WHERE code = 'K2'"), cert)
        rows = {r[0]: r for r in csv_rows(sipas("kiosk", "list", "--format", "csv"))}
        self.assertEqual(rows["K2"][1:3], ["ht-duc-tho-xa", "Q1"])
        sipas("kiosk", "move", "K2", "--no-counter")
        self.assertEqual(psql("SELECT counter_id IS NULL FROM kiosks WHERE code = 'K2'"), "t")
        sipas("kiosk", "move", "K2", "--counter", "Q1")
        self.assertEqual(psql("SELECT q.code || ' ' || c.code FROM kiosks k JOIN counters q "
                              "ON q.id = k.counter_id JOIN centers c ON c.id = q.center_id "
                              "WHERE k.code = 'K2'"), "Q1 ht-duc-tho-xa")
        sipas("kiosk", "move", "K2", "--center", "ht")
        self.assertEqual(psql("SELECT counter_id IS NULL FROM kiosks WHERE code = 'K2'"), "t")

    def test_a_kiosk_is_not_fixed_to_a_counter_that_retires_even_later(self):
        sipas("counter", "add", "ht-duc-tho-xa", "QL", "--name", "Quầy sắp đóng")
        sipas("counter", "retire", "ht-duc-tho-xa", "QL", "--on", vn_today(30))
        self.refused("kiosk", "move", "K1", "--center", "ht-duc-tho-xa", "--counter", "QL",
                     says="retire")
        self.refused("kiosk", "add", "K5", "--center", "ht-duc-tho-xa", "--counter", "QL",
                     "--cert", tls("kiosk3.crt"), says="retire")

    def test_move_on_a_date_keeps_the_placements_over_time(self):
        cert = os.path.join(W["dir"], "k6.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=K6", "-days", "1",
                        "-keyout", os.devnull, "-out", cert], check=True, capture_output=True)
        sipas("kiosk", "add", "K6", "--center", "ht-can-loc-xa", "--cert", cert)
        sipas("kiosk", "move", "K6", "--center", "ht-duc-tho-xa", "--counter", "Q1",
              "--on", "2025-07-01")
        sipas("kiosk", "move", "K6", "--no-counter", "--on", "2025-08-01")
        self.assertEqual(psql("SELECT string_agg(p.valid_from || ' ' || c.code || ' ' || "
                              "coalesce(q.code, '-'), ', ' ORDER BY p.valid_from) "
                              "FROM kiosk_postings p JOIN kiosks k ON k.id = p.kiosk_id "
                              "JOIN centers c ON c.id = p.center_id "
                              "LEFT JOIN counters q ON q.id = p.counter_id WHERE k.code = 'K6'"),
                         "-infinity ht-can-loc-xa -, 2025-07-01 ht-duc-tho-xa Q1, "
                         "2025-08-01 ht-duc-tho-xa -")
        self.assertEqual(psql("SELECT c.code || ' ' || (k.counter_id IS NULL) FROM kiosks k "
                              "JOIN centers c ON c.id = k.center_id WHERE k.code = 'K6'"),
                         "ht-duc-tho-xa true")
        self.refused("kiosk", "move", "K6", "--center", "ht", "--on", "2025-02-30",
                     says="'2025-02-30' is not a date")

    def test_move_refusals(self):
        self.refused("kiosk", "add", "K5", "--center", "ht-can-loc", "--cert", tls("kiosk3.crt"),
                     says="center 'ht-can-loc' closed on 2025-06-30")
        self.refused("kiosk", "move", "K9", "--center", "ht", says="unknown kiosk 'K9'")
        self.refused("kiosk", "move", "K1", "--center", "ht-nowhere", says="unknown center 'ht-nowhere'")
        self.refused("kiosk", "move", "K1", "--center", "ht-duc-tho", says="closed on 2025-06-30")
        self.refused("kiosk", "move", "K1", "--counter", "Q1", says="unknown counter 'Q1' of center 'ht'")
        self.refused("kiosk", "move", "K1", "--center", "ht-can-loc-xa", "--counter", "Q7",
                     says="unknown counter 'Q7'")
        self.refused("kiosk", "move", "K1", "--counter", "Q1", "--no-counter", says="not both")
        self.refused("kiosk", "move", "K1", says="--center, --counter or --no-counter")


class HelpTest(unittest.TestCase):
    def test_every_command_has_help(self):
        for family, subs in (("counter", ["add", "list", "retire"]),
                             ("officer", ["add", "import", "list", "retire", "move"]),
                             ("kiosk", ["add", "move", "list"]),
                             ("center", ["import", "list", "close", "move"])):
            for sub in subs:
                r = sipas(family, sub, "--help")
                self.assertIn("sipas %s %s" % (family, sub), r.stdout)
            r = sipas(family, check=False)
            self.assertEqual(r.returncode, 2, family)
            self.assertIn("usage: sipas " + family, r.stderr)
        self.assertIn("officer move CODE", sipas("--help").stdout)


if __name__ == "__main__":
    unittest.main()
