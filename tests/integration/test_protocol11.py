#!/usr/bin/env python3
"""Protocol 1.1 through the real sipasd over mutual TLS: who served the
person (counter, officer) judged on the response's Vietnam day against the
organisation in the database, a kiosk fixed to a counter, one rating per
dossier and questionnaire (alone, in a batch, at spool replay), a kiosk of
a closed center, and the kiosk's context in the questionnaire.

The organisation: at ht-can-loc the counters Q1, Q2 and R (retired a year
ago); at ht-duc-tho the counter D1. Officers: CC1 at Q1, CC2 at ht-can-loc
without a counter, CCD at ht-duc-tho, CCR retired a year ago, CCM at
ht-can-loc until yesterday and at ht-duc-tho since today. K1 and K3 are
kiosks of ht-can-loc, K3 fixed to Q1; K2 is at ht-duc-tho; K4 at ht-ky-anh,
closed yesterday."""

import datetime
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403
from test_spool import cut_off, reconnect, inspect, set_aside_total, start_unhealthy  # noqa: E402

TODAY = datetime.datetime.now(VN).date()
YESTERDAY = TODAY - datetime.timedelta(days=1)
YEAR_AGO = TODAY - datetime.timedelta(days=365)

ORGANISATION = """
BEGIN;
INSERT INTO counters (center_id, code, name_vi, retired_on)
    SELECT c.id, v.code, v.name, v.retired::date
    FROM (VALUES ('ht-can-loc', 'Q1', 'Quầy 1', NULL), ('ht-can-loc', 'Q2', 'Quầy 2', NULL),
                 ('ht-can-loc', 'R', 'Quầy cũ', '{year_ago}'),
                 ('ht-can-loc', 'RS', 'Quầy đóng hôm nay', '{today}'),
                 ('ht-duc-tho', 'D1', 'Quầy Đức Thọ', NULL)) AS v(center, code, name, retired)
    JOIN centers c ON c.code = v.center;
INSERT INTO officers (code, full_name, retired_on)
    VALUES ('CC1', 'Nguyễn Văn An', NULL), ('CC2', 'Trần Thị Bình', NULL),
           ('CCD', 'Lê Văn Cường', NULL), ('CCR', 'Phạm Thị Dung', '{year_ago}'),
           ('CCM', 'Hoàng Văn Em', NULL), ('CC3', 'Võ Thị Giang', NULL);
INSERT INTO officer_postings (officer_id, valid_from, center_id, counter_id)
    SELECT o.id, v.since::date, c.id, q.id
    FROM (VALUES ('CC1', '-infinity', 'ht-can-loc', 'Q1'), ('CC2', '-infinity', 'ht-can-loc', NULL),
                 ('CCD', '-infinity', 'ht-duc-tho', NULL), ('CCR', '-infinity', 'ht-can-loc', NULL),
                 ('CCM', '-infinity', 'ht-can-loc', 'Q2'), ('CCM', '{today}', 'ht-duc-tho', 'D1'),
                 ('CC3', '-infinity', 'ht-can-loc', NULL))
         AS v(officer, since, center, counter)
    JOIN officers o ON o.code = v.officer JOIN centers c ON c.code = v.center
    LEFT JOIN counters q ON q.code = v.counter AND q.center_id = c.id;
UPDATE kiosks SET counter_id = (SELECT q.id FROM counters q JOIN centers c ON c.id = q.center_id
                                WHERE c.code = 'ht-can-loc' AND q.code = 'Q1')
    WHERE code = 'K3';
UPDATE kiosk_postings p SET counter_id = k.counter_id FROM kiosks k
    WHERE k.id = p.kiosk_id AND k.code = 'K3';
UPDATE centers SET closed_on = '{yesterday}' WHERE code = 'ht-ky-anh';
COMMIT;
"""


