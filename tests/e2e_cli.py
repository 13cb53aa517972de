#!/usr/bin/env python3
"""tests/e2e_cli.py - the command line as a user meets it: bad input refused in one line, clean stop on signals,
looped replay, live capture on a veth pair (AF_PACKET, two queues with kernel fanout).

usage: e2e_cli.py OTSENSE_BINARY TEST_DATA_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checks, accounting_ok, run_sensor  # noqa: E402


def run(binary, *args, timeout=60):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(c, what, r, *needles, code=2):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode == code and len(lines) == 1 and all(n in lines[0] for n in needles)
    c.check(f"{what}: exit {code}, one line naming {needles}", ok, f"rc={r.returncode} stderr={r.stderr!r}")


def bad_input(c, binary, data):
    pcap = os.path.join(data, "pcaps", "zeek_modbus_modbusSmall.pcap")
    one_line_error(c, "missing pcap", run(binary, "--pcap", "/nonexistent/x.pcap"), "/nonexistent/x.pcap",
                   "No such file")
    one_line_error(c, "not a pcap", run(binary, "--pcap", os.path.join(data, "pcaps", "expected.json")),
                   "expected.json", "cannot open pcap")
    one_line_error(c, "unknown interface", run(binary, "--iface", "nosuchif0"), "nosuchif0", "does not exist")
    one_line_error(c, "too many workers", run(binary, "--pcap", pcap, "--workers", "64"), "dataplane.workers=64",
                   "shared_cores")
    one_line_error(c, "bad --workers", run(binary, "--pcap", pcap, "--workers", "zero"), "--workers", "zero")
    one_line_error(c, "no port", run(binary), "--pcap")
    one_line_error(c, "unknown option", run(binary, "--pacp", pcap), "--pacp")
    one_line_error(c, "two ports", run(binary, "--pcap", pcap, "--iface", "lo"), "only one")
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write("flow:\n  capacity: 1000\n  timeout:\n    udp: 60\n")
        one_line_error(c, "config value out of range", run(binary, "-c", bad, "--pcap", pcap),
                       "bad.yaml:2", "flow.capacity", "1000")
        with open(bad, "w") as f:
            f.write("dataplane:\n  wrokers: 2\n")
        one_line_error(c, "config unknown key", run(binary, "-c", bad, "--pcap", pcap), "bad.yaml:2",
                       "dataplane.wrokers", "dataplane.workers")
        with open(bad, "w") as f:
            f.write("stats:\n  interval: often\n")
        one_line_error(c, "config wrong type", run(binary, "--check-config", bad), "bad.yaml:2", "stats.interval",
                       "often")
        one_line_error(c, "bad --set", run(binary, "--pcap", pcap, "--set", "flow.capacity=lots"), "flow.capacity",
                       "lots")
        good = os.path.join(d, "good.yaml")
        with open(good, "w") as f:
            f.write("sensor:\n  id: plant-a-span1\nflow:\n  capacity: 65536\n")
        r = run(binary, "--check-config", good)
        c.check("--check-config on a good file: exit 0, prints the effective config",
                r.returncode == 0 and "plant-a-span1" in r.stdout and "65536" in r.stdout, r.stderr)
        rc, s, out, err = run_sensor(binary, ["-c", good, "--pcap", pcap])
        c.check("config file applied to a run (sensor id in the summary)", rc == 0 and s and
                s["sensor_id"] == "plant-a-span1", err)
    r = run(binary, "--help")
    c.check("--help documents the CLI", r.returncode == 0 and all(
        o in r.stdout for o in ("--pcap", "--iface", "--workers", "--summary-json", "-c FILE", "--check-config")))
    r = run(binary, "--help-config")
    c.check("--help-config lists keys with defaults", r.returncode == 0 and "flow.capacity" in r.stdout and
            "1048576" in r.stdout)


def signals_and_loop(c, binary, data):
    pcap = os.path.join(data, "pcaps", "nDPI_dnp3.pcap")
    for sig in (signal.SIGINT, signal.SIGTERM):
        with tempfile.TemporaryDirectory() as d:
            js = os.path.join(d, "s.json")
            p = subprocess.Popen([binary, "--pcap", pcap, "--pcap-loop", "--summary-json", js,
                                  "--set", "stats.interval=1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            time.sleep(2.5)
            p.send_signal(sig)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            s = json.load(open(js)) if os.path.exists(js) else None
            ok = p.returncode == 0 and s is not None and s["packets"] > 10 * 834 and accounting_ok(s)
            c.check(f"{signal.Signals(sig).name} stops a looped replay cleanly with final counters", ok,
                    f"rc={p.returncode} summary={s and s['packets']} err={err[-300:]!r}")
            c.check(f"{signal.Signals(sig).name}: summary printed, periodic stats lines seen",
                    "accounting: received" in err and "stats t=" in err, f"err={err[-300:]!r}")
    rc, s, out, err = run_sensor(binary, ["-q", "--pcap", pcap, "--pcap-loop", "--duration", "1.5"])
    c.check("--duration stops a looped replay", rc == 0 and s and s["seconds"] >= 1.4 and s["packets"] > 834 and
            accounting_ok(s), err)


def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def live_iface(c, binary, data):
    """veth pair: tcpreplay into one end, otsense on the other with 2 workers/2 AF_PACKET queues."""
    a, b = "otsv0", "otsv1"
    sh("ip", "link", "del", a)
    if sh("ip", "link", "add", a, "type", "veth", "peer", "name", b).returncode != 0:
        c.check("veth pair for the live-capture test (needs root and iproute2)", False, "ip link add failed")
        return
    try:
        for i in (a, b):
            sh("ip", "link", "set", i, "mtu", "9000", "up")  # the capture has a 1665-byte frame
            sh("sysctl", "-qw", f"net.ipv6.conf.{i}.disable_ipv6=1")
        pcap = os.path.join(data, "pcaps", "DI-cryptominingdetection_cgminer.s0.pcapng")
        with tempfile.TemporaryDirectory() as d:
            js = os.path.join(d, "s.json")
            p = subprocess.Popen([binary, "-q", "--iface", b, "--workers", "2", "--set", "dataplane.shared_cores=true",
                                  "--summary-json", js], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(3)
            r = sh("tcpreplay", "-q", "--intf1=" + a, "--pps=2000", pcap)
            time.sleep(2)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=30)
            s = json.load(open(js)) if os.path.exists(js) else None
            if not c.check("live capture on a veth (net_af_packet, 2 queue pairs): clean run", p.returncode == 0 and s,
                           f"rc={p.returncode} tcpreplay={r.returncode} {r.stderr[-200:]} err={err[-300:]}"):
                return
            c.check("live capture: every replayed frame received and accounted (855)",
                    s["packets"] >= 855 and accounting_ok(s) and s["drops"]["port_imissed"] == 0,
                    f"packets={s['packets']} drops={s['drops']}")
            c.check("live capture: TCP conversations as in the file (304)", s["flows"]["tcp"] == 304,
                    f"tcp={s['flows']['tcp']}")
            c.check("live capture: kernel fanout fed both workers", all(w["received"] > 0 for w in s["workers"]),
                    f"workers={s['workers']}")
    finally:
        sh("ip", "link", "del", a)


def main():
    binary, data = sys.argv[1], sys.argv[2]
    c = Checks("e2e_cli")
    bad_input(c, binary, data)
    signals_and_loop(c, binary, data)
    live_iface(c, binary, data)
    c.finish()


if __name__ == "__main__":
    main()
