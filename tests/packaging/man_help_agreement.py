#!/usr/bin/env python3
"""The man pages agree with the programs' own --help, and render cleanly.

    man_help_agreement.py PSI PSI_HUB MAN_DIR

Walks every command `PROG --help` lists and every subcommand each command's
--help lists (psi audit verify, ...), so a command or an option added to a
program is checked without touching this test. For each program and its
page (psi -> psi.1, psi-hub -> psi-hub.8):
  - each command has its own subsection "PROG CMD [SUB]" in the page;
  - every option its --help prints is described in that subsection: a
    definition term "-s, --long ARG" or "--long ARG" (a mention in the
    synopsis or the prose is not enough); -h/--help once for the page;
  - every option the subsection defines is still printed by --help (no stale
    option), and no subsection names a command the program no longer has;
  - `man -l` renders the page with nothing on stderr, and groff -ww (all
    warnings) is silent.
psi-indicators.7 must describe every type `psi ingest --help` lists and the
rules version `psi --version` prints. One line per disagreement; exit 1 on
any, 77 (skipped) when the man pages were not built (no scdoc).
"""
import os
import re
import shutil
import subprocess
import sys

OPTION_LINE = re.compile(r"^  (?:-([A-Za-z0-9]), |    )?--([a-z0-9][a-z0-9-]*)")
# A definition term of a rendered page: at the body's indentation (7).
MAN_TERM = re.compile(r"^ {7}(?:-([A-Za-z0-9]), )?--([a-z0-9][a-z0-9-]*)")

problems = []


def problem(text):
    problems.append(text)


def run(argv, env=None):
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    return done.returncode, done.stdout, done.stderr


def help_of(prog, path):
    rc, out, err = run([prog] + path + ["--help"])
    if rc != 0:
        problem(f"{' '.join([os.path.basename(prog)] + path)} --help exited {rc}: {err.strip()}")
    return out


def commands(prog, name):
    """Every command path of prog, with its help text, depth first."""
    found = []

    def walk(path, text):
        found.append((path, text))
        prefix = "  " + " ".join([name] + path) + " "
        for line in text.splitlines():
            if line.startswith(prefix):
                word = line[len(prefix):].split(" ", 1)[0]
                if re.fullmatch(r"[a-z][a-z0-9-]*", word):
                    walk(path + [word], help_of(prog, path + [word]))

    walk([], help_of(prog, []))
    return found


def options(text):
    """{'--state': None, '--json': 'j', ...} from the option lines of a help text."""
    found = {}
    for line in text.splitlines():
        m = OPTION_LINE.match(line)
        if m:
            found["--" + m.group(2)] = m.group(1)
    return found


def render(page):
    """The page as man shows it, one paragraph a line (no wrapping)."""
    env = dict(os.environ, MANWIDTH="4000", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    rc, out, err = run(["groff", "-k", "-man", "-Tutf8", "-ww", "-z", page], env)
    if rc != 0 or err.strip():
        problem(f"{os.path.basename(page)}: groff -ww: {err.strip() or 'exit %d' % rc}")
    if shutil.which("man"):
        rc, out, err = run(["man", "-l", page], env)
        label = "man -l"
    else:
        rc, out, err = run(["groff", "-k", "-man", "-Tutf8", "-P-cbou", page], env)
        label = "groff -man"
    if rc != 0 or err.strip() or not out.strip():
        problem(f"{os.path.basename(page)}: {label}: exit {rc}: {err.strip() or 'nothing rendered'}")
    return out


def sections(text):
    """{heading: body} for the page's sections (column 0) and subsections (3)."""
    found, heading = {}, ""
    for line in text.splitlines():
        m = re.match(r"^(?:   )?(\S.*?)\s*$", line)
        if m and not line.startswith("    "):
            heading = m.group(1)
            found[heading] = ""
        else:
            found[heading] = found.get(heading, "") + line + "\n"
    return found


def mentions(text, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def check_program(prog, page):
    name = os.path.basename(prog)
    text = render(page)
    secs = sections(text)
    known = set()
    for path, help_text in commands(prog, name):
        opts = options(help_text)
        if not path:
            continue
        heading = " ".join([name] + path)
        known.add(heading)
        if heading not in secs:
            problem(f"{os.path.basename(page)}: no section '{heading}' for a command '{name} --help' lists")
            continue
        defined = {}
        for line in secs[heading].splitlines():
            m = MAN_TERM.match(line)
            if m:
                defined["--" + m.group(2)] = m.group(1)
        for long_name, short in opts.items():
            if long_name == "--help":
                continue
            if long_name not in defined:
                problem(f"{os.path.basename(page)}: '{heading}' does not describe {long_name} ('{heading} --help' prints it)")
            elif short != defined[long_name]:
                problem(f"{os.path.basename(page)}: '{heading}' describes {long_name} without its short name -{short} ('{heading} --help' prints it)")
        for long_name in defined:
            if long_name not in opts:
                problem(f"{os.path.basename(page)}: '{heading}' describes {long_name}, which '{heading} --help' does not print")
    for heading in secs:
        if heading.startswith(name + " ") and heading not in known:
            problem(f"{os.path.basename(page)}: section '{heading}' names no command of {name}")
    for word in ("-h", "--help", "--version"):
        if not mentions(text, word):
            problem(f"{os.path.basename(page)}: {word} is not described")


def check_indicators(psi, page):
    text = render(page)
    rc, out, _ = run([psi, "--version"])
    m = re.search(r"indicator rules (\d+)", out)
    if not m:
        problem(f"psi --version names no indicator rules: '{out.strip()}'")
    elif f"rules version {m.group(1)}" not in " ".join(text.split()):
        problem(f"{os.path.basename(page)}: does not describe rules version {m.group(1)} (psi --version)")
    m = re.search(r"^Types: (.*?)\.?$", help_of(psi, ["ingest"]), re.M)
    if not m:
        problem("psi ingest --help lists no 'Types:'")
        return
    types = sections(text).get("TYPES", "")
    for t in m.group(1).split():
        if not mentions(types, t):
            problem(f"{os.path.basename(page)}: TYPES lacks '{t}' (psi ingest --help lists it)")


def main():
    if len(sys.argv) != 4:
        print("usage: man_help_agreement.py PSI PSI_HUB MAN_DIR", file=sys.stderr)
        return 2
    psi, hub, man_dir = sys.argv[1:]
    pages = {p: os.path.join(man_dir, p) for p in ("psi.1", "psi-hub.8", "psi-indicators.7")}
    missing = [p for p, f in pages.items() if not os.path.isfile(f)]
    if missing:
        print(f"man_help_agreement: SKIPPED: no {', '.join(missing)} in {man_dir} "
              "(scdoc was not found at configure time; scripts/setup.sh installs it)")
        return 77
    check_program(psi, pages["psi.1"])
    check_program(hub, pages["psi-hub.8"])
    check_indicators(psi, pages["psi-indicators.7"])
    for p in problems:
        print("man_help_agreement: FAIL: " + p, file=sys.stderr)
    if problems:
        return 1
    print("man_help_agreement: OK (every option of every --help is in psi.1 and psi-hub.8; "
          "pages render without warnings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