def setUpModule():
    start_world(4, ["ht-can-loc", "ht-duc-tho", "ht-can-loc", "ht-ky-anh"], "kiosk_cache_ttl = 1s\n")
    psql(ORGANISATION.format(today=TODAY, yesterday=YESTERDAY, year_ago=YEAR_AGO))
    # One snapshot: once the counters are served, the rest is known too.
    # Past the deadline the tests run anyway and say what is missing.
    k = kiosk(1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, _, q = k.request("GET", "/v1/questionnaire")
        if status == 200 and q.get("counters"):
            break
        time.sleep(0.2)
    k.close()


def tearDownModule():
    stop_world()


def at(day, hour=10):
    """An RFC 3339 time on a Vietnam day."""
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=VN).isoformat()


def row(rid):
    """The stored counter, officer and dossier of a response."""
    return psql("SELECT coalesce(q.code, '-'), coalesce(o.code, '-'), coalesce(r.dossier, '-') "
                "FROM responses r LEFT JOIN counters q ON q.id = r.counter_id "
                "LEFT JOIN officers o ON o.id = r.officer_id WHERE r.id = '%s'" % rid).split("|")


def dossier():
    return "H25." + uuid.uuid4().hex[:12] + "/1"


class WhoServed(unittest.TestCase):
    def setUp(self):
        self.k = kiosk(1)

    def tearDown(self):
        self.k.close()

    def assertRefused(self, r, field, says):
        status, _, reply = self.k.post(r)
        self.assertEqual((status, reply.get("error"), reply.get("field")), (400, "invalid", field),
                         reply)
        self.assertIn(says, reply["message"])
        self.assertEqual(stored(r["id"]), 0)

    def test_counter_officer_and_dossier_are_stored(self):
        d = dossier()
        r = example(counter="Q2", officer="CC1", dossier=d)
        status, _, reply = self.k.post(r)
        self.assertEqual((status, reply), (201, {"id": r["id"], "status": "stored"}))
        self.assertEqual(row(r["id"]), ["Q2", "CC1", d])

    def test_a_version_1_response_stores_none_of_them(self):
        r = example()
        self.assertEqual(self.k.post(r)[0], 201)
        self.assertEqual(row(r["id"]), ["-", "-", "-"])

    def test_unknown_retired_or_other_centers_counter_is_400_counter(self):
        for code in ("Q9", "R", "D1", "q1"):   # codes are case-sensitive
            self.assertRefused(example(counter=code), "counter",
                               "not an active counter of this kiosk's center on %s" % TODAY)

    def test_a_counter_is_active_before_its_retirement_day_not_on_it(self):
        # RS is retired from today on: an offline kiosk's response of
        # yesterday still names it rightly.
        before = example(counter="RS", submitted_at=at(YESTERDAY, 23))
        self.assertEqual(self.k.post(before)[0], 201)
        self.assertEqual(row(before["id"])[0], "RS")
        self.assertRefused(example(counter="RS", submitted_at=at(TODAY, 0)), "counter",
                           "not an active counter")

    def test_unknown_retired_or_other_centers_officer_is_400_officer(self):
        self.assertRefused(example(officer="CC9"), "officer", "not an active officer")
        self.assertRefused(example(officer="CCR"), "officer", "not an active officer")
        self.assertRefused(example(officer="CCD"), "officer",
                           "not posted at this kiosk's center")
        status, _, _ = kiosk(2).post(example(officer="CCD"))
        self.assertEqual(status, 201)

    def test_an_officer_is_judged_where_posted_on_the_response_day(self):
        # CCM moved to ht-duc-tho today: yesterday's response from an
        # offline kiosk at ht-can-loc is still accepted.
        before = example(officer="CCM", submitted_at=at(YESTERDAY))
        self.assertEqual(self.k.post(before)[0], 201)
        self.assertEqual(row(before["id"])[1], "CCM")
        self.assertRefused(example(officer="CCM"), "officer", "not posted at this kiosk's center")
        today = example(officer="CCM")
        self.assertEqual(kiosk(2).post(today)[0], 201)
        self.assertEqual(row(today["id"])[1], "CCM")

    def test_malformed_codes_are_400_naming_the_field(self):
        self.assertRefused(example(counter=1), "counter", "must be a string")
        self.assertRefused(example(officer=""), "officer", "must be 1 to 64 characters")
        self.assertRefused(example(dossier="H25 0001"), "dossier", "may hold only")
        self.assertRefused(example(dossier="7" * 65), "dossier", "must be 1 to 64 characters")

    def test_a_kiosk_fixed_to_a_counter_gets_it_whatever_the_body_says(self):
        k = kiosk(3)
        said = [example(counter="Q2"), example(counter="NO-SUCH"), example()]
        for r in said:
            status, _, reply = k.post(r)
            self.assertEqual((status, reply), (201, {"id": r["id"], "status": "stored"}))
            self.assertEqual(row(r["id"])[0], "Q1")
        # What it said is what it sent: the same again is a duplicate.
        self.assertEqual(k.post(said[1])[:1], (200,))
        k.close()

    def test_a_batch_judges_who_served_item_by_item(self):
        items = [example(counter="Q1"), example(counter="Q9"), example(officer="CCR")]
        status, _, reply = self.k.request("POST", "/v1/responses/batch", items)
        self.assertEqual(status, 200)
        self.assertEqual(reply[0], {"id": items[0]["id"], "status": "stored"})
        self.assertEqual([(i["status"], i["field"]) for i in reply[1:]],
                         [(400, "counter"), (400, "officer")])


