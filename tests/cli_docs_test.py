#!/usr/bin/env python3
"""The --help texts and the man pages name the same options, and pfd.toml(5)
documents every key of config/pfd.toml (and no other).

Usage: cli_docs_test.py SOURCE_DIR, with PFD_BIN and HOSTEXEC_BIN in the
environment (tests/meson.build sets them).

Options are what the man pages define: the term lines of their definition
lists (a line starting with *-, its text indented below). In pfd(1) each
verb's own options sit in its "## pfd VERB" subsection of COMMANDS; COMMON
OPTIONS are those of every verb that finds a daemon; GENERAL OPTIONS those of
pfd itself. On the --help side an option is any -x or --word of an option
row (up to its description) or a synopsis line.

The verbs are those `pfd --help` lists, not a copy kept here: a new verb
must have its pfd(1) section and its bash completion. Those that find a
daemon are those whose --help has --socket.
"""
import os
import re
import subprocess
import sys
import tempfile

src = sys.argv[1]
pfd = os.path.abspath(os.environ["PFD_BIN"])
hostexec = os.path.abspath(os.environ["HOSTEXEC_BIN"])

OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def options_in(text):
    return set(OPTION.findall(text))


def options_in_help(text):
    """The options a usage text defines: those of its option rows (up to the
    description) and of its synopsis lines, not those its prose mentions
    (`systemctl --user ...`)."""
    found = set()
    for line in text.splitlines():
        s = line.lstrip()
        if s.startswith("-"):
            found |= options_in(re.split(r"\s{2,}", s)[0])
        elif s.startswith("Usage:") or (line[:1] == " " and s.startswith(("pfd ", "hostexec "))):
            found |= options_in(line)
    return found


def run(argv):
    """stdout+stderr and exit code of argv, run in an empty directory (the old
    `pfd install-units --help` made a directory named --help)."""
    with tempfile.TemporaryDirectory() as cwd:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=30,
                           env={**os.environ, "PFD_SOCKET": os.path.join(cwd, "none.sock")})
        left = os.listdir(cwd)
    return p.stdout + p.stderr, p.returncode, left


def man_structure(path):
    """{(section, subsection): set of options defined there}."""
    found = {}
    section = subsection = ""
    lines = open(path, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("## "):
            subsection = line[3:].strip()
        elif line.startswith("# "):
            section, subsection = line[2:].strip(), ""
        elif line.startswith("*-") and i + 1 < len(lines) and lines[i + 1].startswith("\t"):
            term = line.replace("*", "").replace("_", "")
            found.setdefault((section, subsection), set()).update(options_in(term))
    return found


def describe(s):
    return " ".join(sorted(s)) or "none"


def verbs_in(usage):
    """The verbs a program's --help lists: the first word of each row of its
    "Verbs:" paragraph."""
    rows = usage.split("\nVerbs:\n", 1)[1].split("\n\n", 1)[0] if "\nVerbs:\n" in usage else ""
    return [row.split()[0] for row in rows.splitlines() if row.strip()]


# ---- pfd(1) ------------------------------------------------------------------

usage, code, _ = run([pfd, "--help"])
check(code == 0, "pfd --help exits 0")
VERBS = verbs_in(usage)
check(len(VERBS) >= 10 and "help" in VERBS, f"`pfd --help` lists the verbs: {' '.join(VERBS)}")
verb_usage = {}
for verb in VERBS:
    if verb != "help":  # `pfd help --help`: whatever it prints, `pfd help VERB` is checked below
        verb_usage[verb] = run([pfd, verb, "--help"])
DAEMON_VERBS = [verb for verb, (text, _, _) in verb_usage.items() if "--socket" in options_in_help(text)]

man = man_structure(os.path.join(src, "man/pfd.1.scd"))
common = man.get(("COMMON OPTIONS", ""), set())
general = man.get(("GENERAL OPTIONS", ""), set())
verb_options = {}
for (section, subsection), opts in man.items():
    if section == "COMMANDS":
        m = re.match(r"pfd (\S+)", subsection)
        if m:
            verb_options[m.group(1)] = opts
man_all = set().union(*man.values())

check(common >= {"--socket", "--project", "--config"}, f"pfd(1) COMMON OPTIONS: {describe(common)}")
check(general >= {"--help", "--version"}, f"pfd(1) GENERAL OPTIONS: {describe(general)}")
sections = re.findall(r"^# (.+)$", open(os.path.join(src, "man/pfd.1.scd"), encoding="utf-8").read(), re.M)
for needed in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES",
               "SEE ALSO"]:
    check(needed in sections, f"pfd(1) has {needed}")
headings = re.findall(r"^## pfd (\S+)", open(os.path.join(src, "man/pfd.1.scd"), encoding="utf-8").read(), re.M)
for verb in VERBS:
    check(verb in headings, f"pfd(1) describes pfd {verb}")

