#!/usr/bin/env python3
"""pipeline-schema - check `zcshim-stat --pipeline --json` output against the
schema docs/json.md gives (one document, or one per line with --watch), then
print the first document's values flattened, one key=value a line
(endpoints.0.in_queues=40), for the tests to read. Exit 1, naming the first
field that is wrong, if anything is off.

Usage: pipeline-schema FILE
"""
import json
import sys


def fail(where, why):
    print("pipeline-schema: %s: %s" % (where, why), file=sys.stderr)
    sys.exit(1)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def check(obj, where, fields):
    """fields: name -> predicate (or a (predicate, sub-fields) pair)."""
    if not isinstance(obj, dict):
        fail(where, "not an object")
    for name, want in fields.items():
        optional = name.endswith("?")
        key = name.rstrip("?")
        if key not in obj:
            if optional:
                continue
            fail(where, "no %s" % key)
        v = obj[key]
        pred, sub = want if isinstance(want, tuple) else (want, None)
        if not pred(v):
            fail("%s.%s" % (where, key), "bad value %r" % (v,))
        if sub and v is not None:
            check(v, "%s.%s" % (where, key), sub)


def share(v):
    return v is None or (is_num(v) and 0 <= v <= 1)


def int_or_null(v):
    return v is None or is_int(v)


def str_or_null(v):
    return v is None or isinstance(v, str)


COUNTS = {"messages": is_int, "bytes": is_int}
SIDE = {
    "pid": is_int, "seq": is_int, "program": lambda v: isinstance(v, str),
    "socket": is_int, "type": lambda v: isinstance(v, str),
    "bound": lambda v: isinstance(v, bool), "running": lambda v: isinstance(v, bool),
    "endpoints": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "endpoints_cut": lambda v: isinstance(v, bool),
    "sent": (lambda v: isinstance(v, dict), COUNTS),
    "received": (lambda v: isinstance(v, dict), COUNTS),
    "blocked_send": share, "waiting_recv": share, "missed": int_or_null,
}
RATE = {"sent_per_s": is_num, "received_per_s": is_num,
        "mean_time_in_queue_ns": lambda v: v is None or is_num(v)}
ENDPOINT = {
    "endpoint": lambda v: isinstance(v, str) and v != "",
    "pattern": lambda v: isinstance(v, str),
    "running": lambda v: isinstance(v, bool),
    "sides": lambda v: isinstance(v, list) and len(v) > 0,
    "sent": (lambda v: isinstance(v, dict), COUNTS),
    "received": (lambda v: isinstance(v, dict), COUNTS),
    "in_queues": int_or_null, "not_delivered": int_or_null, "published": int_or_null,
    "missing_side": lambda v: isinstance(v, bool),
    "rate?": (lambda v: v is None or isinstance(v, dict), RATE),
}
PROCESS = {
    "pid": is_int, "seq": is_int, "program": lambda v: isinstance(v, str),
    "state": lambda v: isinstance(v, str), "running": lambda v: isinstance(v, bool),
    "busy_ns": is_num, "blocked_send": share, "waiting_recv": share, "working": share,
    "timed": share,
    "untimed_calls": is_int, "segment": lambda v: isinstance(v, str),
}
REF = {"pid": is_int, "seq": is_int, "program": lambda v: isinstance(v, str)}
BOTTLENECK = dict(REF, working=share, score=is_num, endpoint_in=str_or_null,
                  endpoint_out=str_or_null,
                  upstream=(lambda v: v is None or isinstance(v, dict),
                            dict(REF, blocked_send=share)),
                  downstream=(lambda v: v is None or isinstance(v, dict),
                              dict(REF, waiting_recv=share)))
TOP = {
    "version": lambda v: v == 1,
    "host": (lambda v: isinstance(v, dict),
             {"address": lambda v: isinstance(v, str), "hostname": lambda v: isinstance(v, str)}),
    "interval_s?": is_num,
    "endpoints": lambda v: isinstance(v, list),
    "processes": lambda v: isinstance(v, list),
    "bottleneck": (lambda v: v is None or isinstance(v, dict), BOTTLENECK),
    "unplaced_sockets": is_int,
}


def check_doc(doc, where):
    check(doc, where, TOP)
    for i, e in enumerate(doc["endpoints"]):
        check(e, "%s.endpoints.%d" % (where, i), ENDPOINT)
        for j, s in enumerate(e["sides"]):
            check(s, "%s.endpoints.%d.sides.%d" % (where, i, j), SIDE)
        # a point-to-point endpoint's totals are its sides' sums
        if e["published"] is None and e["pattern"] not in ("stream", "dgram", "mixed"):
            for k in ("sent", "received"):
                total = sum(s[k]["messages"] for s in e["sides"])
                if total != e[k]["messages"]:
                    fail("%s.endpoints.%d.%s" % (where, i, k), "not the sides' sum")
    for i, p in enumerate(doc["processes"]):
        check(p, "%s.processes.%d" % (where, i), PROCESS)
        if p["working"] is not None:
            total = p["blocked_send"] + p["waiting_recv"] + p["working"]
            if abs(total - 1) > 0.001:
                fail("%s.processes.%d" % (where, i), "shares add up to %s" % total)


def flatten(v, key, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(x, "%s.%s" % (key, k) if key else k, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            flatten(x, "%s.%d" % (key, i), out)
    else:
        out.append("%s=%s" % (key, "null" if v is None else
                              str(v).lower() if isinstance(v, bool) else v))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:  # one document, over several lines ...
        docs = [json.loads(text)]
    except ValueError:  # ... or --watch's, one a line
        try:
            docs = [json.loads(l) for l in text.split("\n") if l.strip()]
        except ValueError as e:
            fail("document", "not JSON: %s" % e)
    for n, doc in enumerate(docs):
        check_doc(doc, "doc%d" % n)
    print("documents=%d" % len(docs))
    for n, doc in enumerate(docs):
        out = []
        flatten(doc, "", out)
        print("\n".join(("d%d." % n) + line for line in out))


main()
