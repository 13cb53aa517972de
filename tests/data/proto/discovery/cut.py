#!/usr/bin/env python3
"""Cut whole Ethernet frames out of the shared captures into <name>.hex: one `FRAME HEX` line per frame.
Usage: ./cut.py fixtures.txt   ($PCAPS, default /work/shared/pcaps, holds the captures; classic pcap only)"""
import os, struct, sys

pcaps = os.environ.get("PCAPS", "/work/shared/pcaps")
here = os.path.dirname(os.path.abspath(__file__))


def frames(path):
    b = open(path, "rb").read()
    if b[:4] == b"\x0a\x0d\x0d\x0a":
        yield from ng_frames(b)
        return
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit(f"{path}: not a classic pcap")
    off, n = 24, 0
    while off + 16 <= len(b):
        incl = struct.unpack(e + "I", b[off + 8:off + 12])[0]
        n += 1
        yield n, b[off + 16:off + 16 + incl]
        off += 16 + incl


def ng_frames(b):
    """pcapng: enhanced (6) and simple (3) packet blocks, in file order"""
    e = "<" if b[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off, n = 0, 0
    while off + 12 <= len(b):
        btype, blen = struct.unpack(e + "II", b[off:off + 8])
        if blen < 12:
            break
        body = b[off + 8:off + blen - 4]
        if btype == 6:
            incl = struct.unpack(e + "I", body[12:16])[0]
            n += 1
            yield n, body[20:20 + incl]
        elif btype == 3:
            n += 1
            yield n, body[4:]
        off += blen


def want(spec, n):
    if spec == "all":
        return True
    for part in spec.split(","):
        a, _, z = part.partition("-")
        if int(a) <= n <= int(z or a):
            return True
    return False


for line in open(sys.argv[1]):
    line = line.split("#")[0].split()
    if not line:
        continue
    name, cap, spec = line
    with open(os.path.join(here, name + ".hex"), "w") as f:
        for n, fr in frames(os.path.join(pcaps, cap)):
            if want(spec, n):
                f.write(f"{n} {fr.hex()}\n")
