"""Fail unless the real-Redis tests ran and passed (a skip is not good enough): on one node
("[real]" in the test id, and the collector tests), on a Cluster ("[cluster]") and on a
Sentinel group ("[sentinel]"), the test matrix of tests/conftest.py."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

KINDS = ("real", "cluster", "sentinel")


def kind_of(case: ET.Element) -> str | None:
    name = case.get("name", "")
    for kind in KINDS:
        if f"[{kind}]" in name or f"[{kind}-" in name or f"-{kind}]" in name:
            return kind
    return "real" if "test_collector" in case.get("classname", "") else None


def main(path: str) -> int:
    cases = ET.parse(Path(path)).getroot().iter("testcase")  # noqa: S314 - our own file
    ran = dict.fromkeys(KINDS, 0)
    skipped = dict.fromkeys(KINDS, 0)
    for case in cases:
        kind = kind_of(case)
        if kind is None:
            continue
        if case.find("skipped") is not None:
            skipped[kind] += 1
        elif case.find("failure") is None and case.find("error") is None:
            ran[kind] += 1
    failed = False
    for kind in KINDS:
        print(f"real-Redis tests ({kind}) passed: {ran[kind]}, skipped: {skipped[kind]}")
        if ran[kind] == 0 or skipped[kind]:
            print(f"FAIL: the {kind} Redis tests must run, not skip", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
