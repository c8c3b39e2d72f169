#!/usr/bin/env python3
"""formats_check.py - read zcshim-stat's outputs back with real parsers.

Called by tests/test_text.c (issue 14, point 2): every output must be valid
UTF-8, parse with Python's json and csv modules and a strict reading of the
Prometheus text format, and give back the program name and the endpoints
the app really had, byte for byte, once the text form (\\xNN for any byte
that is not a printable character, docs/formats.md) is decoded.

  formats_check.py DIR EXE_HEX EP_HEX,EP_HEX,...
DIR holds table.txt, json.json, csv.csv and prom.prom, all taken with
--by socket; the endpoints are those of socket 1, in order. Prints what
failed and exits 1, or prints "ok" and exits 0.
"""
import csv
import io
import json
import re
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def decode(text):
    """The text form back to bytes: every \\xNN is byte NN."""
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  text.encode("utf-8"))


def utf8(path):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        check(False, "%s: not UTF-8: %s" % (path, e))
        return raw.decode("utf-8", errors="replace")
    # no control characters but the line ends (C0, DEL, C1)
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0]
    check(not bad, "%s: control characters %r" % (path, bad[:5]))
    return text


# ---- Prometheus text format 0.0.4, strictly: names, label escapes ----

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def prom_labels(s, where):
    """name="value",... -> dict; only \\\\, \\" and \\n escapes allowed."""
    labels, i = {}, 0
    while i < len(s):
        m = LABEL.match(s, i)
        if not check(m and s[m.end():m.end() + 2] == '="', "%s: label at %d" % (where, i)):
            return labels
        name, i, value = m.group(0), m.end() + 2, []
        while True:
            if not check(i < len(s), "%s: unterminated label %s" % (where, name)):
                return labels
            c = s[i]
            if c == "\\":
                esc = s[i + 1:i + 2]
                if not check(esc in ("\\", '"', "n"), "%s: escape \\%s in %s" % (where, esc, name)):
                    return labels
                value.append("\n" if esc == "n" else esc)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                value.append(c)
                i += 1
        check(name not in labels, "%s: label %s twice" % (where, name))
        labels[name] = "".join(value)
        if i < len(s):
            check(s[i] == ",", "%s: ',' expected at %d" % (where, i))
            i += 1
    return labels


def prom(text):
    samples, families = [], {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "prom line %d" % n
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            check(len(parts) >= 4 and NAME.fullmatch(parts[2]), where)
            if line.startswith("# TYPE "):
                check(parts[3] in ("counter", "gauge", "histogram"), where)
                check(parts[2] not in families, "%s: family %s twice" % (where, parts[2]))
                families[parts[2]] = parts[3]
            continue
        m = NAME.match(line)
        if not check(m and line[m.end():m.end() + 1] == "{", where):
            continue
        close = line.rfind("} ")
        if not check(close > 0, where):
            continue
        value = line[close + 2:]
        check(re.fullmatch(r"[0-9.e+-]+|\+Inf", value), "%s: value %r" % (where, value))
        samples.append((m.group(0), prom_labels(line[m.end() + 1:close], where)))
    check(text.endswith("\n"), "prom: last line not terminated")
    return samples


def main():
    out, exe, eps = sys.argv[1], bytes.fromhex(sys.argv[2]), [
        bytes.fromhex(h) for h in sys.argv[3].split(",") if h]

    # JSON: a real parser, duplicate keys refused
    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        check(len(keys) == len(set(keys)), "json: duplicate keys %r" % keys)
        return dict(pairs)
    doc = json.loads(utf8(out + "/json.json"), object_pairs_hook=no_dups)
    check(decode(doc["exe"]) == exe, "json exe %r" % doc["exe"])
    sock = [s for s in doc["sockets"] if s["id"] == 1][0]
    check([decode(e) for e in sock["endpoints"]] == eps, "json endpoints %r" % sock["endpoints"])
    series = [x for x in doc["series"] if x["socket"]["id"] == 1]
    check(series and all([decode(e) for e in x["socket"]["endpoints"]] == eps for x in series),
          "json series endpoints")

    # CSV: RFC 4180 through the csv module, one record a line
    text = utf8(out + "/csv.csv")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
    check(len(rows) == text.count("\n") - 1, "csv: a record spans lines")
    for r in rows:
        check(decode(r["exe"]) == exe, "csv exe %r" % r["exe"])
        if r["socket"] == "1":
            got = [decode(e) for e in r["endpoints"].split(" ")] if r["endpoints"] else []
            check(got == eps, "csv endpoints %r" % r["endpoints"])
    check(any(r["socket"] == "1" for r in rows), "csv: no row of socket 1")

    # Prometheus: strict lexing, then the values
    samples = prom(utf8(out + "/prom.prom"))
    for name, labels in samples:
        if "exe" in labels:
            check(decode(labels["exe"]) == exe, "prom exe %r" % labels["exe"])
        if name == "zcshim_socket_info" and labels.get("socket") == "1":
            got = [decode(e) for e in labels["endpoints"].split(" ")] if labels["endpoints"] else []
            check(got == eps, "prom endpoints %r" % labels["endpoints"])
    check(any(n == "zcshim_socket_info" for n, _ in samples), "prom: no socket info")

    # the table: the name between "pid N (" and "): ", endpoints as words,
    # one holding a space in double quotes
    text = utf8(out + "/table.txt")
    m = re.match(r"pid \d+ \((.*)\): ", text)
    check(m and decode(m.group(1)) == exe, "table exe %r" % (m and m.group(1)))
    m = re.search(r"^socket 1 \S+ (.*) \((open|closed)\)$", text, re.M)
    if check(m, "table: no socket 1 line"):
        words = re.findall(r'"([^"]*)"|(\S+)', m.group(1))
        check([decode(a or b) for a, b in words] == eps, "table endpoints %r" % m.group(1))

    for f in failures:
        print(f)
    print("ok" if not failures else "%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
