#!/usr/bin/env python3
"""The operator's guide as tests/system/run executes it.

    guide.py GUIDE README DIR

Every ```sh block of GUIDE must follow a marker line, either
`<!-- system-test: run ... -->` or `<!-- system-test: not run: REASON -->`,
so that no block is left out silently. Each block marked run is written to
DIR/NN.sh, word for word, with its line number in DIR/NN.line. Every command
README's "Running it" shows (a `code` span starting with a command the
guide uses) must appear in one of those blocks: the README cannot tell the
operator something the test does not run. Prints the number of blocks.
"""

import os
import re
import sys

MARK = re.compile(r"^<!-- system-test: (run|not run: .+?)\s*(\(.*\))?\s*-->$")
COMMANDS = ("sipas ", "sipasd ", "systemctl ", "apt install ", "db = ", "runuser ")


def blocks(text):
    """(line, marker or None, body) for each ```sh block."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i
            prev = lines[i - 1].strip() if i > 0 else ""
            m = MARK.match(prev)
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            out.append((start + 1, m.group(1) if m else None, "\n".join(body) + "\n"))
        i += 1
    return out


def main(guide, readme, outdir):
    found = blocks(open(guide, encoding="utf-8").read())
    unmarked = [line for line, mark, _ in found if mark is None]
    if unmarked:
        sys.exit("%s: ```sh block(s) at line(s) %s lack a <!-- system-test: ... --> marker"
                 % (guide, ", ".join(map(str, unmarked))))
    run = [(line, body) for line, mark, body in found if mark == "run"]
    os.makedirs(outdir, exist_ok=True)
    for n, (line, body) in enumerate(run, 1):
        with open(os.path.join(outdir, "%02d.sh" % n), "w", encoding="utf-8") as f:
            f.write(body)
        with open(os.path.join(outdir, "%02d.line" % n), "w") as f:
            f.write("%d\n" % line)

    text = open(readme, encoding="utf-8").read()
    m = re.search(r"^## Running it\n(.*?)^## ", text, re.S | re.M)
    if not m:
        sys.exit("%s: no \"Running it\" section" % readme)
    spans = re.findall(r"`([^`]+)`", m.group(1).replace("\n   ", " "))
    shown = [s for s in spans if s.startswith(COMMANDS)]
    if not shown:
        sys.exit("%s: \"Running it\" shows no command" % readme)
    runs = "".join(body for _, body in run)
    missing = [s for s in shown if s not in runs]
    if missing:
        sys.exit("%s: \"Running it\" shows commands the guide's run blocks do not have:\n  %s"
                 % (readme, "\n  ".join(missing)))
    print(len(run))


if __name__ == "__main__":
    main(*sys.argv[1:])
