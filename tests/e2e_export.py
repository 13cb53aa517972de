#!/usr/bin/env python3
"""tests/e2e_export.py - records out of the real sensor on real captures, without Kafka.

- JSON lines sink: one object per record; every ended flow is one Flow record whose 5-tuple, packets and bytes
  add up to the run's totals; a SensorHealth record at exit; (bootId, sequence) is 1..N without gaps or repeats;
  counts equal what the summary says was emitted.
- Protobuf file sink: the same records, length-delimited; otsense-cat -f turns them into exactly the JSON lines
  the JSON sink wrote.
- Default sink: with no --json and no Kafka, records go to stdout as JSON lines and the human summary to stderr.

usage: e2e_export.py OTSENSE OTSENSE_CAT TEST_DATA_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checks, run_sensor  # noqa: E402


def load_lines(path):
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def main():
    binary, cat, data = sys.argv[1], sys.argv[2], sys.argv[3]
    c = Checks("e2e_export")
    pcap = os.path.join(data, "pcaps", "zeek_modbus_modbusSmall.pcap")
    with tempfile.TemporaryDirectory() as d:
        js, pb = os.path.join(d, "r.json"), os.path.join(d, "r.pb")
        rc, s, out, err = run_sensor(binary, ["-q", "--pcap", pcap, "--json", js, "--protobuf", pb])
        if not c.check("run with --json and --protobuf", rc == 0 and s is not None, err[-300:]):
            c.finish()
        lines = load_lines(js)
        recs = []
        for l in lines:
            try:
                recs.append(json.loads(l))
            except ValueError:
                pass
        c.check("every JSON line is one valid object", len(recs) == len(lines) and len(lines) > 0,
                f"{len(recs)} of {len(lines)}")
        emitted = s["export"]["records"]
        by_type = {}
        for r in recs:
            by_type[r.get("type")] = by_type.get(r.get("type"), 0) + 1
        c.check(f"record counts by type equal the summary {emitted}",
                all(by_type.get(k, 0) == v for k, v in emitted.items()) and sum(emitted.values()) == len(recs),
                f"json {by_type}")
        c.check("one Flow record per flow", by_type.get("flow") == s["flows"]["total"],
                f"flows {s['flows']['total']} records {by_type.get('flow')}")
        c.check("a SensorHealth record at exit", by_type.get("health", 0) >= 1)
        seqs = sorted(int(r["sequence"]) for r in recs)
        boots = {r["bootId"] for r in recs}
        c.check("sequence numbers 1..N, no gap, no repeat, one boot", seqs == list(range(1, len(recs) + 1)) and
                len(boots) == 1 and str(s["export"]["boot_id"]) == str(boots.pop()), f"{seqs[:5]}...")
        c.check("envelope carries sensor id and schema version",
                all(r.get("sensorId") == "otsense" and r.get("schemaVersion") == 1 for r in recs))
        flows = [r["flow"] for r in recs if r["type"] == "flow"]
        pk = sum(int(f.get("packetsToServer", 0)) + int(f.get("packetsToClient", 0)) for f in flows)
        by = sum(int(f.get("bytesToServer", 0)) + int(f.get("bytesToClient", 0)) for f in flows)
        c.check(f"flow records add up to the run's packets ({s['packets']}) and bytes ({s['bytes']})",
                pk == s["packets"] - s["packets_without_flow"] and by <= s["bytes"], f"packets {pk} bytes {by}")
        modbus = [f for f in flows if f.get("appProtocol") == "modbus"]
        ok = len(modbus) == 16 and all(f["tuple"]["dstPort"] == 502 and f["tuple"]["srcIp"] == "118.189.96.132"
                                       for f in modbus)
        c.check("16 Modbus flows, client -> server :502, addresses as text", ok, json.dumps(modbus[:1]))
        c.check("all-zero Ethernet addresses (this capture's) are left out", all("srcMac" not in f for f in flows),
                json.dumps(flows[:1]))
        js2 = os.path.join(d, "dnp3.json")
        rc2, s2, _, err2 = run_sensor(binary, ["-q", "--pcap", os.path.join(data, "pcaps", "nDPI_dnp3.pcap"),
                                               "--json", js2])
        f2 = [json.loads(l)["flow"] for l in load_lines(js2) if '"type":"flow"' in l]
        c.check("flows carry the endpoints' Ethernet addresses", rc2 == 0 and f2 and all(
            len(f.get("srcMac", "")) == 17 and len(f.get("dstMac", "")) == 17 for f in f2), json.dumps(f2[:1]))
        # the protobuf file decodes to the same JSON lines
        r = subprocess.run([cat, "-f", pb], capture_output=True, text=True)
        c.check("otsense-cat -f decodes the protobuf file to the same JSON lines as the JSON sink",
                r.returncode == 0 and r.stdout.splitlines() == lines,
                f"rc={r.returncode} err={r.stderr[-200:]} first={r.stdout.splitlines()[:1]} vs {lines[:1]}")
        # default sink: stdout
        p = subprocess.run([binary, "--pcap", pcap], capture_output=True, text=True)
        out_lines = [l for l in p.stdout.splitlines() if l.strip()]
        ok = p.returncode == 0 and len(out_lines) == len(lines) and all(
            json.loads(l)["type"] in ("flow", "health", "asset", "alert") for l in out_lines)
        c.check("default: JSON lines on stdout, the human summary on stderr",
                ok and "accounting: received" in p.stderr and "accounting" not in p.stdout, p.stderr[-300:])
        # unwritable JSON target: one-line error, exit 2 or 1, nothing half started
        p = subprocess.run([binary, "--pcap", pcap, "--json", "/nonexistent/dir/r.json"], capture_output=True,
                           text=True)
        lines_err = [l for l in p.stderr.splitlines() if l.strip()]
        c.check("unwritable --json target: one line naming it", p.returncode != 0 and len(lines_err) == 1 and
                "/nonexistent/dir/r.json" in lines_err[0], p.stderr)
    c.finish()


if __name__ == "__main__":
    main()
