#!/usr/bin/env python3
"""One kiosk's requests for tests/system/run, run on the host inside the
container's network namespace (nsenter -n), with scripts/kiosksim.py's
client. Prints one line for the shell to read.

    kiosk.py post CA CERT KEY         "STATUS ID": one response submitted
    kiosk.py cert CA CERT KEY         the SHA-256 of the certificate served
    kiosk.py listening PORT...        exits 1 unless every port accepts now
"""

import datetime
import hashlib
import os
import random
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import kiosksim  # noqa: E402


def post(ca, cert, key):
    kiosk = kiosksim.Kiosk("localhost", 8443, ca, cert, key, timeout=30)
    status, _, questionnaire = kiosk.request("GET", "/v1/questionnaire")
    if status != 200:
        print("%d questionnaire" % status)
        return
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    resp = kiosksim.realistic_response(random.Random(), questionnaire, when)
    status, _, _ = kiosk.post(resp)
    kiosk.close()
    print("%d %s" % (status, resp["id"]))


def cert(ca, cert, key):
    kiosk = kiosksim.Kiosk("localhost", 8443, ca, cert, key, timeout=30)
    kiosk.connect()
    der = kiosk.conn.sock.getpeercert(binary_form=True)
    kiosk.close()
    print(hashlib.sha256(der).hexdigest())


def listening(*ports):
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=5).close()
        except OSError as e:
            print("port %s: %s" % (port, e))
            sys.exit(1)
    print("listening")


if __name__ == "__main__":
    {"post": post, "cert": cert, "listening": listening}[sys.argv[1]](*sys.argv[2:])
