#!/usr/bin/env python3
"""Personal data and accountability (docs/privacy.md): the audit log of
administrative actions, append-only and hash-chained; the purge of
personal data; who may read comments and respondent attributes."""

import csv
import datetime
import getpass
import io
import json
import random
import re
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import (W, VN, SANDBOX, SIPAS, example, kiosk, psql, sipas, start_world,  # noqa: E402
                   stop_world, tls, wait_healthy, wait_log, wait_spool_empty)


def rows(sql):
    return [line.split("|") for line in psql(sql).splitlines()]


def as_superuser(sql):
    """psql as the sandbox's superuser with the audit log's triggers off:
    what an administrator of the database could do behind sipas's back."""
    psql("BEGIN; ALTER TABLE audit_log DISABLE TRIGGER USER; %s; "
         "ALTER TABLE audit_log ENABLE TRIGGER USER; COMMIT" % sql)


class Audit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_world(kiosks=3, centers=["ht-ky-anh", "ht-can-loc", "ht"])

    @classmethod
    def tearDownClass(cls):
        stop_world()

    def verify(self):
        return sipas("audit", "verify", check=False)

    def test_actions_are_recorded_with_who_what_and_outcome(self):
        got = rows("SELECT db_user, session_user_name, os_user, host, outcome, "
                   "arguments->>'center' FROM audit_log "
                   "WHERE action = 'kiosk add' AND arguments->>'code' = 'K2'")
        self.assertEqual(got, [["sipas", "sipas", getpass.getuser(), socket.gethostname(),
                                "ok", "ht-can-loc"]])
        self.assertEqual(psql("SELECT count(*) FROM audit_log WHERE action = 'center import' "
                              "AND outcome = 'ok' AND detail = 'imported 14 center(s): 14 new, 0 changed'"), "1")
        # The log exists from 010 on: that migration is the first recorded.
        self.assertEqual(psql("SELECT arguments->>'version' FROM audit_log "
                              "WHERE action = 'db migrate' ORDER BY id LIMIT 1"), "010")

    def test_a_failed_action_is_recorded_after_its_rollback(self):
        r = sipas("kiosk", "add", "K9", "--center", "nowhere", "--cert", tls("kiosk3.crt"),
                  check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(rows("SELECT outcome, detail FROM audit_log WHERE action = 'kiosk add' "
                              "AND arguments->>'code' = 'K9'"),
                         [["failed", "unknown center 'nowhere'; see 'sipas center list'"]])
        self.assertEqual(psql("SELECT count(*) FROM kiosks WHERE code = 'K9'"), "0")

    def test_revoke_and_rotate_are_recorded(self):
        d = tempfile.mkdtemp()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=rot", "-days", "2",
                        "-keyout", d + "/k.pem", "-out", d + "/c.pem"],
                       check=True, capture_output=True)
        sipas("kiosk", "rotate", "K3", "--cert", d + "/c.pem")
        sipas("kiosk", "revoke", "K3")
        got = rows("SELECT action, outcome, arguments->>'code' FROM audit_log "
                   "WHERE action IN ('kiosk rotate', 'kiosk revoke') "
                   "AND arguments->>'code' = 'K3' ORDER BY id")
        self.assertEqual(got, [["kiosk rotate", "ok", "K3"], ["kiosk revoke", "ok", "K3"]])

    def test_an_export_is_recorded_as_who_ran_it(self):
        reporter = "host=%s/pg dbname=sipas user=reporter" % W["dir"]
        sipas("export", "--from", "2026-01-01", "--center", "ht", "--format", "ndjson",
              "--db", reporter)
        self.assertEqual(rows("SELECT db_user, outcome, detail, arguments::text FROM audit_log "
                              "WHERE action = 'export'"),
                         [["reporter", "started", "",
                           '{"from": "2026-01-01", "center": "ht", "format": "ndjson"}'],
                          ["reporter", "ok", "0 responses",
                           '{"from": "2026-01-01", "center": "ht", "format": "ndjson"}']])

    def test_registry_changes_are_recorded(self):
        sipas("counter", "add", "ht-ky-anh", "Q1", "--name", "Quầy đất đai")
        sipas("officer", "add", "CB01", "--name", "Nguyễn Văn An", "--center", "ht-ky-anh",
              "--counter", "Q1")
        sipas("kiosk", "move", "K1", "--counter", "Q1")
        sipas("center", "move", "ht-tx-hong-linh", "--parent", "ht", "--on", "2026-01-01")
        sipas("center", "close", "ht-cam-xuyen", "--on", "2026-06-30", "--successor",
              "ht-tx-ky-anh")
        r = sipas("officer", "retire", "CB99", check=False)
        self.assertEqual(r.returncode, 1)
        got = rows("SELECT action, outcome, arguments::text FROM audit_log WHERE action IN "
                   "('counter add', 'officer add', 'kiosk move', 'center move', 'center close', "
                   "'officer retire') ORDER BY id")
        self.assertEqual(got, [
            ["counter add", "ok", '{"code": "Q1", "name": "Quầy đất đai", "center": "ht-ky-anh"}'],
            ["officer add", "ok", '{"code": "CB01", "name": "Nguyễn Văn An", "center": '
                                  '"ht-ky-anh", "counter": "Q1"}'],
            ["kiosk move", "ok", '{"code": "K1", "counter": "Q1"}'],
            ["center move", "ok", '{"on": "2026-01-01", "code": "ht-tx-hong-linh", '
                                  '"parent": "ht"}'],
            ["center close", "ok", '{"on": "2026-06-30", "code": "ht-cam-xuyen", '
                                   '"successor": "ht-tx-ky-anh"}'],
            ["officer retire", "failed", '{"code": "CB99"}']])

    def test_no_role_may_update_delete_or_truncate_it(self):
        for sql in ("UPDATE audit_log SET outcome = 'failed'", "DELETE FROM audit_log",
                    "TRUNCATE audit_log"):
            r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                               env=W["env"], capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0, sql)
            self.assertIn("the audit log is append-only", r.stderr)
        env = dict(W["env"], PGUSER="reporter")
        r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c",
                            "INSERT INTO audit_log (os_user, host, action, outcome, db_user) "
                            "VALUES ('x', 'y', 'export', 'ok', 'sipas')"],
                           env=env, capture_output=True, text=True)
        self.assertIn("permission denied", r.stderr)

    def test_verify_names_an_edited_row(self):
        self.assertEqual(self.verify().returncode, 0, self.verify().stderr)
        target = psql("SELECT id FROM audit_log WHERE action = 'kiosk add' "
                      "AND arguments->>'code' = 'K1'")
        as_superuser("UPDATE audit_log SET arguments = arguments || '{\"center\": \"ht\"}' "
                     "WHERE id = %s" % target)
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("row %s " % target, r.stderr)
        # Its hash recomputed too: its successor no longer follows it.
        as_superuser("UPDATE audit_log SET row_hash = sipas_audit_row_hash(audit_log) "
                     "WHERE id = %s" % target)
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("row %d " % (int(target) + 1), r.stderr)
        # Put back as it was (SET computes from the row before the update).
        as_superuser("UPDATE audit_log SET arguments = arguments || "
                     "'{\"center\": \"ht-ky-anh\"}' WHERE id = %s; "
                     "UPDATE audit_log SET row_hash = sipas_audit_row_hash(audit_log) "
                     "WHERE id = %s" % (target, target))
        self.assertEqual(self.verify().returncode, 0)

    def test_verify_does_not_trust_the_hash_functions_in_the_database(self):
        # Rows whose text needs escaping, or has a client address, checked
        # by sipas against what the database's trigger computed.
        psql("INSERT INTO audit_log (os_user, host, action, outcome, detail, arguments, "
             "client_addr) VALUES (E'qu\\\"ote\\\\', 'h\u00f4st', 'test escapes', 'ok', "
             "E'tab\\there\\nnew line \\x01 \\x1f ti\u1ebfng Vi\u1ec7t /', "
             "'{\"k\": \"\\u0002 \\\\\\\" \\\\\\\\\", \"n\": [1, 2.50, null]}', "
             "'2001:db8::7'), ('t', 't', 'test escapes', 'ok', '', '{}', '192.0.2.7')")
        r = self.verify()
        self.assertEqual(r.returncode, 0, r.stderr)
        # The owner (or a superuser) replaces the functions the trigger and
        # a verification inside the database rely on, and edits a row.
        saved = [psql("SELECT pg_get_functiondef('%s'::regproc)" % f)
                 for f in ("sipas_audit_row_hash", "sipas_audit_canonical")]
        target = psql("SELECT id FROM audit_log WHERE action = 'kiosk add' "
                      "AND arguments->>'code' = 'K1'")
        try:
            psql("CREATE OR REPLACE FUNCTION sipas_audit_row_hash(a audit_log) RETURNS bytea "
                 "LANGUAGE sql STABLE AS $$ SELECT a.row_hash $$; "
                 "CREATE OR REPLACE FUNCTION sipas_audit_canonical(a audit_log) RETURNS text "
                 "LANGUAGE sql STABLE AS $$ SELECT '' $$")
            as_superuser("UPDATE audit_log SET os_user = 'someone-else' WHERE id = %s" % target)
            r = self.verify()
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("row %s was changed after it was written" % target, r.stderr)
        finally:
            as_superuser("UPDATE audit_log SET os_user = '%s' WHERE id = %s"
                         % (getpass.getuser(), target))
            for definition in saved:
                psql(definition)
        self.assertEqual(self.verify().returncode, 0)

    def test_verify_names_the_row_after_a_deleted_one(self):
        target = int(psql("SELECT id FROM audit_log WHERE action = 'kiosk add' "
                          "AND arguments->>'code' = 'K2'"))
        saved = psql("SELECT row_to_json(a) FROM audit_log a WHERE id = %d" % target)
        as_superuser("DELETE FROM audit_log WHERE id = %d" % target)
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("row %d " % (target + 1), r.stderr)
        as_superuser("INSERT INTO audit_log SELECT * FROM json_populate_record(NULL::audit_log, "
                     "'%s')" % saved.replace("'", "''"))
        self.assertEqual(self.verify().returncode, 0)

    def test_verify_against_a_noted_head_finds_the_last_rows_removed(self):
        sipas("kiosk", "revoke", "K2")
        out = self.verify()
        self.assertEqual(out.returncode, 0, out.stderr)
        last, digest = re.search(r"last row (\d+), hash ([0-9a-f]{64})", out.stdout).groups()
        head = "%s:%s" % (last, digest)
        self.assertEqual(sipas("audit", "verify", "--head", head, check=False).returncode, 0)
        saved = psql("SELECT row_to_json(a) FROM audit_log a WHERE id = %s" % last)
        as_superuser("DELETE FROM audit_log WHERE id = %s" % last)
        self.assertEqual(self.verify().returncode, 0, "a shorter chain is still whole")
        r = sipas("audit", "verify", "--head", head, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("row %s is missing" % last, r.stderr)
        as_superuser("INSERT INTO audit_log SELECT * FROM json_populate_record(NULL::audit_log, "
                     "'%s')" % saved.replace("'", "''"))
        self.assertEqual(sipas("audit", "verify", "--head", head, check=False).returncode, 0)
        self.assertEqual(sipas("audit", "verify", "--head", "x", check=False).returncode, 2)

    def test_verify_is_not_fooled_by_the_owners_search_path(self):
        # The owner puts functions of its own before pg_catalog in the
        # database's search_path: a head compared, or a hash encoded, by
        # SQL could say whatever it likes. The head is checked in sipas.
        out = self.verify()
        last = re.search(r"last row (\d+), hash", out.stdout).group(1)
        wrong = "%s:%s" % (last, "0" * 64)
        db = psql("SELECT current_database()")
        try:
            as_superuser("CREATE SCHEMA evil; CREATE FUNCTION evil.encode(bytea, text) "
                         "RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT repeat('0', 64) $$; "
                         "CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql "
                         "IMMUTABLE AS $$ SELECT repeat('0', 64) $$; "
                         "ALTER DATABASE %s SET search_path = evil, pg_catalog, public" % db)
            r = sipas("audit", "verify", "--head", wrong, check=False)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("row %s does not have the hash noted" % last, r.stderr)
            self.assertNotIn("0" * 64, self.verify().stdout)
        finally:
            as_superuser("ALTER DATABASE %s RESET search_path; DROP SCHEMA evil CASCADE" % db)
        # Read in another client encoding, the rows are still those hashed.
        r = subprocess.run([SIPAS, "audit", "verify"], env=dict(W["env"], PGCLIENTENCODING="WIN1258"),
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_concurrent_actions_do_not_fork_the_chain(self):
        first = subprocess.Popen(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1"], env=W["env"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first.stdin.write("BEGIN; INSERT INTO audit_log (os_user, host, action, outcome) "
                          "VALUES ('t', 't', 'test first', 'ok');\n\\echo inserted\n")
        first.stdin.flush()
        self.assertEqual(first.stdout.readline().strip(), "inserted")
        second = subprocess.Popen(
            ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c",
             "INSERT INTO audit_log (os_user, host, action, outcome) "
             "VALUES ('t', 't', 'test second', 'ok')"], env=W["env"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The second waits for the first's lock: until the first commits,
        # it has inserted nothing.
        self.assertTrue(self.wait_waiting(), "the second action did not wait for the first")
        self.assertEqual(psql("SELECT count(*) FROM audit_log WHERE action = 'test second'"), "0")
        first.stdin.write("COMMIT;\n")
        first.stdin.close()
        self.assertEqual(first.wait(10), 0)
        first.stdout.close()
        out, err = second.communicate(timeout=10)
        self.assertEqual(second.returncode, 0, err)
        got = rows("SELECT a.action, a.prev_hash = b.row_hash FROM audit_log a "
                   "JOIN audit_log b ON b.id = a.id - 1 WHERE a.action LIKE 'test %' "
                   "ORDER BY a.id")
        self.assertEqual(got, [["test first", "t"], ["test second", "t"]])
        self.assertEqual(self.verify().returncode, 0)

    def wait_waiting(self):
        for _ in range(200):
            if psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted") == "1":
                return True
            time.sleep(0.05)
        return False

    def test_list_filters_and_formats(self):
        r = sipas("audit", "--action", "kiosk add", "--who", "sipas", "--format", "json")
        got = json.loads(r.stdout)
        self.assertEqual([(a["arguments"]["code"], a["outcome"]) for a in got][:3],
                         [("K1", "ok"), ("K2", "ok"), ("K3", "ok")])
        self.assertEqual(set(got[0]), {"id", "at", "db_user", "session_user", "os_user", "host",
                                       "action", "arguments", "outcome", "detail"})
        r = sipas("audit", "--action", "center import", "--format", "csv")
        lines = list(csv.reader(io.StringIO(r.stdout.lstrip("\ufeff"))))
        self.assertEqual(lines[0][:4], ["id", "at", "db_user", "os_user"])
        self.assertEqual(len(lines), 2)
        self.assertEqual(sipas("audit", "--from", "2001-01-01", "--to", "2001-12-31",
                               "--format", "csv").stdout.lstrip("\ufeff").count("\n"), 1)
        self.assertEqual(sipas("audit", "--who", "nobody-else", "--format", "json").stdout.strip(),
                         "[]")

    def test_no_secret_is_recorded(self):
        db = W["env"]["SIPAS_DB"] + " password=hunter2-secret"
        sipas("kiosk", "revoke", "K1", "--db", db)
        self.assertEqual(psql("SELECT count(*) FROM audit_log WHERE "
                              "sipas_audit_canonical(audit_log) LIKE '%hunter2%'"), "0")
        self.assertEqual(psql("SELECT count(*) FROM audit_log WHERE action = 'kiosk revoke' "
                              "AND arguments->>'code' = 'K1'"), "1")


PERSONAL = ("comment", "gender", "age_group", "ethnicity", "education", "occupation")
REPORTS = [("--by", "center"), ("--by", "area,month"), ("--by", "kiosk"), ("--by", "year"),
           ("--by", "procedure"), ("--by", "criterion"), ("--by", "district,quarter"),
           ("--by", "gender", "--from", "RECENT")]


def insert_responses(n, seed, other=0):
    """n responses over the past 800 days, each with a comment and a full
    profile, stored as sipasd stores them (the rollup's trigger queues them),
    the first `other` of them of another gender."""
    rng = random.Random(seed)
    ncrit = int(psql("SELECT count(*) FROM criteria c JOIN questionnaires q "
                     "ON q.id = c.questionnaire_id WHERE q.code = 'sipas-dv-2023'"))
    values = []
    for i in range(n):
        when = datetime.datetime.now(VN) - datetime.timedelta(days=rng.randint(0, 800),
                                                              hours=rng.randint(0, 8))
        k = rng.randint(1, 3)
        values.append(
            "('%s', '\\x00', %d, (SELECT center_id FROM kiosks WHERE id = %d), %d, "
            "(SELECT id FROM questionnaires WHERE code = 'sipas-dv-2023'), '%s', '{%s}', %d, "
            "'%s', '%s', '%s', 'kinh', '%s', '%s', '%s')" % (
                uuid.uuid4(), k, k, rng.randint(1, 2), when.isoformat(),
                ",".join(str(rng.choice([2, 3, 4, 4, 5])) for _ in range(ncrit)),
                rng.randint(1, 5), "Góp ý số %d của chị Lan, 0912 345 %03d" % (i, i),
                "other" if i < other else rng.choice(["male", "female"]),
                rng.choice(["18-25", "35-49", "60+"]),
                rng.choice(["primary", "university"]), rng.choice(["farmer", "worker"]),
                rng.choice(["1.004227", "2.000001"])))
    for i in range(0, n, 100):
        psql("INSERT INTO responses (id, content_hash, kiosk_id, center_id, service_area_id, "
             "questionnaire_id, submitted_at, answers, overall, comment, gender, age_group, "
             "ethnicity, education, occupation, procedure) VALUES %s"
             % ", ".join(values[i:i + 100]))


class Retention(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_world(kiosks=3, centers=["ht-ky-anh", "ht-can-loc", "ht"])
        insert_responses(400, 16)
        cls.recent = (datetime.datetime.now(VN).date() - datetime.timedelta(days=300)).isoformat()

    @classmethod
    def tearDownClass(cls):
        stop_world()

    def reports(self):
        return [sipas("report", "--format", "json",
                      *[self.recent if a == "RECENT" else a for a in args]).stdout
                for args in REPORTS]

    def old(self, days):
        return ("submitted_at < ((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - %d)::timestamp "
                "AT TIME ZONE 'Asia/Ho_Chi_Minh'" % days)

    def test_purge_keeps_every_report_and_clears_old_personal_data(self):
        # Folded: the second rollup's leaves by attribute follow the purge.
        psql("SELECT sipas_rollup_compact()")
        before = self.reports()
        gender_before = json.loads(sipas("report", "--by", "gender", "--format", "json").stdout)
        answers = psql("SELECT md5(string_agg(id || answers::text || overall, ',' ORDER BY id)) "
                       "FROM responses")
        old = int(psql("SELECT count(*) FROM responses WHERE " + self.old(400)))
        self.assertGreater(old, 50)

        r = sipas("purge", "--personal-data-older-than", "400", "--dry-run")
        self.assertIn("would clear the personal data of %d responses" % old, r.stdout)
        self.assertEqual(psql("SELECT count(*) FROM responses WHERE comment IS NULL"), "0")

        hashes = dict(rows("SELECT id, encode(sha256(content_hash || 'purged'), 'hex') "
                           "FROM responses WHERE " + self.old(400)))
        r = sipas("purge", "--personal-data-older-than", "400")
        self.assertIn("cleared the personal data of %d responses" % old, r.stdout)
        # The hash of the personal data goes with it, replaced by one that
        # still tells a changed content from a retry as far as it can.
        self.assertEqual(dict(rows("SELECT id, encode(content_hash, 'hex') FROM responses "
                                   "WHERE " + self.old(400))), hashes)
        cond = " OR ".join("%s IS NOT NULL" % c for c in PERSONAL)
        self.assertEqual(psql("SELECT count(*) FROM responses WHERE (%s) AND %s"
                              % (cond, self.old(400))), "0")
        self.assertEqual(psql("SELECT count(*) FROM responses WHERE %s IS NULL AND NOT %s"
                              % (" IS NULL AND ".join(PERSONAL), self.old(400))), "0")
        self.assertEqual(psql("SELECT md5(string_agg(id || answers::text || overall, ',' "
                              "ORDER BY id)) FROM responses"), answers)
        self.assertEqual(self.reports(), before)
        self.assertEqual(self.leaves_differ_from_the_responses(), 0)
        # By a respondent attribute over the purged period: the purged
        # respondents are now among those who did not say.
        after = json.loads(sipas("report", "--by", "gender", "--format", "json").stdout)
        n = lambda rep, k: sum(g["n"] or 0 for g in rep["groups"] if g["gender"] == k)
        self.assertEqual(after["total"]["n"], gender_before["total"]["n"])
        self.assertEqual(n(after, "-"), n(gender_before, "-") + old)

        got = rows("SELECT outcome, arguments->>'older_than_days', arguments->>'dry_run', detail "
                   "FROM audit_log WHERE action = 'purge' ORDER BY id")
        self.assertEqual(got[-2:], [["ok", "400", "yes", "%d responses" % old],
                                    ["ok", "400", "no", "%d responses" % old]])
        r = sipas("purge", "--personal-data-older-than", "400")
        self.assertIn("cleared the personal data of 0 responses", r.stdout)

    def leaves_differ_from_the_responses(self):
        """The rows of the second rollup's leaves by respondent attribute
        that a rollup of the responses as they are now does not give (and
        the other way round): none when the leaves follow every purge."""
        fresh = psql("SELECT sipas_rollup_by_query('responses', id) FROM questionnaires "
                     "WHERE code = 'sipas-dv-2023'")
        cols = ("dim, grain, day, center_id, questionnaire_id, gender, age_group, ethnicity, "
                "education, occupation, n, rated, cells")
        attrs = "dim IN ('gender', 'age_group', 'ethnicity', 'education', 'occupation')"
        return int(psql("WITH leaves AS (SELECT %s FROM response_rollup_by WHERE %s), "
                        "fresh AS (SELECT %s FROM (%s) f WHERE %s) "
                        "SELECT (SELECT count(*) FROM (TABLE leaves EXCEPT ALL TABLE fresh) a) "
                        "+ (SELECT count(*) FROM (TABLE fresh EXCEPT ALL TABLE leaves) b)"
                        % (cols, attrs, cols, fresh, attrs)))

    def test_purge_one_response_erases_its_personal_data_everywhere(self):
        psql("SELECT sipas_rollup_compact()")
        recent = "submitted_at > now() - interval '200 days'"
        rid, gender, month = psql(
            "SELECT id, gender, date_trunc('month', submitted_at AT TIME ZONE "
            "'Asia/Ho_Chi_Minh')::date FROM responses WHERE gender IS NOT NULL AND %s "
            "ORDER BY id LIMIT 1" % recent).split("|")
        personal = ("SELECT md5(string_agg(concat_ws('|', id, %s, encode(content_hash, 'hex')), "
                    "',' ORDER BY id)) FROM responses WHERE id <> '%s'"
                    % (", ".join(PERSONAL), rid))
        others = psql(personal)
        answers = psql("SELECT md5(string_agg(id || answers::text || overall, ',' ORDER BY id)) "
                       "FROM responses")
        before = self.reports()
        leaf = ("SELECT coalesce(sum(n), 0) FROM response_rollup_gender_month WHERE day = '%s' "
                "AND gender IS NOT DISTINCT FROM %s")
        mine = int(psql(leaf % (month, "'%s'" % gender)))
        unsaid = int(psql(leaf % (month, "NULL")))
        by_gender = json.loads(sipas("report", "--by", "gender", "--format", "json").stdout)
        self.assertEqual(self.leaves_differ_from_the_responses(), 0)

        r = sipas("purge", "--response", rid, "--dry-run")
        self.assertIn("would clear the personal data of response %s" % rid, r.stdout)
        self.assertEqual(psql("SELECT gender FROM responses WHERE id = '%s'" % rid), gender)

        rehashed = psql("SELECT encode(sha256(content_hash || 'purged'), 'hex') FROM responses "
                        "WHERE id = '%s'" % rid)
        r = sipas("purge", "--response", rid)
        self.assertIn("cleared the personal data of response %s" % rid, r.stdout)
        self.assertEqual(rows("SELECT %s, encode(content_hash, 'hex') FROM responses "
                              "WHERE id = '%s'" % (", ".join(PERSONAL), rid)),
                         [[""] * len(PERSONAL) + [rehashed]])
        self.assertEqual(psql(personal), others, "another response was changed")
        self.assertEqual(psql("SELECT md5(string_agg(id || answers::text || overall, ',' "
                              "ORDER BY id)) FROM responses"), answers)
        # The profile is no longer counted under its values in the second
        # rollup's leaves: it moved to "not given", in every attribute's.
        self.assertEqual(int(psql(leaf % (month, "'%s'" % gender))), mine - 1)
        self.assertEqual(int(psql(leaf % (month, "NULL"))), unsaid + 1)
        self.assertEqual(self.leaves_differ_from_the_responses(), 0)
        after = json.loads(sipas("report", "--by", "gender", "--format", "json").stdout)
        n = lambda rep, k: sum(g["n"] or 0 for g in rep["groups"] if g["gender"] == k)
        self.assertEqual(n(after, gender), n(by_gender, gender) - 1)
        self.assertEqual(n(after, "-"), n(by_gender, "-") + 1)
        self.assertEqual(after["total"]["n"], by_gender["total"]["n"])
        # Every report not by a respondent attribute is the same.
        self.assertEqual(self.reports()[:-1], before[:-1])

        got = rows("SELECT outcome, arguments->>'response', arguments->>'dry_run', detail "
                   "FROM audit_log WHERE action = 'purge' AND arguments->>'response' = '%s' "
                   "ORDER BY id" % rid)
        self.assertEqual(got, [["ok", rid, "yes", "1 responses"], ["ok", rid, "no", "1 responses"]])
        r = sipas("purge", "--response", rid)
        self.assertIn("response %s holds no personal data" % rid, r.stdout)

    def test_purge_an_unknown_response_changes_nothing(self):
        state = ("SELECT md5(string_agg(concat_ws('|', id, %s, encode(content_hash, 'hex')), "
                 "',' ORDER BY id)) FROM responses" % ", ".join(PERSONAL))
        before = psql(state)
        leaves = "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM response_rollup_by r"
        leaves_before = psql(leaves)
        unknown = str(uuid.uuid4())
        r = sipas("purge", "--response", unknown, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no response %s" % unknown, r.stderr)
        self.assertEqual(psql(state), before)
        self.assertEqual(psql(leaves), leaves_before)
        self.assertEqual(rows("SELECT outcome FROM audit_log WHERE action = 'purge' "
                              "AND arguments->>'response' = '%s'" % unknown), [["failed"]])
        for bad in (("--response", "not-a-uuid"),
                    ("--response", unknown, "--personal-data-older-than", "30")):
            self.assertEqual(sipas("purge", *bad, check=False).returncode, 2, bad)

    def test_default_retention_is_documented_and_used(self):
        r = sipas("purge", "--dry-run")
        self.assertIn("older than 365 days", r.stdout)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                               "docs", "privacy.md")) as f:
            self.assertIn("365 days", f.read())
        self.assertEqual(sipas("purge", "--personal-data-older-than", "x",
                               check=False).returncode, 2)


def psql_as(name, sql):
    return subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          env=dict(W["env"], PGUSER=name), capture_output=True, text=True)


def db_as(name):
    return "host=%s/pg dbname=sipas user=%s" % (W["dir"], name)


class Roles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_world(kiosks=3, centers=["ht-ky-anh", "ht-can-loc", "ht"])
        # A small group to suppress: three respondents of another gender,
        # stored so (the rollups follow what is stored, not later updates).
        insert_responses(200, 3, other=3)
        psql("CREATE ROLE chief LOGIN IN ROLE sipas_report_personnel; "
             "CREATE ROLE ombudsman LOGIN IN ROLE sipas_comments")

    @classmethod
    def tearDownClass(cls):
        stop_world()

    def test_report_roles_cannot_read_personal_data_row_by_row(self):
        for who in ("reporter", "chief"):
            for col in ("comment", "gender", "age_group", "ethnicity", "education", "occupation",
                        "*"):
                r = psql_as(who, "SELECT %s FROM responses LIMIT 1" % col)
                self.assertNotEqual(r.returncode, 0, (who, col))
                self.assertIn("permission denied for table responses", r.stderr, (who, col))
            self.assertEqual(psql_as(who, "SELECT count(*) FROM responses").stdout.strip(), "200")
        r = psql_as("ombudsman", "SELECT count(comment) FROM responses")
        self.assertEqual(r.stdout.strip(), "200", r.stderr)
        # The content hash gives the attributes and a short comment away to
        # whoever hashes candidates; a dossier number names a person. The
        # audit log's arguments name officers and their postings.
        for who in ("reporter", "chief", "ombudsman"):
            for col in ("content_hash", "dossier"):
                r = psql_as(who, "SELECT %s FROM responses LIMIT 1" % col)
                self.assertIn("permission denied for table responses", r.stderr, (who, col))
            r = psql_as(who, "SELECT count(*) FROM audit_log")
            self.assertIn("permission denied for table audit_log", r.stderr, who)
            r = psql_as(who, "INSERT INTO audit_log (os_user, host, action, outcome) "
                        "VALUES ('x', 'x', 'export', 'ok')")
            self.assertIn("permission denied for table audit_log", r.stderr, who)
        # The auditor's role reads it, with sipas audit.
        psql("CREATE ROLE auditor LOGIN IN ROLE sipas_audit")
        r = sipas("audit", "--format", "json", "--db", db_as("auditor"))
        self.assertEqual(len(json.loads(r.stdout)),
                         int(psql("SELECT count(*) FROM audit_log")))
        # Figures by officer stay the personnel role's.
        self.assertIn("permission denied", psql_as("ombudsman",
                                                   "SELECT officer_id FROM responses").stderr)

    def test_grant_and_revoke_through_sipas_are_audited(self):
        psql("CREATE ROLE clerk LOGIN")
        member = lambda role: psql("SELECT pg_has_role('clerk', '%s', 'MEMBER')" % role)
        actions = lambda: rows("SELECT action, outcome, db_user, arguments->>'role', "
                               "arguments->>'user', detail FROM audit_log "
                               "WHERE action IN ('grant', 'revoke') ORDER BY id")
        self.assertEqual(member("sipas_comments"), "f")
        r = sipas("grant", "sipas_comments", "clerk")
        self.assertIn("granted sipas_comments to clerk", r.stdout)
        self.assertEqual(member("sipas_comments"), "t")
        self.assertEqual(psql_as("clerk", "SELECT count(comment) FROM responses").stdout.strip(),
                         "200")
        sipas("grant", "sipas_comments", "clerk")
        r = sipas("revoke", "sipas_comments", "clerk")
        self.assertIn("revoked sipas_comments from clerk", r.stdout)
        self.assertEqual(member("sipas_comments"), "f")
        self.assertIn("permission denied", psql_as("clerk", "SELECT comment FROM responses").stderr)
        self.assertEqual(actions(), [
            ["grant", "ok", "sipas", "sipas_comments", "clerk", "granted"],
            ["grant", "ok", "sipas", "sipas_comments", "clerk", "already granted"],
            ["revoke", "ok", "sipas", "sipas_comments", "clerk", "revoked"]])
        listed = json.loads(sipas("audit", "--action", "grant", "--format", "json").stdout)
        self.assertEqual([(a["arguments"], a["outcome"]) for a in listed][0],
                         ({"role": "sipas_comments", "user": "clerk"}, "ok"))
        # To logins only: a group role given sipas_comments would give it
        # to all its members.
        for user in ("sipas_report", "sipas_report_personnel", "pg_monitor"):
            r = sipas("grant", "sipas_comments", user, check=False)
            self.assertEqual(r.returncode, 1, user)
            self.assertIn("not a login", r.stderr)
        self.assertEqual(psql("SELECT pg_has_role('sipas_report', 'sipas_comments', 'MEMBER')"),
                         "f")
        self.assertEqual([a[:2] for a in actions()[3:]], [["grant", "failed"]] * 3)
        # Only sipas's own roles: anything else is refused before the
        # database is touched, and nothing is granted or recorded.
        for role in ("pg_read_all_data", "pg_write_server_files", "sipas", "reporter",
                     "SIPAS_COMMENTS", "sipas_comments; DROP TABLE responses"):
            r = sipas("grant", role, "clerk", check=False)
            self.assertEqual(r.returncode, 2, role)
            self.assertIn("not one of sipas's roles", r.stderr)
        for role in ("pg_read_all_data", "pg_write_server_files", "sipas", "reporter"):
            self.assertEqual(member(role), "f", role)
        r = sipas("revoke", "pg_signal_backend", "clerk", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(actions()), 6)
        self.assertEqual(psql("SELECT count(*) FROM responses"), "200")
        # An unknown user: an error, recorded as failed, nothing granted.
        r = sipas("grant", "sipas_audit", "nobody_here", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no database role 'nobody_here'", r.stderr)
        self.assertEqual(actions()[-1][:5], ["grant", "failed", "sipas", "sipas_audit",
                                             "nobody_here"])
        self.assertIn("sipas_report_personnel", sipas("grant", "--help").stdout)

    def test_a_session_holding_the_audit_lock_fails_an_action_not_hangs_it(self):
        # Any role can take the log's advisory lock and sit on it.
        holder = subprocess.Popen(
            ["psql", "-XAtq", "-c", "BEGIN", "-c", "SELECT pg_advisory_xact_lock(4242010)",
             "-c", "SELECT pg_sleep(120)"], env=dict(W["env"], PGUSER="reporter", PGAPPNAME="lock-holder"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND objid = 4242010 AND granted") == "1":
                    break
                time.sleep(0.1)
            else:
                self.fail("the holder never took the lock")
            r = subprocess.run([SIPAS, "purge", "--dry-run"], env=W["env"], capture_output=True,
                               text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("lock timeout", r.stderr)
        finally:
            # Its backend would sleep on, holding the lock, after psql goes.
            psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = 'lock-holder'")
            holder.wait()
            for _ in range(300):
                if psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND objid = 4242010") == "0":
                    break
                time.sleep(0.1)

    def test_report_roles_cannot_read_the_rollups_by_respondent(self):
        # sql/007 keeps the attributes in the second rollup and its queue:
        # unsuppressed, so no report role reads them.
        psql("SELECT sipas_rollup_compact()")
        for who in ("reporter", "chief"):
            for attr in ("gender", "age_group", "ethnicity", "education", "occupation"):
                for grain in ("month", "year"):
                    r = psql_as(who, "SELECT n FROM response_rollup_%s_%s LIMIT 1" % (attr, grain))
                    self.assertIn("permission denied for table response_rollup_%s_%s"
                                  % (attr, grain), r.stderr, who)
                r = psql_as(who, "SELECT %s FROM rollup_pending LIMIT 1" % attr)
                self.assertIn("permission denied for table rollup_pending", r.stderr, (who, attr))
            r = psql_as(who, "SELECT count(*) FROM response_rollup_by")
            self.assertIn("permission denied", r.stderr, who)
            r = psql_as(who, "SELECT sum(n) FROM response_rollup_kiosk_id_year")
            self.assertEqual(r.stdout.strip(), "200", (who, r.stderr))
        self.assertIn("permission denied", psql_as("reporter",
                      "SELECT n FROM response_rollup_officer_id_month").stderr)
        self.assertEqual(psql_as("chief", "SELECT sum(n) FROM response_rollup_officer_id_year")
                         .stdout.strip(), "200")

    def test_reports_from_the_responses_work_for_the_report_role(self):
        # Rolled up on the fly: the columns the role may read, not r.*.
        kiosk = psql("SELECT code FROM kiosks ORDER BY id LIMIT 1").strip()
        for args in (("--by", "kiosk"), ("--by", "procedure", "--kiosk", kiosk),
                     ("--by", "center", "--kiosk", kiosk), ("--by", "counter,area")):
            mine = sipas("report", *args, "--format", "json").stdout
            theirs = sipas("report", *args, "--format", "json", "--db", db_as("reporter"))
            self.assertEqual(theirs.stdout, mine, (args, theirs.stderr))

    def test_the_database_suppresses_small_groups_for_the_report_role(self):
        r = psql_as("reporter", "SELECT k0, suppressed, n FROM sipas_respondent_rollup("
                    "(SELECT id FROM questionnaires WHERE code = 'sipas-dv-2023'), "
                    "ARRAY['gender'], NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0) "
                    "WHERE NOT m0 ORDER BY k0")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [line.split("|") for line in r.stdout.split()]
        # A minimum cell below 3 is 3: the three of another gender are shown.
        self.assertEqual([g[0] for g in got][2], "other")
        self.assertEqual(got[2][1:], ["f", "3"])
        r = psql_as("reporter", "SELECT k0, suppressed, n, cells = array_fill(0, "
                    "ARRAY[cardinality(cells)]) FROM sipas_respondent_rollup("
                    "(SELECT id FROM questionnaires WHERE code = 'sipas-dv-2023'), "
                    "ARRAY['gender'], NULL, NULL, NULL, NULL, NULL, NULL, NULL, 5) ORDER BY k0")
        got = [line.split("|") for line in r.stdout.split()]
        small = [g for g in got if g[1] == "t"]
        # The small group and a second one (the smallest other), their sums zero.
        self.assertEqual(len(small), 2, got)
        self.assertIn("other", [g[0] for g in small])
        self.assertTrue(all(g[2] == "0" and g[3] == "t" for g in small), small)
        total = [g for g in got if g[0] == ""]
        self.assertEqual(total[0][1:3], ["f", "200"])
        r = psql_as("reporter", "SELECT * FROM sipas_respondent_rollup(1::smallint, "
                    "ARRAY['officer', 'gender'], NULL, NULL, NULL, NULL, NULL, NULL, NULL, 5)")
        self.assertIn("figures by officer are for sipas_report_personnel", r.stderr)
        r = psql_as("reporter", "SELECT * FROM sipas_respondent_rollup(1::smallint, "
                    "ARRAY['center'], NULL, NULL, NULL, NULL, NULL, NULL, NULL, 5)")
        self.assertNotEqual(r.returncode, 0)

    def test_reports_by_respondent_work_for_the_report_role(self):
        for by in ("gender", "gender,area", "age_group,quarter", "district,education",
                   "gender,criterion"):
            mine = sipas("report", "--by", by, "--format", "json").stdout
            theirs = sipas("report", "--by", by, "--format", "json", "--db", db_as("reporter"))
            self.assertEqual(theirs.stdout, mine, by)
        got = json.loads(mine)
        self.assertTrue(any(g["suppressed"] for g in got["groups"]))

    def test_export_leaves_personal_data_out_unless_asked(self):
        out = sipas("export", "--db", db_as("reporter")).stdout
        header = next(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
        self.assertEqual([c for c in header if c in PERSONAL], [])
        self.assertEqual(out.count("\n"), 201)
        r = sipas("export", "--with-personal-data", "--db", db_as("reporter"), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("sipas_comments", r.stderr)
        out = sipas("export", "--with-personal-data", "--format", "ndjson",
                    "--db", db_as("ombudsman")).stdout
        first = json.loads(out.splitlines()[0])
        self.assertTrue(set(PERSONAL) <= set(first))
        self.assertTrue(first["comment"].startswith("Góp ý số"))
        got = rows("SELECT db_user, outcome, arguments->>'with_personal_data' FROM audit_log "
                   "WHERE action = 'export' ORDER BY id")
        self.assertEqual(got, [["reporter", "started", ""], ["reporter", "ok", ""],
                               ["reporter", "failed", "yes"],
                               ["ombudsman", "started", "yes"], ["ombudsman", "ok", "yes"]])

    def test_export_to_a_closed_pipe_is_audited_as_started_then_failed(self):
        # Rows may leave before the outcome is known: the start is committed
        # first, and a reader gone (SIGPIPE) is a failure, recorded.
        p = subprocess.Popen([SIPAS, "export", "--center", "ht-can-loc", "--db",
                              db_as("reporter")], env=W["env"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        p.stdout.close()
        err = p.stderr.read()
        self.assertNotEqual(p.wait(timeout=60), 0)
        self.assertIn("writing the export failed", err)
        got = rows("SELECT outcome, arguments->>'center' FROM audit_log "
                   "WHERE action = 'export' ORDER BY id DESC LIMIT 2")
        self.assertEqual(got, [["failed", "ht-can-loc"], ["started", "ht-can-loc"]])


SECRET_COMMENT = "Chị Lan, 0912 345 678: cán bộ quầy 2 đòi tiền bồi dưỡng"


class Sealed(unittest.TestCase):
    """comment_seal_key: sipasd seals every comment before the spool and the
    database; only the holder of the secret key reads it."""

    @classmethod
    def setUpClass(cls):
        cls.keys = tempfile.mkdtemp(prefix="sipas-keys-")
        cls.made = subprocess.run([SIPAS, "seal-key", "new", "--out", cls.keys + "/comments"],
                                  capture_output=True, text=True, check=True)
        with open(cls.keys + "/comments.pub") as f:
            pub = f.read().strip()
        start_world(kiosks=2, centers=["ht-ky-anh", "ht"], conf="comment_seal_key = %s\n" % pub)
        psql("CREATE ROLE ombudsman LOGIN IN ROLE sipas_comments")

    @classmethod
    def tearDownClass(cls):
        stop_world()

    def comments(self, *args, key=None, check=True):
        return sipas("comments", "--key", key or self.keys + "/comments.key", *args,
                     "--db", db_as("ombudsman"), check=check)

    def stored_comment(self, rid):
        return psql("SELECT comment FROM responses WHERE id = '%s'" % rid)

    def reload(self, text):
        """sipasd reloaded with text as its configuration: its log lines."""
        with open(os.path.join(W["dir"], "sipasd.conf"), "w") as f:
            f.write(text)
        since = os.path.getsize(W["log"])
        W["daemon"].send_signal(signal.SIGHUP)
        wait_log("reloaded", since)
        with open(W["log"]) as f:
            f.seek(since)
            return f.read().splitlines()

    def test_a_reload_that_turns_sealing_off_or_changes_the_key_says_so(self):
        conf = os.path.join(W["dir"], "sipasd.conf")
        with open(conf) as f:
            saved = f.read()
        other = tempfile.mkdtemp()
        subprocess.run([SIPAS, "seal-key", "new", "--out", other + "/x"], check=True,
                       capture_output=True)
        with open(other + "/x.pub") as f:
            other_pub = f.read().strip()
        plain = re.compile(r" sipasd warn: .*comment_seal_key.*plain text")
        changed = re.compile(r" sipasd info: .*comment_seal_key changed")
        try:
            lines = self.reload(saved)
            self.assertEqual([l for l in lines if plain.search(l) or changed.search(l)], [],
                             "the same key: nothing to say")
            unsealed = re.sub(r"(?m)^comment_seal_key = .*\n", "", saved)
            self.assertNotEqual(unsealed, saved)
            lines = self.reload(unsealed)
            self.assertEqual(len([l for l in lines if plain.search(l)]), 1, lines)
            # And so it is: the next comment is stored as sent.
            r = example(comment="lưu không niêm phong")
            self.assertEqual(kiosk(1).post(r)[0], 201)
            self.assertEqual(self.stored_comment(r["id"]), "lưu không niêm phong")
            self.reload(saved)
            lines = self.reload(re.sub(r"(?m)^comment_seal_key = .*$",
                                       "comment_seal_key = " + other_pub, saved))
            self.assertEqual(len([l for l in lines if changed.search(l)]), 1, lines)
            self.assertEqual([l for l in lines if plain.search(l)], [], lines)
        finally:
            self.reload(saved)

    def test_seal_key_new_writes_a_pair_and_says_where_the_secret_goes(self):
        self.assertIn("off the server", self.made.stdout)
        self.assertEqual(os.stat(self.keys + "/comments.key").st_mode & 0o777, 0o600)
        r = subprocess.run([SIPAS, "seal-key", "new", "--out", self.keys + "/comments"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists", r.stderr)

    def test_the_database_holds_only_ciphertext_and_the_key_opens_it(self):
        r = example(comment=SECRET_COMMENT)
        self.assertEqual(kiosk(1).post(r)[0], 201)
        stored = self.stored_comment(r["id"])
        self.assertTrue(stored.startswith("sealed:"), stored)
        self.assertNotIn("0912", stored)
        out = self.comments("--center", "ht-ky-anh", "--format", "csv").stdout
        got = {row["id"]: row for row in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))}
        self.assertEqual(got[r["id"]]["comment"], SECRET_COMMENT)
        self.assertEqual(got[r["id"]]["center"], "ht-ky-anh")
        self.assertEqual(self.comments("--center", "ht-can-loc", "--format", "csv").stdout
                         .count(r["id"]), 0)
        self.assertEqual(rows("SELECT db_user, outcome FROM audit_log WHERE action = 'comments' "
                              "AND arguments->>'center' = 'ht-ky-anh'"), [["ombudsman", "ok"]])
        # The longest comment sipasd takes fits sealed.
        longest = example(comment="ă" * 1000)
        self.assertEqual(kiosk(1).post(longest)[0], 201)
        self.assertIn("ă" * 1000, self.comments("--format", "csv").stdout)
        # Another key opens nothing.
        other = tempfile.mkdtemp()
        subprocess.run([SIPAS, "seal-key", "new", "--out", other + "/x"], check=True,
                       capture_output=True)
        bad = self.comments(key=other + "/x.key", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("cannot be opened with this key", bad.stderr)

    def test_a_comment_that_does_not_open_is_flagged_and_the_others_listed(self):
        # Stored in the clear before the key was set, it begins like a box.
        plain, sealed = example(comment="x"), example(comment=SECRET_COMMENT)
        for r in (plain, sealed):
            self.assertEqual(kiosk(1).post(r)[0], 201)
        psql("UPDATE responses SET comment = 'sealed: chờ lâu' WHERE id = '%s'" % plain["id"])
        try:
            r = self.comments("--format", "csv", check=False)
            self.assertEqual(r.returncode, 1, r.stderr)
            got = {row["id"]: row["comment"]
                   for row in csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff")))}
            self.assertEqual(got[sealed["id"]], SECRET_COMMENT)
            self.assertEqual(got[plain["id"]], "sealed: chờ lâu")
            self.assertIn("response %s cannot be opened with this key" % plain["id"], r.stderr)
            self.assertIn("1 comment could not be opened", r.stderr)
        finally:
            psql("DELETE FROM responses WHERE id = '%s'" % plain["id"])

    def test_duplicate_and_conflict_work_unchanged_with_sealing(self):
        k = kiosk(1)
        r = example(comment=SECRET_COMMENT)
        self.assertEqual(k.post(r)[0], 201)
        first = self.stored_comment(r["id"])
        self.assertEqual(k.post(r)[:1], (200,))
        self.assertEqual(k.post(dict(r, comment=SECRET_COMMENT + "!"))[:1], (409,))
        self.assertEqual(self.stored_comment(r["id"]), first)

    def test_the_spool_holds_the_comment_sealed_and_replays_it(self):
        k = kiosk(2)
        r = example(comment=SECRET_COMMENT + " (spooled)")
        subprocess.run([SANDBOX, "stop", W["dir"]], check=True)
        try:
            self.assertEqual(k.post(r)[0], 202)
            for name in os.listdir(os.path.join(W["dir"], "spool")):
                with open(os.path.join(W["dir"], "spool", name), "rb") as f:
                    data = f.read()
                self.assertNotIn("0912".encode(), data, name)
                self.assertNotIn("spooled".encode(), data, name)
        finally:
            subprocess.run([SANDBOX, "resume", W["dir"]], check=True)
        wait_healthy(30)
        wait_spool_empty()
        self.assertTrue(self.stored_comment(r["id"]).startswith("sealed:"))
        self.assertEqual(k.post(r)[:1], (200,))
        out = self.comments("--format", "csv").stdout
        self.assertIn(SECRET_COMMENT + " (spooled)", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
