#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/ from the tests and the docs.

Run by hand (python3 fuzz/seeds.py) after adding cases to the tests; the
files it writes are committed. Sources:
- request, event: every line literal of tests/protocol_test.cpp and
  tests/bad_input_test.cpp (the real requests and every bad_request case,
  exec_line()/request_line() expanded; cases built from run-time values are
  skipped), and the JSON lines of docs/protocol.md;
- config: config/pfd.toml and every TOML literal of tests/config_test.cpp;
- byte_string: the byte strings and base64 texts of tests/protocol_test.cpp;
- framer: request streams (several lines, partial lines, long lines).
Files are named after the test case ("what") when there is one.
"""
import hashlib
import json
import os
import re
import shutil
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "corpus")

SIMPLE_ESC = {"n": b"\n", "t": b"\t", "r": b"\r", "0": b"\0", "\\": b"\\", '"': b'"', "'": b"'"}


def parse_literal(s, i):
    """One C++ string literal at s[i:] -> (bytes, end) or None."""
    if s.startswith('R"(', i):
        end = s.index(')"', i + 3)
        return s[i + 3:end].encode(), end + 2
    if s.startswith('"', i):
        j, buf = i + 1, bytearray()
        while s[j] != '"':
            if s[j] == "\\":
                c = s[j + 1]
                if c == "x":
                    m = re.match(r"[0-9a-fA-F]+", s[j + 2:])
                    buf.append(int(m.group(0), 16) & 0xFF)
                    j += 2 + len(m.group(0))
                    continue
                if c in SIMPLE_ESC:
                    buf += SIMPLE_ESC[c]
                    j += 2
                    continue
                return None
            buf += s[j].encode()
            j += 1
        return bytes(buf), j + 1
    return None


def parse_expr(s, i):
    """Concatenated literals, exec_line(...), request_line(...),
    std::string(1, '\\0') joined by '+': -> (bytes, end) or None."""
    parts, j = [], i
    while True:
        while s[j] in " \t\n":
            j += 1
        for fn, pre, post in (("exec_line(", b'{"pfd":1,"op":"exec",', b"}"),
                              ("request_line(", b'{"pfd":1,"op":"exec",', b"}\n")):
            if s.startswith(fn, j):
                inner = parse_expr(s, j + len(fn))
                if not inner or s[inner[1]] != ")":
                    return None
                parts.append(pre + inner[0] + post)
                j = inner[1] + 1
                break
        else:
            if s.startswith("std::string(1, '\\0')", j):
                parts.append(b"\0")
                j += len("std::string(1, '\\0')")
            else:
                lit = parse_literal(s, j)
                if not lit:
                    return None
                parts.append(lit[0])
                j = lit[1]
        k = j
        while s[k] in " \t\n":
            k += 1
        if s[k] == "+":
            j = k + 1
        elif s[k] in '"R' and (s.startswith('R"(', k) or s[k] == '"'):
            j = k  # adjacent literals
        else:
            return b"".join(parts), k


def slug(what):
    return re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")[:60] or "case"


def plain_literals(path):
    """Every "..." expression of a file: (name, bytes)."""
    s = open(path, encoding="utf-8").read()
    base = os.path.splitext(os.path.basename(path))[0]
    found, i = [], 0
    for m in re.finditer(r'(?<![\\\w])"', s):
        if m.start() < i:
            continue
        e = parse_expr(s, m.start())
        if e:
            found.append((f"{base}-L{s.count(chr(10), 0, m.start()) + 1}", e[0]))
            i = e[1]
    return found


def literals(path):
    """Every expression of literals in a test file: (name, bytes)."""
    s = open(path, encoding="utf-8").read()
    base = os.path.splitext(os.path.basename(path))[0]
    found, covered = [], set()
    # {"what", EXPR ...}: a named case
    for m in re.finditer(r'\{\s*"([^"\\]* [^"\\]*)",\s*', s):
        e = parse_expr(s, m.end())
        if e and s[e[1]] in ",}":
            found.append((slug(m.group(1)), e[0]))
            covered.add(m.end())
    # any other literal
    for m in re.finditer(r'(?<![A-Za-z_])(R"\(|exec_line\(|request_line\()', s):
        if m.start() in covered or any(m.start() in range(c, c + 1) for c in covered):
            continue
        e = parse_expr(s, m.start())
        if e:
            line = s.count("\n", 0, m.start()) + 1
            found.append((f"{base}-L{line}", e[0]))
    return found


def doc_json_lines(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out_lines, pending = [], None
    for line in lines:
        text = line.strip()
        if pending is not None:
            pending += " " + text
        elif text.startswith("{"):
            pending = text
        else:
            continue
        try:
            json.loads(pending)
            out_lines.append(pending.encode())
            pending = None
        except ValueError:
            if len(pending) > 4000:
                pending = None
    return out_lines


class corpus:
    def __init__(self, name):
        self.dir = os.path.join(out, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.seen = set()

    def add(self, name, data):
        if data in self.seen:
            return
        self.seen.add(data)
        path = os.path.join(self.dir, name)
        if os.path.exists(path):
            path += "-" + hashlib.sha1(data).hexdigest()[:8]
        with open(path, "wb") as f:
            f.write(data)


def main():
    tests = os.path.join(root, "tests")
    request, event = corpus("request"), corpus("event")
    byte_string, config, framer = corpus("byte_string"), corpus("config"), corpus("framer")
    request_lines = []
    for f in ("protocol_test.cpp", "bad_input_test.cpp"):
        for name, data in literals(os.path.join(tests, f)):
            data = data.rstrip(b"\n") if data.count(b"\n") == 1 and data.endswith(b"\n") else data
            if b'"event"' in data:
                event.add(name, data)
            elif data.startswith(b"{") or data.startswith(b"[") or b'"op"' in data or len(data) < 16:
                request.add(name, data)
                request_lines.append(data)
            if b'"b64"' in data:
                for m in re.finditer(rb'"b64":"([^"]*)"', data):
                    byte_string.add("b64-" + name, m.group(1))
    for data in doc_json_lines(os.path.join(root, "docs", "protocol.md")):
        (event if b'"event"' in data else request).add("protocol-md-" + hashlib.sha1(data).hexdigest()[:8], data)
        if b'"event"' not in data:
            request_lines.append(data)
    event.add("non-event-empty", b"")

    byte_string.add("latin1", "été".encode("latin-1"))
    byte_string.add("utf8", "été".encode())
    byte_string.add("overlong", b"\xc0\xaf")
    byte_string.add("surrogate", b"\xed\xa0\x80")
    byte_string.add("beyond-10ffff", b"\xf4\x90\x80\x80")
    byte_string.add("nul", b"a\0b")
    byte_string.add("b64-two-pads", b"YQ==")
    byte_string.add("b64-non-canonical", b"YR==")

    config.add("pfd-toml", open(os.path.join(root, "config", "pfd.toml"), "rb").read())
    for name, data in plain_literals(os.path.join(tests, "config_test.cpp")):
        if data.startswith(b"[") or b" = " in data:
            config.add(name, data)
    config.add("project-file", b'project = "demo"\n[limits]\nfds = 8\n[policy]\nenv_set = ["A=1"]\n')

    # Framer: byte 0 is the line limit, byte 1 the cuts (top bit: socketpair).
    valid = [l for l in request_lines if l.startswith(b'{"pfd":1')][:20]
    stream = b"\n".join(valid) + b"\n"
    framer.add("requests-limit-255", b"\xff\x81" + stream)
    framer.add("requests-limit-64", b"\x40\x02" + stream)
    framer.add("partial-tail", b"\x20\x83" + stream + b'{"pfd":1,"op":"exec","argv":["echo"')
    framer.add("long-line", b"\x10\x04" + b"a" * 300 + b"\nshort\n" + b"b" * 40)
    framer.add("empty-lines", b"\x08\x85\n\n\nx\n\n")
    framer.add("no-newline", b"\xf1\x06" + b"z" * 100)
    for c in (request, event, byte_string, config, framer):
        print(f"{os.path.relpath(c.dir, root)}: {len(c.seen)} files", file=sys.stderr)


main()