class Dossier(unittest.TestCase):
    def setUp(self):
        self.k = kiosk(1)

    def tearDown(self):
        self.k.close()

    def test_another_id_for_a_rated_dossier_is_409_and_not_stored(self):
        d = dossier()
        first, second = example(dossier=d), example(dossier=d)
        self.assertEqual(self.k.post(first)[0], 201)
        status, _, reply = kiosk(3).post(second)
        self.assertEqual((status, reply), (409, {"id": second["id"], "error": "dossier_already_rated"}))
        self.assertEqual(stored(second["id"]), 0)
        # The same id and content again is still its duplicate.
        status, _, reply = self.k.post(first)
        self.assertEqual((status, reply), (200, {"id": first["id"], "status": "duplicate"}))
        # And the same id with other content its conflict.
        status, _, reply = self.k.post(dict(first, overall=1))
        self.assertEqual((status, reply), (409, {"id": first["id"], "error": "id_conflict"}))

    def test_a_dossier_is_rated_once_per_center_so_another_center_cannot_squat_it(self):
        d = dossier()
        k2 = kiosk(2)
        elsewhere = example(dossier=d)
        status, _, reply = k2.post(elsewhere)
        self.assertEqual((status, reply), (201, {"id": elsewhere["id"], "status": "stored"}))
        k2.close()
        genuine, second = example(dossier=d), example(dossier=d)
        status, _, reply = self.k.post(genuine)
        self.assertEqual((status, reply), (201, {"id": genuine["id"], "status": "stored"}))
        status, _, reply = self.k.post(second)
        self.assertEqual((status, reply), (409, {"id": second["id"], "error": "dossier_already_rated"}))

    def test_responses_without_a_dossier_are_not_concerned(self):
        for _ in range(2):
            self.assertEqual(self.k.post(example())[0], 201)

    def test_same_dossier_twice_in_one_batch_stores_the_first_in_one_group(self):
        d = dossier()
        items = [example(dossier=d), example(), example(dossier=d)]
        text = metrics()[2]
        groups = metric(text, "sipasd_commit_batch_responses_count")
        rows = metric(text, "sipasd_commit_batch_responses_sum")
        status, _, reply = self.k.request("POST", "/v1/responses/batch", items)
        self.assertEqual(status, 200)
        self.assertEqual(reply, [{"id": items[0]["id"], "status": "stored"},
                                 {"id": items[1]["id"], "status": "stored"},
                                 {"id": items[2]["id"], "status": 409,
                                  "error": "dossier_already_rated"}])
        # The three went to the database as one group, one INSERT.
        text = metrics()[2]
        self.assertEqual(metric(text, "sipasd_commit_batch_responses_count") - groups, 1)
        self.assertEqual(metric(text, "sipasd_commit_batch_responses_sum") - rows, 3)
        self.assertEqual([stored(r["id"]) for r in items], [1, 1, 0])

    def test_a_dossier_rated_in_an_earlier_batch_is_409_in_the_next(self):
        d = dossier()
        self.assertEqual(self.k.post(example(dossier=d))[0], 201)
        again = example(dossier=d)
        status, _, reply = self.k.request("POST", "/v1/responses/batch", [again])
        self.assertEqual((status, reply), (200, [{"id": again["id"], "status": 409,
                                                  "error": "dossier_already_rated"}]))

    def test_metrics_count_dossiers_already_rated(self):
        name = 'sipasd_responses_total{outcome="dossier_already_rated"}'
        before = metric(metrics()[2], name)
        d = dossier()
        self.assertEqual(self.k.post(example(dossier=d))[0], 201)
        self.assertEqual(self.k.post(example(dossier=d))[0], 409)
        self.assertEqual(metric(metrics()[2], name) - before, 1)


