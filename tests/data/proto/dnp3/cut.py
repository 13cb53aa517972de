#!/usr/bin/env python3
"""cut.py MANIFEST [PCAPS] - cut unit-test fixtures (application payloads) out of the shared captures with tshark.

MANIFEST lines: NAME CAPTURE PORT FRAMES   (FRAMES: "all" or a list like 1-6,9; '#' starts a comment)
writes NAME.hex next to the manifest:
    # header: capture, frames, port
    FRAME DIR TRANSPORT HEX
DIR 0 = sent to the well-known PORT (client -> server), 1 = sent from it; when both ports are PORT (BACnet), 0 = sent
by the source address of the first cut packet. TRANSPORT 6 (TCP payload) or 17 (UDP datagram). Packets without
payload and TCP retransmissions (tcp.analysis.retransmission) are left out: the tests feed what reassembly delivers.
Used by tests/data/proto/dnp3 and tests/data/proto/bacnet (PCAPS default: $OTS_PCAPS or /work/shared/pcaps).
"""
import os
import subprocess
import sys


def frames_wanted(spec):
    if spec == "all":
        return None
    out = set()
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def main():
    manifest = sys.argv[1]
    pcaps = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("OTS_PCAPS", "/work/shared/pcaps")
    outdir = os.path.dirname(os.path.abspath(manifest))
    for line in open(manifest):
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, cap, port, spec = line.split()
        want = frames_wanted(spec)
        r = subprocess.run(["tshark", "-r", os.path.join(pcaps, cap), "-Y", "tcp.len > 0 || udp", "-T", "fields",
                            "-e", "frame.number", "-e", "ip.src", "-e", "tcp.srcport", "-e", "tcp.dstport",
                            "-e", "udp.srcport", "-e", "udp.dstport", "-e", "tcp.payload", "-e", "udp.payload",
                            "-e", "tcp.analysis.retransmission"], capture_output=True, text=True, check=True)
        rows, first = [], None
        for f in r.stdout.splitlines():
            num, src, tsp, tdp, usp, udp_, tpl, upl, retr = (f.split("\t") + [""] * 9)[:9]
            if want is not None and int(num) not in want:
                continue
            if retr:
                continue
            tr = 6 if tsp else 17
            sp, dp = (tsp, tdp) if tr == 6 else (usp, udp_)
            pl = tpl if tr == 6 else upl
            if not pl:
                continue
            if first is None:
                first = src
            if sp == port and dp == port:
                d = 0 if src == first else 1
            else:
                d = 0 if dp == port else 1
            rows.append(f"{num} {d} {tr} {pl}")
        with open(os.path.join(outdir, name + ".hex"), "w") as o:
            o.write(f"# {name}: cut from $PCAPS/{cap}, frames {spec}, port {port} (cut.py; see README.md)\n")
            o.write("# frame dir transport payload-hex\n")
            o.write("\n".join(rows) + "\n")
        print(f"{name}.hex: {len(rows)} payloads from {cap}")


if __name__ == "__main__":
    main()
