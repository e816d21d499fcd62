"""Print one closing line for ./test.sh's passes from pytest's JUnit XML reports.

``python scripts/junit_total.py a.xml b.xml`` prints ``total: N passed, N failed, N skipped``
over every test case of the reports (errors count as failed); files that are missing (a pass
that never ran) are left out.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def totals(paths: list[str]) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for path in paths:
        if not Path(path).is_file():
            continue
        for case in ET.parse(path).getroot().iter("testcase"):
            outcomes = {child.tag for child in case}
            if outcomes & {"failure", "error"}:
                failed += 1
            elif "skipped" in outcomes:
                skipped += 1
            else:
                passed += 1
    return passed, failed, skipped


if __name__ == "__main__":
    passed, failed, skipped = totals(sys.argv[1:])
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
