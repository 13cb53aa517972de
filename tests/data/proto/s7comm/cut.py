#!/usr/bin/env python3
"""tests/data/proto/s7comm/cut.py - cut a parser test fixture out of a capture with tshark.

  cut.py [--contiguous] CAPTURE SERVER_PORT [DISPLAY_FILTER] > fixture.txt

The fixture is what the worker's TCP reassembly would hand a parser, one line per delivery, in capture order:
  # ...             comment (capture, filter, tshark version)
  = <stream> syn|mid  the following lines belong to TCP stream <stream> (mid: no SYN seen, picked up mid-stream),
  = u<stream>         ... or to UDP conversation <stream>
  > <hex>           payload sent to the server (destination port SERVER_PORT), < <hex> sent by the server
  > !gap <n>        n bytes of this direction were never captured (tshark: previous segment not captured)
Retransmitted bytes (sequence numbers already delivered) are dropped, like the reassembly does; the default filter
is every TCP segment with payload and every UDP datagram. --contiguous: no gap lines (for a filter that keeps whole
PDUs only, e.g. "enip.command == 0x6f": the kept segments then form a stream of their own).
"""
import subprocess
import sys


def main():
    args = sys.argv[1:]
    contiguous = bool(args) and args[0] == "--contiguous"
    if contiguous:
        args = args[1:]
    pcap, port = args[0], args[1]
    flt = args[2] if len(args) > 2 else "tcp.len > 0 || tcp.flags.syn == 1 || udp"
    out = subprocess.run(["tshark", "-r", pcap, "-Y", flt, "-o", "tcp.relative_sequence_numbers:TRUE",
                          "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "tcp.stream",
                          "-e", "tcp.srcport", "-e", "tcp.seq", "-e", "tcp.len", "-e", "tcp.flags.syn",
                          "-e", "tcp.payload", "-e", "udp.stream", "-e", "udp.srcport", "-e", "udp.payload"],
                         capture_output=True, text=True, check=True).stdout
    ver = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"# cut.py {'--contiguous ' if contiguous else ''}{pcap.split('/pcaps/')[-1]} {port} '{flt}'  ({ver})")
    nxt, syn, cur = {}, set(), None
    for line in out.splitlines():
        f = line.split("\t")
        fr, stream, sport, seq, tlen, fsyn, tpay, ustream, usport, upay = (f + [""] * 10)[:10]
        if stream:
            if fsyn in ("1", "True"):
                syn.add(stream)
            if not tpay:
                continue
            d = "<" if sport == port else ">"
            key = (stream, d)
            seq, data = int(seq), bytes.fromhex(tpay)
            tag = f"= {stream} {'syn' if stream in syn else 'mid'}"
            if tag != cur:
                print(tag)
                cur = tag
            if key in nxt:
                ahead = (seq - nxt[key]) % (1 << 32)  # sequence space wraps
                if ahead and ahead < (1 << 31):
                    if not contiguous:
                        print(f"{d} !gap {ahead}")
                elif ahead:
                    behind = (1 << 32) - ahead
                    data = data[behind:]  # retransmission: only bytes not delivered yet
                    seq = nxt[key]
            if data:
                print(f"{d} {data.hex()}")
                nxt[key] = (seq + len(data)) % (1 << 32)
        elif ustream and upay:
            tag = f"= u{ustream}"
            if tag != cur:
                print(tag)
                cur = tag
            print(f"{'<' if usport == port else '>'} {upay}")


if __name__ == "__main__":
    main()
