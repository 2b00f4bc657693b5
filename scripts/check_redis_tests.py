"""Fail unless the real-Redis tests ran and passed (a skip is not good enough)."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REAL_REDIS_MARK = "[real]"


def main(path: str) -> int:
    cases = ET.parse(Path(path)).getroot().iter("testcase")  # noqa: S314 - our own file
    ran = skipped = 0
    for case in cases:
        if REAL_REDIS_MARK not in case.get("name", "") and "test_collector" not in case.get(
            "classname", ""
        ):
            continue
        if case.find("skipped") is not None:
            skipped += 1
        elif case.find("failure") is None and case.find("error") is None:
            ran += 1
    print(f"real-Redis tests passed: {ran}, skipped: {skipped}")
    if ran == 0 or skipped:
        print("FAIL: the real-Redis tests must run, not skip", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