help_all = options_in_help(usage)

verb_help = {}
for verb, (text, code, left) in verb_usage.items():
    check(code == 0 and not left and "usage" in text.lower(), f"`pfd {verb} --help` prints a usage, exit 0")
    verb_help[verb] = options_in_help(text)
    same, _, _ = run([pfd, "help", verb])
    check(same == text, f"`pfd help {verb}` prints what `pfd {verb} --help` does")

missing = help_all - man_all
check(not missing, f"every option of `pfd --help` is in pfd(1) (missing: {describe(missing)})")
for verb, opts in verb_help.items():
    allowed = verb_options.get(verb, set()) | general | (common if verb in DAEMON_VERBS else set())
    missing = opts - allowed
    check(not missing, f"every option of `pfd {verb} --help` is in its pfd(1) section (missing: {describe(missing)})")
    expected = verb_options.get(verb, set()) | (common if verb in DAEMON_VERBS else set())
    missing = expected - opts
    check(not missing, f"`pfd {verb} --help` names every option pfd(1) gives it (missing: {describe(missing)})")

printed = help_all.union(*verb_help.values())
missing = man_all - printed
check(not missing, f"every option in pfd(1) is printed by a --help (missing: {describe(missing)})")

# The bash completion offers each verb the options pfd(1) gives it (the zsh
# and fish ones are checked against it by tests/completions_test.sh).
bash_completion = next((f for f in ["/usr/share/bash-completion/bash_completion", "/etc/bash_completion"]
                        if os.access(f, os.R_OK)), None)


def bash_offers(script, command, line):
    shell = f"""source {bash_completion}; source {os.path.join(src, "completions", script)}
COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; read -ra COMP_WORDS <<<"$COMP_LINE"; COMP_WORDS+=(--)
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_LINE+=" --"; COMP_POINT=${{#COMP_LINE}}
_{command} {command} -- 2>/dev/null; printf '%s\\n' "${{COMPREPLY[@]}}" """
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", shell], capture_output=True, text=True).stdout
    return {o.rstrip("=") for o in out.split()}


def long_only(opts):
    return {o for o in opts if o.startswith("--")}


if not bash_completion:
    print("note  bash-completion is not installed: the completions' options are not compared")
else:
    for verb in VERBS:
        expected = long_only(verb_options.get(verb, set()) | (common if verb in DAEMON_VERBS else set())) | {"--help"}
        offered = bash_offers("pfd.bash", "pfd", f"pfd {verb}")
        check(offered == expected, f"bash completes `pfd {verb} --` with its pfd(1) options "
                                   f"(missing: {describe(expected - offered)}; extra: {describe(offered - expected)})")

# ---- hostexec(1) -------------------------------------------------------------

man = man_structure(os.path.join(src, "man/hostexec.1.scd"))
man_opts = man.get(("OPTIONS", ""), set())
text, code, _ = run([hostexec, "--help"])
check(code == 0, "hostexec --help exits 0")
help_opts = options_in_help(text)
missing = help_opts - man_opts
check(not missing, f"every option of `hostexec --help` is in hostexec(1) OPTIONS (missing: {describe(missing)})")
missing = man_opts - help_opts
check(not missing, f"every option in hostexec(1) is in `hostexec --help` (missing: {describe(missing)})")
if bash_completion:
    offered = bash_offers("hostexec.bash", "hostexec", "hostexec") - {"--"}
    expected = long_only(man_opts)
    check(offered == expected, f"bash completes `hostexec --` with the hostexec(1) options "
                               f"(missing: {describe(expected - offered)}; extra: {describe(offered - expected)})")

# ---- pfd.toml(5) -------------------------------------------------------------

def section_keys(path, section_line, key_line, other_heading=None):
    """(section, key) pairs of a file: section_line opens a section, key_line
    names a key in it, other_heading (if any) closes it."""
    found, section = set(), None
    for line in open(os.path.join(src, path), encoding="utf-8"):
        if m := re.match(section_line, line):
            section = m.group(1)
        elif other_heading and re.match(other_heading, line):
            section = None
        elif section is not None and (m := re.match(key_line, line)):
            found.add((section, m.group(1)))
    return found


keys = section_keys("config/pfd.toml", r"\[(\w+)\]\s*$", r"(\w+)\s*=")
documented = section_keys("man/pfd.toml.5.scd", r"# \[(\w+)\]\s*$", r"\*(\w+)\* =", r"# ")
check(len(keys) > 30, f"config/pfd.toml has {len(keys)} keys")
missing = {f"[{s}] {k}" for s, k in keys - documented}
check(not missing, f"pfd.toml(5) documents every key of config/pfd.toml (missing: {describe(missing)})")
extra = {f"[{s}] {k}" for s, k in documented - keys}
check(not extra, f"pfd.toml(5) documents no key config/pfd.toml lacks (extra: {describe(extra)})")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
