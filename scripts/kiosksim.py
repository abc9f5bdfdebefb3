#!/usr/bin/env python3
"""A kiosk simulator: realistic SIPAS responses sent to sipasd over mutual TLS.

Used by scripts/demo to fill the database and by the integration tests as
their HTTPS client. Standard library only.

    scripts/kiosksim.py --port 8443 --ca ca.crt --kiosk k1.crt:k1.key \\
        --kiosk k2.crt:k2.key --count 3000
"""

import argparse
import collections
import datetime
import http.client
import json
import random
import socket
import ssl
import sys
import threading
import time
import uuid

VN = datetime.timezone(datetime.timedelta(hours=7))

COMMENTS = [
    "Cán bộ hướng dẫn nhiệt tình.",
    "Thời gian chờ hơi lâu.",
    "Cần thêm chỗ ngồi chờ.",
    "Thủ tục nhanh gọn, rất hài lòng.",
    "Biển chỉ dẫn chưa rõ ràng.",
    "Máy lấy số thứ tự hay bị lỗi.",
]
RESPONDENT = {
    "gender": ["male", "female", "other"],
    "age_group": ["18-25", "26-34", "35-49", "50-60", "60+"],
    "ethnicity": ["kinh", "other"],
    "education": ["none", "primary", "lower-secondary", "upper-secondary",
                  "vocational", "university"],
    "occupation": ["farmer", "worker", "public-sector", "business", "student",
                   "retired", "other"],
}


class Kiosk:
    """One kiosk: a keep-alive HTTPS connection with its client certificate."""

    def __init__(self, host, port, ca, cert=None, key=None, timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.ctx = ssl.create_default_context(cafile=ca)
        if cert:
            self.ctx.load_cert_chain(cert, key)
        self.conn = None

    def connect(self):
        self.close()
        self.conn = http.client.HTTPSConnection(
            self.host, self.port, context=self.ctx, timeout=self.timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, content_type="application/json"):
        """Returns (status, headers, parsed JSON body or raw bytes)."""
        if self.conn is None:
            self.connect()
        hdrs = dict(headers or {})
        if body is not None and content_type is not None:
            hdrs.setdefault("Content-Type", content_type)
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            body = body.encode()
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
        except Exception:
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data
        return resp.status, dict(resp.getheaders()), parsed

    def post(self, response):
        return self.request("POST", "/v1/responses", response)


def realistic_response(rng, questionnaire, when, area_bias=None):
    """A response to the questionnaire as served by GET /v1/questionnaire."""
    scale = questionnaire["scale"]
    lo, hi, sat = scale["min"], scale["max"], scale["satisfied_min"]
    areas = [a["code"] for a in questionnaire["service_areas"]]
    area = rng.choice(areas[:12])
    # Most people are satisfied; some areas and some criteria less so.
    p_sat = 0.86 + (area_bias or {}).get(area, 0.0)
    answers = {}
    for element in questionnaire["elements"]:
        for crit in element["criteria"]:
            code = crit["code"]
            if element["code"] == "PA" and rng.random() < 0.15:
                answers[code] = None    # never gave feedback: not applicable
            elif rng.random() < p_sat - (0.06 if code in ("TT4", "TC1") else 0):
                answers[code] = rng.randint(sat, hi)
            else:
                answers[code] = rng.randint(lo, sat - 1)
    resp = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "questionnaire": questionnaire["code"],
        "submitted_at": when.astimezone(VN).isoformat(timespec="seconds"),
        "service_area": area,
        "answers": answers,
    }
    if rng.random() < 0.7:
        resp["procedure"] = "1.%06d" % rng.randint(1, 15000)
    if rng.random() < 0.8:
        resp["overall"] = rng.randint(sat, hi) if rng.random() < p_sat else rng.randint(lo, sat - 1)
    if rng.random() < 0.2:
        resp["comment"] = rng.choice(COMMENTS)
    if rng.random() < 0.6:
        resp["respondent"] = {k: rng.choice(v) for k, v in RESPONDENT.items()
                              if rng.random() < 0.7}
    return resp


def run(args):
    statuses = collections.Counter()
    lock = threading.Lock()
    per_kiosk = [args.count // len(args.kiosk)] * len(args.kiosk)
    per_kiosk[0] += args.count - sum(per_kiosk)
    # submitted_at spreads over [first, last): the past --days, or the Vietnam
    # days --since to --until included (never later than now).
    last = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=60)
    first = last - datetime.timedelta(days=args.days)
    if args.since:
        first = datetime.datetime.combine(args.since, datetime.time(), VN)
    if args.until:
        last = min(last, datetime.datetime.combine(args.until, datetime.time(), VN)
                   + datetime.timedelta(days=1))
    if first >= last:
        sys.exit("kiosksim: --since must come before --until and now")

    def worker(index, certkey, count):
        cert, key = certkey.split(":")
        rng = random.Random(args.seed * 1000 + index)
        kiosk = Kiosk(args.host, args.port, args.ca, cert, key)
        status, _, questionnaire = kiosk.request("GET", "/v1/questionnaire")
        if status != 200:
            with lock:
                statuses["questionnaire %d" % status] += 1
            return
        bias = {a["code"]: rng.uniform(-0.12, 0.06) for a in questionnaire["service_areas"]}
        for _ in range(count):
            when = first + (last - first) * rng.random()
            resp = realistic_response(rng, questionnaire, when, bias)
            for attempt in range(5):    # the kiosk's own retry with the same id
                try:
                    status, _, _ = kiosk.post(resp)
                except (OSError, http.client.HTTPException):
                    status = "no reply"
                    time.sleep(0.2)
                    continue
                if status not in (503,):
                    break
                time.sleep(1)
            with lock:
                statuses[status] += 1
        kiosk.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i, ck, n))
               for i, (ck, n) in enumerate(zip(args.kiosk, per_kiosk))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    total = sum(statuses.values())
    print("kiosksim: %d responses from %d kiosks in %.1f s (%.0f/s): %s" % (
        total, len(args.kiosk), elapsed, total / elapsed if elapsed else 0,
        ", ".join("%s: %d" % (k, v) for k, v in sorted(statuses.items(), key=str))))
    # A kiosk that could not send them all (its thread died) fails the run too.
    return 0 if total == args.count and set(statuses) <= {200, 201} else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--ca", required=True, help="CA that signed the server certificate")
    ap.add_argument("--kiosk", action="append", required=True, metavar="CERT:KEY",
                    help="a kiosk's certificate and key; repeat for several kiosks")
    ap.add_argument("--count", type=int, default=1000, help="responses in all")
    ap.add_argument("--days", type=int, default=80, help="spread submitted_at over the past DAYS")
    day = datetime.date.fromisoformat
    ap.add_argument("--since", type=day, metavar="YYYY-MM-DD",
                    help="spread submitted_at from this Vietnam day on instead")
    ap.add_argument("--until", type=day, metavar="YYYY-MM-DD",
                    help="... up to this Vietnam day included (default: now)")
    ap.add_argument("--seed", type=int, default=1)
    sys.exit(run(ap.parse_args()))


if __name__ == "__main__":
    main()
