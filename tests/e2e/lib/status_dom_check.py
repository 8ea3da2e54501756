#!/usr/bin/env python3
"""Checks the status page as Chromium rendered it (--dump-dom) against the
hub's /status.json and the parties' own results.

  status_dom_check.py DOM STATUS_JSON RESULTS_TSV

RESULTS_TSV: every party's results as "ID<TAB>type<TAB>value<TAB>peer,peer"
(results_flat of the harness). The rendered page must list every participant
of the roster, hold exactly one map cell per ordered pair of matching
participants with the count /status.json gives, and that count must be the
number of the row party's indicators the column party holds, as the row
party's own results say. Prints one line per failure and exits 1.
"""
import json
import sys
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.participants = []
        self.cells = {}
        self.duplicates = []
        self.cell = None
        self.text = ""
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and a.get("class") == "participant":
            self.participants.append(a.get("data-id"))
        if tag == "td" and a.get("class") == "cell":
            self.cell = (a.get("data-a"), a.get("data-b"), a.get("data-count"))
            self.text = ""

    def handle_data(self, data):
        if self.cell is not None:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            a, b, count = self.cell
            if (a, b) in self.cells:
                self.duplicates.append((a, b))
            self.cells[(a, b)] = (count, self.text.strip())
            self.cell = None


def main():
    page = Page()
    page.feed(open(sys.argv[1], encoding="utf-8").read())
    status = json.load(open(sys.argv[2], encoding="utf-8"))
    seen = {}
    for line in open(sys.argv[3], encoding="utf-8"):
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 4 and fields[3]:
            for peer in fields[3].split(","):
                seen[(fields[0], peer)] = seen.get((fields[0], peer), 0) + 1
    failures = []
    roster = [p["id"] for p in status["participants"]]
    if sorted(page.participants) != sorted(roster):
        failures.append(f"participants on the page {page.participants} != roster {roster}")
    matchers = status["overlap"]["participants"]
    want = {(a, b) for a in matchers for b in matchers if a != b}
    if set(page.cells) != want:
        failures.append(f"map cells {sorted(page.cells)} != ordered pairs {sorted(want)}")
    if page.duplicates:
        failures.append(f"cells twice: {page.duplicates}")
    pairs = {(x["a"], x["b"]): x["matches"] for x in status["overlap"]["pairs"]}
    for (a, b), (count, text) in sorted(page.cells.items()):
        if count != text or not text.isdigit():
            failures.append(f"cell ({a},{b}) says {text!r}, its data-count {count!r}")
            continue
        if int(text) != pairs.get((a, b)):
            failures.append(f"cell ({a},{b}) is {text}, /status.json {pairs.get((a, b))}")
        if int(text) != seen.get((a, b), 0):
            failures.append(f"cell ({a},{b}) is {text}, {a}'s results {seen.get((a, b), 0)}")
    if page.scripts:
        failures.append(f"{page.scripts} script elements")
    if sum(pairs.values()) == 0:
        failures.append("the map is all zeros: nothing was tested")
    for f in failures:
        print(f"status_dom_check: {f}")
    if failures:
        sys.exit(1)
    print(f"{len(page.participants)} participants, {len(page.cells)} cells, "
          f"{sum(pairs.values())} matches in the map")


if __name__ == "__main__":
    main()
