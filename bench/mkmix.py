#!/usr/bin/env python3
"""bench/mkmix.py - build the benchmark captures from the shared OT pcap corpus.

Outputs (default directory bench/out/):
  otmix.pcap    every Ethernet capture of the corpus that carries OT/ICS traffic (plus the L2/IT background an
                OT network has: ARP, LLDP, CDP, DHCP, SNMP, DNS), deduplicated by content, merged into one
                time-ordered capture. Each source is shifted to start inside a common 60 s window (sources longer
                than the window are compressed into it), so conversations from all sources interleave the way
                concurrent conversations do on one SPAN port. Frames are unchanged. Frames longer than 1518 bytes
                (captured with segmentation offload, impossible on a 1500-MTU wire) are left out.
  otmix64.pcap  the same packets as 64-byte wire frames (60 bytes captured + 4-byte FCS): headers kept, IPv4/TCP
                options stripped, payload cut to what fits, IP total length / UDP length / checksums fixed and TCP
                sequence and acknowledgement numbers renumbered so every TCP stream stays contiguous (reassembly
                sees in-order data, not a gap after every segment). Frames whose headers alone do not fit in
                60 bytes (IPv6 + TCP/UDP, QinQ + TCP, fragments) are left out; shorter frames are zero-padded.
  otmix-rep.pcap  otmix.pcap K times back to back (timestamps continue): a long single pass for tools that cannot
                replay a file in a loop while keeping their flow state (ndpiReader).
  flood.pcap    N TCP SYNs (60-byte frames), each from a different (source address, source port): every packet
                is a new flow. Replayed in a loop against a flow table smaller than N, every packet inserts a flow
                and evicts the least recently active one.

Pure Python (reads pcap and pcapng itself), deterministic: the same corpus gives byte-identical outputs.
"""
import argparse
import bisect
import hashlib
import os
import re
import struct
import sys

LINKTYPE_ETHERNET = 1
WINDOW_NS = 60 * 1000000000
T0_NS = 1700000000 * 1000000000  # 2023-11-14, fixed so outputs are reproducible
MAX_FRAME = 1518
FRAME64 = 60  # captured bytes of a 64-byte wire frame (the NIC adds the 4-byte FCS)

# sources left out: not OT traffic (crypto mining, web bots, IoT cloud plugs, scans) or deliberately broken
EXCLUDE = [
    r'^DI-cryptominingdetection/',
    r'^bro-simple-scan/',
    r'^nDPI/(bot|mining|monero|synscan|tcp_scan|telnet|tplink_shp|tuya_lp|ubntac2|upnp|ssdp.*|netbios|coap_mqtt)\.',
    r'NetBIOS__',
    r'Malware__',
    r'fuzz', r'[Mm]alformed', r'crash', r'wireshark-bug', r'wireshark-freeze',
]


# ------------------------------------------------------------------------------------------------ reading


def read_pcap(data):
    """classic pcap: yields (ts_ns, caplen, origlen, bytes); returns linktype via first yield of a tuple"""
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        raise ValueError('not a pcap file')
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    linktype = struct.unpack(e + 'I', data[20:24])[0] & 0xffff
    pkts = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break
        ts = sec * 1000000000 + (frac if nano else frac * 1000)
        pkts.append((ts, orig, data[off:off + incl]))
        off += incl
    return linktype, pkts