class ClosedCenter(unittest.TestCase):
    def test_a_kiosk_of_a_closed_center_is_refused_403_from_the_day_after(self):
        k = kiosk(4)
        r = example()
        status, _, reply = k.post(r)
        self.assertEqual((status, reply), (403, {"error": "kiosk_revoked"}))
        self.assertEqual(stored(r["id"]), 0)
        # What it collected up to the closing day is still taken.
        last_day = example(submitted_at=at(YESTERDAY, 16))
        status, _, reply = k.post(last_day)
        self.assertEqual((status, reply), (201, {"id": last_day["id"], "status": "stored"}))
        late = example()
        status, _, reply = k.request("POST", "/v1/responses/batch", [last_day, late])
        self.assertEqual(reply, [{"id": last_day["id"], "status": "duplicate"},
                                 {"id": late["id"], "status": 403, "error": "kiosk_revoked"}])
        k.close()


class Questionnaire(unittest.TestCase):
    def test_the_questionnaire_carries_the_kiosks_context(self):
        status, _, q = kiosk(1).request("GET", "/v1/questionnaire")
        self.assertEqual(status, 200)
        self.assertEqual(q["center"], {"code": "ht-can-loc",
                                       "name": "Trung tâm Hành chính công huyện Can Lộc"})
        self.assertIsNone(q["counter"])
        self.assertEqual(q["counters"], [{"code": "Q1", "name": "Quầy 1"},
                                         {"code": "Q2", "name": "Quầy 2"}])
        self.assertEqual(q["officers"], [
            {"code": "CC1", "full_name": "Nguyễn Văn An", "counter": "Q1"},
            {"code": "CC2", "full_name": "Trần Thị Bình", "counter": None},
            {"code": "CC3", "full_name": "Võ Thị Giang", "counter": None}])
        # The members of version 1 are still there, as they were.
        self.assertEqual(q["code"], "sipas-dv-2023")
        self.assertEqual(len(q["service_areas"]), 25)

    def test_a_fixed_kiosk_sees_its_counter_and_another_center_its_own(self):
        _, _, q = kiosk(3).request("GET", "/v1/questionnaire")
        self.assertEqual(q["counter"], {"code": "Q1", "name": "Quầy 1"})
        _, _, q = kiosk(2).request("GET", "/v1/questionnaire")
        self.assertEqual(q["center"]["code"], "ht-duc-tho")
        self.assertEqual(q["counters"], [{"code": "D1", "name": "Quầy Đức Thọ"}])
        self.assertEqual(q["officers"], [
            {"code": "CCD", "full_name": "Lê Văn Cường", "counter": None},
            {"code": "CCM", "full_name": "Hoàng Văn Em", "counter": "D1"}])

    def test_head_has_the_headers_of_get_and_no_body(self):
        k = kiosk(1)
        status, headers, body = k.request("GET", "/v1/questionnaire")
        hstatus, hheaders, hbody = k.request("HEAD", "/v1/questionnaire")
        self.assertEqual((hstatus, hbody), (status, b""))
        self.assertEqual(hheaders["Content-Length"], headers["Content-Length"])
        self.assertIn("Date", hheaders)
        k.close()


