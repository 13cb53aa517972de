"""tests/e2e_common.py - shared helpers for the end-to-end tests: run otsense, count checks, print the RESULT line."""
import json
import os
import subprocess
import sys
import tempfile


class Checks:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed += 1
            print(f"  FAIL {what} {detail}")
        return ok

    def finish(self):
        print(f"\nRESULT {self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def run_sensor(binary, args, timeout=120):
    """Run otsense with --summary-json; returns (returncode, summary dict or None, stdout, stderr)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as t:
        path = t.name
    try:
        os.unlink(path)
        r = subprocess.run([binary, *args, "--summary-json", path], capture_output=True, text=True, timeout=timeout)
        summary = None
        if os.path.exists(path):
            with open(path) as f:
                summary = json.load(f)
        return r.returncode, summary, r.stdout, r.stderr
    finally:
        if os.path.exists(path):
            os.unlink(path)


def accounting_ok(s):
    return s["received"] == s["processed"] + s["dropped"] and s["dropped"] == sum(
        v for k, v in s["drops"].items() if not k.startswith("port_"))


def find_pcaps(given=None):
    """The shared capture corpus: the given dir, $OTS_PCAPS, ../shared/pcaps beside the repository (as CI has
    it), or /work/shared/pcaps; the first that exists (None if none does)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (given, os.environ.get("OTS_PCAPS"), os.path.join(here, "..", "..", "shared", "pcaps"),
              "/work/shared/pcaps"):
        if d and os.path.isdir(d):
            return d
    return None