def read_pcapng(data):
    """pcapng: EPB/SPB/PB of every interface; returns (linktype of the packets, packets); mixed link types refused"""
    off = 0
    e = '<'
    ifaces = []
    pkts = []
    linktypes = set()
    while off + 12 <= len(data):
        btype = struct.unpack(e + 'I', data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: byte order
            bom = data[off + 8:off + 12]
            e = '<' if bom == b'\x4d\x3c\x2b\x1a' else '>'
            ifaces = []
        blen = struct.unpack(e + 'I', data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            lt, _, snap = struct.unpack(e + 'HHI', body[:8])
            res = 1000  # default microseconds -> ns factor
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + 'HH', body[o:o + 4])
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    r = body[o + 4]
                    if r & 0x80:
                        div = 2 ** (r & 0x7f)
                    else:
                        div = 10 ** r
                    res = ('div', div)
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((lt, snap, res))
        elif btype in (6, 2):  # enhanced packet / obsolete packet
            if btype == 6:
                ifid, hi, lo, incl, orig = struct.unpack(e + 'IIIII', body[:20])
            else:
                ifid, _, hi, lo, incl, orig = struct.unpack(e + 'HHIIII', body[:20])
            lt, snap, res = ifaces[ifid]
            raw = (hi << 32) | lo
            if isinstance(res, tuple):
                ts = raw * 1000000000 // res[1]
            else:
                ts = raw * res
            linktypes.add(lt)
            pkts.append((ts, orig, body[20:20 + incl]))
        elif btype == 3:  # simple packet: no timestamp
            lt, snap, res = ifaces[0]
            orig = struct.unpack(e + 'I', body[:4])[0]
            incl = min(orig, snap) if snap else orig
            linktypes.add(lt)
            pkts.append((pkts[-1][0] if pkts else 0, orig, body[4:4 + incl]))
        off += blen
    if len(linktypes) > 1:
        raise ValueError('mixed link types')
    return (linktypes.pop() if linktypes else (ifaces[0][0] if ifaces else -1)), pkts


def read_capture(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] == b'\x0a\x0d\x0d\x0a':
        lt, pkts = read_pcapng(data)
    else:
        lt, pkts = read_pcap(data)
    return data, lt, pkts


def write_pcap(path, pkts):
    """pkts: (ts_ns, origlen, bytes); microsecond pcap, Ethernet"""
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for ts, orig, b in pkts:
            f.write(struct.pack('<IIII', ts // 1000000000, (ts % 1000000000) // 1000, len(b), orig))
            f.write(b)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------------ the mix


def select_sources(root):
    files = []
    for d, _, names in os.walk(root):
        for n in names:
            if '.expected' in d or not re.search(r'\.(pcap|pcapng|cap)$', n):
                continue
            rel = os.path.relpath(os.path.join(d, n), root)
            if any(re.search(x, rel) for x in EXCLUDE):
                continue
            files.append(rel)
    return sorted(files)


def build_mix(root, log):
    seen = {}
    merged = []
    srcs = []
    skipped_big = 0
    for idx, rel in enumerate(select_sources(root)):
        try:
            data, lt, pkts = read_capture(os.path.join(root, rel))
        except (ValueError, struct.error, IndexError) as ex:
            log('skip %s: %s' % (rel, ex))
            continue
        if lt != LINKTYPE_ETHERNET or not pkts:
            log('skip %s: link type %d (Ethernet only)' % (rel, lt))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            log('skip %s: same bytes as %s' % (rel, seen[digest]))
            continue
        seen[digest] = rel
        kept = [p for p in pkts if len(p[2]) <= MAX_FRAME and len(p[2]) >= 14]
        skipped_big += len(pkts) - len(kept)
        if not kept:
            continue
        t_first = min(p[0] for p in kept)
        t_last = max(p[0] for p in kept)
        dur = t_last - t_first
        # deterministic start offset inside the window; long sources are compressed into it
        h = int(hashlib.sha256(rel.encode()).hexdigest()[:12], 16)
        if dur >= WINDOW_NS:
            start, num, den = 0, WINDOW_NS, max(dur, 1)
        else:
            start, num, den = h % (WINDOW_NS - dur), 1, 1
        for i, (ts, orig, b) in enumerate(kept):
            t = T0_NS + start + (ts - t_first) * num // den
            merged.append((t, len(srcs), i, max(orig, len(b)), b))
        srcs.append((rel, len(kept)))
    merged.sort(key=lambda x: (x[0], x[1], x[2]))
    return [(t, orig, b) for t, _, _, orig, b in merged], srcs, skipped_big


# ------------------------------------------------------------------------------------------------ 64-byte frames


def csum(b):
    if len(b) & 1:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def l2_header(b):
    """(l2 header length, ethertype) or None"""
    off, et = 12, struct.unpack('!H', b[12:14])[0]
    tags = 0
    while et in (0x8100, 0x88a8, 0x9100):
        if len(b) < off + 6:
            return None
        et = struct.unpack('!H', b[off + 4:off + 6])[0]
        off += 4
        tags += 1
    return off + 2, et


def parse_ipv4(b, l2):
    """fields of an IPv4 packet at l2, or None when it cannot be shrunk (truncated, fragment)"""
    if len(b) < l2 + 20 or b[l2] >> 4 != 4:
        return None
    ihl = (b[l2] & 15) * 4
    tot = struct.unpack('!H', b[l2 + 2:l2 + 4])[0]
    frag = struct.unpack('!H', b[l2 + 6:l2 + 8])[0]
    if ihl < 20 or tot < ihl or frag & 0x3fff:
        return None
    end = min(len(b), l2 + tot)
    return ihl, b[l2 + 9], l2 + ihl, end


class SeqMap:
    """per TCP direction: original sequence space -> sequence space with the cut bytes removed"""

    def __init__(self):
        self.cut = {}  # relative start -> bytes cut from the segment starting there
        self.base = None
        self.starts = None
        self.prefix = None

    def rel(self, seq):
        return (seq - self.base) & 0xffffffff

    def note(self, seq, cut):
        if self.base is None:
            self.base = (seq - (1 << 30)) & 0xffffffff
        r = self.rel(seq)
        if cut > self.cut.get(r, 0):
            self.cut[r] = cut

    def freeze(self):
        self.starts = sorted(self.cut)
        self.prefix = [0]
        for s in self.starts:
            self.prefix.append(self.prefix[-1] + self.cut[s])

    def map(self, seq):
        if self.base is None:
            return seq
        r = self.rel(seq)
        k = bisect.bisect_left(self.starts, r)
        return (self.base + r - self.prefix[k]) & 0xffffffff


def shrink_plan(b):
    """how packet b becomes a 60-byte frame: None (left out) or a dict"""
    l2h = l2_header(b)
    if l2h is None:
        return None
    l2, et = l2h
    if et != 0x0800:
        if et == 0x86dd:  # IPv6: 40-byte header + any L4 header does not fit with the L2 header
            return None if len(b) > FRAME64 else {'kind': 'raw'}
        return {'kind': 'raw'}  # ARP, LLDP, GOOSE, PROFINET RT...: cut or pad
    ip = parse_ipv4(b, l2)
    if ip is None:
        return None
    ihl, proto, l4, end = ip
    if proto == 6:
        if end - l4 < 20:
            return None
        doff = (b[l4 + 12] >> 4) * 4
        if doff < 20 or l4 + doff > end:
            return None
        hdr = 20
        pay = end - l4 - doff
        poff = l4 + doff
    elif proto == 17:
        if end - l4 < 8:
            return None
        hdr, pay, poff = 8, end - l4 - 8, l4 + 8
    elif proto == 1:
        if end - l4 < 8:
            return None
        hdr, pay, poff = 8, end - l4 - 8, l4 + 8
    else:
        hdr, pay, poff = 0, end - l4, l4
    room = FRAME64 - (l2 + 20 + hdr)
    if room < 0:
        return None
    keep = min(pay, room)
    return {'kind': 'ip', 'l2': l2, 'ihl': ihl, 'proto': proto, 'l4': l4, 'hdr': hdr, 'poff': poff,
            'pay': pay, 'keep': keep}


def tcp_dir_key(b, p):
    l2, l4 = p['l2'], p['l4']
    return (b[l2 + 12:l2 + 16], b[l2 + 16:l2 + 20], b[l4:l4 + 2], b[l4 + 2:l4 + 4])


def build_64(mix):
    plans = [shrink_plan(b) for _, _, b in mix]
    maps = {}
    for (_, _, b), p in zip(mix, plans):  # pass 1: bytes cut per TCP segment
        if p and p['kind'] == 'ip' and p['proto'] == 6 and p['pay']:
            k = tcp_dir_key(b, p)
            maps.setdefault(k, SeqMap()).note(struct.unpack('!I', b[p['l4'] + 4:p['l4'] + 8])[0],
                                              p['pay'] - p['keep'])
    for m in maps.values():
        m.freeze()
    out = []
    dropped = 0
    for (ts, _, b), p in zip(mix, plans):
        if p is None:
            dropped += 1
            continue
        if p['kind'] == 'raw':
            f = b[:FRAME64]
        else:
            l2, l4, proto = p['l2'], p['l4'], p['proto']
            iph = bytearray(b[l2:l2 + 20])
            iph[0] = 0x45
            l4h = bytearray(b[l4:l4 + p['hdr']])
            payload = b[p['poff']:p['poff'] + p['keep']]
            tot = 20 + len(l4h) + len(payload)
            struct.pack_into('!H', iph, 2, tot)
            struct.pack_into('!H', iph, 10, 0)
            struct.pack_into('!H', iph, 10, csum(bytes(iph)))
            src, dst = bytes(iph[12:16]), bytes(iph[16:20])
            if proto == 6:
                k = (src, dst, bytes(l4h[0:2]), bytes(l4h[2:4]))
                rk = (dst, src, bytes(l4h[2:4]), bytes(l4h[0:2]))
                seq, ack = struct.unpack('!II', l4h[4:12])
                if k in maps:
                    seq = maps[k].map(seq)
                if (l4h[13] & 0x10) and rk in maps:
                    ack = maps[rk].map(ack)
                struct.pack_into('!II', l4h, 4, seq, ack)
                l4h[12] = (5 << 4) | (l4h[12] & 0x0f)
                struct.pack_into('!H', l4h, 16, 0)
                pseudo = src + dst + struct.pack('!BBH', 0, 6, len(l4h) + len(payload))
                struct.pack_into('!H', l4h, 16, csum(pseudo + bytes(l4h) + payload))
            elif proto == 17:
                struct.pack_into('!H', l4h, 4, 8 + len(payload))
                if struct.unpack('!H', l4h[6:8])[0]:
                    struct.pack_into('!H', l4h, 6, 0)
                    pseudo = src + dst + struct.pack('!BBH', 0, 17, 8 + len(payload))
                    c = csum(pseudo + bytes(l4h) + payload)
                    struct.pack_into('!H', l4h, 6, c or 0xffff)
            elif proto == 1:
                struct.pack_into('!H', l4h, 2, 0)
                struct.pack_into('!H', l4h, 2, csum(bytes(l4h) + payload))
            f = b[:l2] + bytes(iph) + bytes(l4h) + payload
        if len(f) < FRAME64:
            f = f + b'\0' * (FRAME64 - len(f))
        out.append((ts, len(f), f))
    return out, dropped


# ------------------------------------------------------------------------------------------------ flood


def build_flood(n):
    """n TCP SYNs 10.x.y.z:port -> 192.168.100.10:502, every one a different flow"""
    out = []
    base_mac = bytes.fromhex('02000000000a') + bytes.fromhex('020000000001') + b'\x08\x00'
    for i in range(n):
        src = bytes([10, 1 + (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff])
        dst = bytes([192, 168, 100, 10])
        sport = 1024 + (i * 7919) % 60000
        iph = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, i & 0xffff, 0x4000, 64, 6, 0, src, dst))
        struct.pack_into('!H', iph, 10, csum(bytes(iph)))
        tcp = bytearray(struct.pack('!HHIIBBHHH', sport, 502, (i * 2654435761) & 0xffffffff, 0, 5 << 4, 0x02,
                                    64240, 0, 0))
        struct.pack_into('!H', tcp, 16, csum(src + dst + struct.pack('!BBH', 0, 6, 20) + bytes(tcp)))
        f = base_mac + bytes(iph) + bytes(tcp)
        f += b'\0' * (FRAME64 - len(f))
        out.append((T0_NS + i * 1000, len(f), f))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--pcaps', default=os.path.normpath(os.path.join(here, '..', '..', 'shared', 'pcaps')),
                    help='corpus root (default ../shared/pcaps next to the repository)')
    ap.add_argument('--out', default=os.path.join(here, 'out'), help='output directory (default bench/out)')
    ap.add_argument('--flood', type=int, default=32768, help='packets (= distinct flows) in flood.pcap')
    ap.add_argument('--repeat', type=int, default=10,
                    help='also write otmix-rep.pcap: the mix K times back to back, 60 s apart (default 10; 0 = no)')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args()
    log = (lambda m: print('mkmix: ' + m, file=sys.stderr)) if a.verbose else (lambda m: None)
    if not os.path.isdir(a.pcaps):
        sys.exit('mkmix: corpus %s not found; give --pcaps DIR' % a.pcaps)
    os.makedirs(a.out, exist_ok=True)
    mix, srcs, big = build_mix(a.pcaps, log)
    if not mix:
        sys.exit('mkmix: no Ethernet OT capture found under %s' % a.pcaps)
    write_pcap(os.path.join(a.out, 'otmix.pcap'), mix)
    m64, dropped = build_64(mix)
    write_pcap(os.path.join(a.out, 'otmix64.pcap'), m64)
    write_pcap(os.path.join(a.out, 'flood.pcap'), build_flood(a.flood))
    if a.repeat > 0:
        step = WINDOW_NS + 1000000000
        write_pcap(os.path.join(a.out, 'otmix-rep.pcap'),
                   [(t + k * step, o, b) for k in range(a.repeat) for t, o, b in mix])
    nbytes = sum(len(b) for _, _, b in mix)
    with open(os.path.join(a.out, 'otmix.sources.txt'), 'w') as f:
        f.write('# source capture (relative to the corpus)\tpackets used\n')
        for rel, n in srcs:
            f.write('%s\t%d\n' % (rel, n))
    print('mkmix: otmix.pcap %d packets from %d captures, %d bytes (avg %.0f B/frame), %d oversize frames left '
          'out; otmix64.pcap %d packets (%d left out: headers do not fit 60 bytes); flood.pcap %d flows'
          % (len(mix), len(srcs), nbytes, nbytes / len(mix), big, len(m64), dropped, a.flood))


if __name__ == '__main__':
    main()