def center_of(rid):
    return psql("SELECT c.code FROM responses r JOIN centers c ON c.id = r.center_id "
                "WHERE r.id = '%s'" % rid)


def wait_context(k, center, counters):
    """Until sipasd serves k the context of center with these counters."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, _, q = k.request("GET", "/v1/questionnaire")
        if status == 200 and q["center"]["code"] == center and \
                [c["code"] for c in q["counters"]] == counters:
            return
        time.sleep(0.2)
    raise AssertionError("sipasd does not serve the context of %s" % center)


class YKioskMoved(unittest.TestCase):
    """K4's center ht-ky-anh closed yesterday; its successor ht-thach-ha
    opens today, and K4 is moved there, fixed to its counter T1."""

    def test_1_a_backlog_from_before_the_move_is_judged_and_stored_at_the_old_center(self):
        psql("UPDATE centers SET opened_on = '%s' WHERE code = 'ht-thach-ha'" % TODAY)
        sipas("counter", "add", "ht-thach-ha", "T1", "--name", "Quầy 1")
        sipas("kiosk", "move", "K4", "--center", "ht-thach-ha", "--counter", "T1", "--on", str(TODAY))
        self.assertEqual(psql("SELECT string_agg(p.valid_from || ' ' || c.code || ' ' || "
                              "coalesce(q.code, '-'), ', ' ORDER BY p.valid_from) "
                              "FROM kiosk_postings p JOIN kiosks k ON k.id = p.kiosk_id "
                              "JOIN centers c ON c.id = p.center_id "
                              "LEFT JOIN counters q ON q.id = p.counter_id WHERE k.code = 'K4'"),
                         "-infinity ht-ky-anh -, %s ht-thach-ha T1" % TODAY)
        k = kiosk(4)
        wait_context(k, "ht-thach-ha", ["T1"])
        backlog, today = example(submitted_at=at(YESTERDAY, 16)), example(counter="T9")
        status, _, reply = k.request("POST", "/v1/responses/batch", [backlog, today])
        self.assertEqual(reply, [{"id": backlog["id"], "status": "stored"},
                                 {"id": today["id"], "status": "stored"}])
        self.assertEqual((center_of(backlog["id"]), row(backlog["id"])[0]), ("ht-ky-anh", "-"))
        self.assertEqual((center_of(today["id"]), row(today["id"])[0]), ("ht-thach-ha", "T1"))
        k.close()

    def test_2_a_fixed_counter_retired_on_the_response_day_is_not_stored(self):
        psql("UPDATE counters SET retired_on = '%s' WHERE code = 'T1'" % TODAY)
        k = kiosk(4)
        wait_context(k, "ht-thach-ha", [])
        since = os.path.getsize(W["log"])
        r, again = example(), example()
        for x in (r, again):
            status, _, reply = k.post(x)
            self.assertEqual((status, reply), (201, {"id": x["id"], "status": "stored"}))
            self.assertEqual(row(x["id"])[0], "-")
        wait_log("counter T1 of kiosk K4 is not active", since)
        with open(W["log"]) as f:
            f.seek(since)
            self.assertEqual(f.read().count("counter T1 of kiosk K4 is not active"), 1)
        k.close()


class ZSpoolReplay(unittest.TestCase):
    """Last: it cuts the database off and brings it back."""

    def test_replay_sets_aside_a_second_rating_and_stores_what_was_acknowledged(self):
        k, k3 = kiosk(1), kiosk(3)
        d = dossier()
        first, second = example(dossier=d, officer="CC2"), example(dossier=d)
        third, fixed = example(officer="CC3", counter="Q2"), example()
        before = set_aside_total()
        name = 'sipasd_responses_total{outcome="dossier_already_rated"}'
        rated = metric(metrics()[2], name)
        cut_off()
        try:
            # Judged on receipt by the organisation read last.
            self.assertEqual(k.post(example(officer="CCR"))[0], 400)
            for kk, r in ((k, first), (k, second), (k, third), (k3, fixed)):
                status, _, reply = kk.post(r)
                self.assertEqual((status, reply), (202, {"id": r["id"], "status": "queued"}))
            # Meanwhile the administrator records that CC3 left yesterday,
            # retires Q2 and Q1 and unfixes K3: what was acknowledged with
            # 202 is stored as it was judged then.
            psql("UPDATE officers SET retired_on = '%s' WHERE code = 'CC3'" % YESTERDAY)
            psql("UPDATE counters SET retired_on = '%s' WHERE code IN ('Q1', 'Q2')" % YESTERDAY)
            psql("UPDATE kiosks SET counter_id = NULL WHERE code = 'K3'")
            psql("UPDATE kiosk_postings p SET counter_id = NULL FROM kiosks k "
                 "WHERE k.id = p.kiosk_id AND k.code = 'K3'")
        finally:
            reconnect()
        wait_spool_empty()
        self.assertEqual(stored(first["id"]), 1)
        self.assertEqual(row(first["id"]), ["-", "CC2", d])
        self.assertEqual(stored(second["id"]), 0)
        self.assertEqual(row(third["id"]), ["Q2", "CC3", "-"])
        self.assertEqual(row(fixed["id"]), ["Q1", "-", "-"])
        self.assertEqual(set_aside_total() - before, 1)
        aside = {e["record"]["id"]: e for e in inspect()
                 if e["state"] == "set aside" and e.get("record")}
        self.assertIn("dossier already rated", aside[second["id"]]["reason"])
        self.assertEqual(aside[second["id"]]["record"]["dossier"], d)
        self.assertEqual(metric(metrics()[2], name) - rated, 1)
        psql("UPDATE officers SET retired_on = NULL WHERE code = 'CC3'")
        psql("UPDATE counters SET retired_on = NULL WHERE code IN ('Q1', 'Q2')")
        psql("UPDATE kiosks SET counter_id = (SELECT id FROM counters WHERE code = 'Q1') "
             "WHERE code = 'K3'")
        psql("UPDATE kiosk_postings p SET counter_id = k.counter_id FROM kiosks k "
             "WHERE k.id = p.kiosk_id AND k.code = 'K3'")
        k.close()
        k3.close()

    def test_a_restart_while_the_database_is_away_judges_by_the_copy_in_state_dir(self):
        ok, wrong = example(counter="Q1", officer="CC1"), example(counter="Q9")
        cut_off()
        try:
            W["daemon"].send_signal(signal.SIGTERM)
            W["daemon"].wait(30)
            start_unhealthy()
            k = kiosk(1)
            status, _, reply = k.post(ok)
            self.assertEqual((status, reply), (202, {"id": ok["id"], "status": "queued"}))
            status, _, reply = k.post(wrong)
            self.assertEqual((status, reply["field"]), (400, "counter"))
            status, _, q = k.request("GET", "/v1/questionnaire")
            self.assertEqual((status, [c["code"] for c in q["counters"]]), (200, ["Q1", "Q2"]))
            k.close()
        finally:
            reconnect()
        wait_spool_empty()
        self.assertEqual(row(ok["id"]), ["Q1", "CC1", "-"])
        self.assertEqual(stored(wrong["id"]), 0)

    def test_a_first_start_after_the_upgrade_without_organisation_takes_version_1(self):
        v1, named = example(), example(counter="Q1")
        cut_off()
        try:
            W["daemon"].send_signal(signal.SIGTERM)
            W["daemon"].wait(30)
            # As after the upgrade: the registry kept, no organisation yet.
            os.unlink(os.path.join(W["dir"], "state", "organisation.json"))
            start_unhealthy()
            k = kiosk(1)
            status, _, reply = k.post(v1)
            self.assertEqual((status, reply), (202, {"id": v1["id"], "status": "queued"}))
            status, _, reply = k.post(named)
            self.assertEqual((status, reply), (503, {"error": "unavailable"}))
            k.close()
        finally:
            reconnect()
        wait_spool_empty()
        self.assertEqual(row(v1["id"]), ["-", "-", "-"])
        self.assertEqual(stored(named["id"]), 0)


if __name__ == "__main__":
    unittest.main()
