#!/usr/bin/env python3
"""tests/tshark_oracle.py - what tshark says about a capture, in the terms the end-to-end test compares.

  packets               frames in the file
  tcp_conversations     distinct tcp.stream values (Wireshark's TCP conversation: 4-tuple, split on port reuse
                        with a new ISN, not split by a retried SYN)
  udp_conversations     distinct unordered (addr:port, addr:port) pairs from `tshark -z conv,udp`; tshark's raw
                        table lists some UDP request/response pairs twice (SNMP, DNS dissectors make their own
                        conversations), so rows are de-duplicated to get the 5-tuple count

Run as a script to (re)generate tests/data/pcaps/expected.json:  tests/tshark_oracle.py tests/data/pcaps
"""
import json
import os
import subprocess
import sys


def tshark(*args):
    return subprocess.run(["tshark", *args], capture_output=True, text=True, check=True).stdout


def oracle(path):
    packets = len([l for l in tshark("-r", path, "-T", "fields", "-e", "frame.number").splitlines() if l.strip()])
    streams = {l.strip() for l in tshark("-r", path, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream").splitlines()
               if l.strip()}
    pairs = set()
    for line in tshark("-r", path, "-qz", "conv,udp").splitlines():
        if "<->" in line:
            f = line.split()
            pairs.add(tuple(sorted((f[0], f[2]))))
    return {"packets": packets, "tcp_conversations": len(streams), "udp_conversations": len(pairs)}


def version():
    return tshark("--version").splitlines()[0]


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data", "pcaps")
    out = {"_tool": version(), "files": {}}
    for name in sorted(os.listdir(d)):
        if name.endswith((".pcap", ".pcapng")):
            out["files"][name] = oracle(os.path.join(d, name))
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(out['files'])} entries to {d}/expected.json ({out['_tool']})")


if __name__ == "__main__":
    main()
