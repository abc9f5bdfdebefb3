#!/usr/bin/env python3
"""What sipasd does when PostgreSQL misbehaves rather than going away: a
backend that stops answering, an error raised only at COMMIT, a session
setting that changes how values come back. A private PostgreSQL, the real
sipasd, real mutual TLS."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world import *  # noqa: E402,F401,F403


def setUpModule():
    start_world(2, ["ht-can-loc", "ht-duc-tho"])


def tearDownModule():
    stop_world()


class ErrorAtCommit(unittest.TestCase):
    MARKER = "9.999999"

    def setUp(self):
        # A constraint trigger deferred to COMMIT: the INSERT itself succeeds
        # and returns its rows, the transaction then fails.
        psql("CREATE FUNCTION test_refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
             "BEGIN IF NEW.procedure = '%s' THEN RAISE EXCEPTION 'refused at commit'; END IF; "
             "RETURN NULL; END $$; "
             "CREATE CONSTRAINT TRIGGER test_refuse_at_commit AFTER INSERT ON responses "
             "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
             "EXECUTE FUNCTION test_refuse_at_commit()" % self.MARKER)

    def tearDown(self):
        psql("DROP TRIGGER test_refuse_at_commit ON responses; "
             "DROP FUNCTION test_refuse_at_commit()")

    def test_an_error_at_commit_is_503_and_nothing_is_stored(self):
        k = kiosk(1)
        r = example(procedure=self.MARKER)
        status, _, reply = k.post(r)
        self.assertEqual((status, reply), (503, {"error": "unavailable"}))
        self.assertEqual(stored(r["id"]), 0)
        ok = example()
        self.assertEqual(k.post(ok)[0], 201)
        self.assertEqual(stored(ok["id"]), 1)

    def test_an_error_at_commit_fails_the_whole_transaction_it_was_in(self):
        k = kiosk(1)
        bad, other = example(procedure=self.MARKER), example()
        status, _, reply = k.request("POST", "/v1/responses/batch", [bad, other])
        self.assertEqual(status, 200)
        self.assertEqual(reply[0], {"id": bad["id"], "status": 503, "error": "unavailable"})
        self.assertEqual(stored(bad["id"]), 0)
        # Whether both went in one transaction is the group commit's choice;
        # either way a 201 only for what is stored.
        self.assertEqual(reply[1]["status"] == "stored", stored(other["id"]) == 1, reply[1])


if __name__ == "__main__":
    unittest.main()
