#!/usr/bin/env python3
"""scripts/tally.py - sum a meson test run into "N passed, N failed" (tests, not suites).

Reads BUILD/meson-logs/testlog.json. A suite's "RESULT name: N passed, N failed" lines count as they are; a
suite that printed none counts as one test (passed if meson says OK); a suite meson calls failed (crash, timeout,
non-zero exit, skip) whose own lines report no failure counts one extra failure, so nothing is hidden.
Prints the per-suite lines and failure details, then the totals as the last line: "N passed, N failed".
"""
import json
import re
import sys

RESULT = re.compile(r"^RESULT (\S+): (\d+) passed, (\d+) failed", re.M)


def main():
    build = sys.argv[1]
    passed = failed = 0
    with open(f"{build}/meson-logs/testlog.json") as f:
        runs = [json.loads(l) for l in f if l.strip()]
    for r in runs:
        out = (r.get("stdout") or "") + (r.get("stderr") or "")
        ok = r.get("result") == "OK"
        lines = RESULT.findall(out)
        p = sum(int(x[1]) for x in lines)
        fl = sum(int(x[2]) for x in lines)
        if not lines:
            p, fl = (1, 0) if ok else (0, 1)
        elif not ok and fl == 0:
            fl = 1
        passed += p
        failed += fl
        print(f"  [{build}] {r['name']}: {r.get('result')} ({p} passed, {fl} failed)")
        if fl:
            details = [l for l in out.splitlines()
                       if l.startswith("  FAIL ") or "had failures" in l or re.match(r"^ +\d+\. ", l)
                       or "ERROR: AddressSanitizer" in l or "runtime error" in l]
            for l in details[:30]:
                print(f"  [{build}]   {l}")
    print(f"{passed} passed, {failed} failed")


if __name__ == "__main__":
    main()
