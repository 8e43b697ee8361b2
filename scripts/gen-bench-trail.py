#!/usr/bin/env python3
"""Builds a benchmark trail of N events from the shared CloudTrail corpora, in the S3 delivery
layout (AWSLogs/111122223333/CloudTrail/eu-west-1/YYYY/MM/DD/*.json.gz, 1,000 records a file,
gzip level 6): each copy gets a unique eventID and an advancing eventTime (ten events a second
from 2024-08-01). Used by the `rampart hunt` benchmark (BENCHMARKS.md); the output is not
committed.

    python3 scripts/gen-bench-trail.py 1000000 /tmp/rampart-hunt-1m
"""
import datetime
import gzip
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, "..", "..", "shared", "corpora", "cloudtrail")


def corpus():
    events = []
    for root, _, files in sorted(os.walk(shared)):
        for f in sorted(files):
            p = os.path.join(root, f)
            if f.endswith(".json.gz"):
                data = gzip.open(p).read()
            elif f.endswith(".json"):
                data = open(p, "rb").read()
            else:
                continue
            doc = json.loads(data)
            events.extend(doc["Records"] if isinstance(doc, dict) else doc)
    return [e for e in events if isinstance(e, dict)]


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    base = corpus()
    t0 = datetime.datetime(2024, 8, 1, tzinfo=datetime.timezone.utc)
    i = 0
    file_no = 0
    while i < n:
        records = []
        for _ in range(min(1000, n - i)):
            e = dict(base[i % len(base)])
            e["eventID"] = "%08x-0000-4000-8000-%012x" % (i // 7919, i)
            t = t0 + datetime.timedelta(seconds=i // 10)
            e["eventTime"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            records.append(e)
            i += 1
        day = t.strftime("%Y/%m/%d")
        d = os.path.join(out, "AWSLogs/111122223333/CloudTrail/eu-west-1", day)
        os.makedirs(d, exist_ok=True)
        name = "111122223333_CloudTrail_eu-west-1_%06d.json.gz" % file_no
        with gzip.open(os.path.join(d, name), "wb", compresslevel=6) as g:
            g.write(json.dumps({"Records": records}, separators=(",", ":")).encode())
        file_no += 1
    print("%d events from %d corpus events in %d files under %s" % (n, len(base), file_no, out))


if __name__ == "__main__":
    main()
