#!/usr/bin/env python3
"""bench/mkrules.py - synthetic but realistic signatures for benchmarking the detection path.

    python3 bench/mkrules.py -n 1000 -o /tmp/bench.rules [--seed 1] [--hit-rate 0.0]

Writes N rules (default 1000) in the rule subset otsense supports (config/rules/README.md), shaped like a real OT
ruleset: headers over tcp/udp with OT ports and over app-layer protocols (modbus, dnp3, enip, s7comm, iec104,
bacnet, opcua, mqtt ...), a few any-port rules; contents of 4..24 bytes (binary for the short ones, text or mixed
for the longer ones), some with nocase / offset / depth / distance / within, some followed by pcre or byte_test,
some rules on parsed PDUs (modbus, dnp3_func / dnp3_obj, enip_command / cip_service); sids from 9800000
(--sid-base), rev 1, classtype and metadata like the shipped rules.

Deterministic: the same arguments (--seed) give byte-identical output on every machine and Python 3 version
(one random.Random(seed), no set or hash ordering).

By default every rule is built to stay silent on benign OT traffic: the contents are random, so the benchmark
measures the no-alert fast path (Hyperscan prefilter + the verification of the few candidates). The PDU rules
either pair a keyword with a random content on the PDU bytes or ask for a value benign traffic does not carry (a
unit id above 247, an undefined DNP3 object). --hit-rate F turns a fraction F of the rules into rules whose
(only) content is a byte sequence that common benign traffic of their protocol carries (MBAP headers, TPKT+COTP,
DNP3 link headers, IEC-104 S/U frames, BVLC, HTTP/MQTT/OPC UA markers ...), so they alert: the alert path's cost
at that rate. Every rule must load: check with `otsense --check-rules --set detect.rule_files= --rules FILE`.
"""
import argparse
import random
import sys

# (header protocol, destination ports, family) - family selects protocol-shaped details below
TCP_OT = [("tcp", "$MODBUS_PORTS", "modbus"), ("tcp", "$S7_PORTS", "s7"), ("tcp", "$DNP3_PORTS", "dnp3"),
          ("tcp", "$ENIP_PORTS", "enip"), ("tcp", "$IEC104_PORTS", "iec104"), ("tcp", "4840", "opcua"),
          ("tcp", "1883", "mqtt"), ("tcp", "9600", "fins"), ("tcp", "[18245,18246]", "srtp"),
          ("tcp", "20547", "proconos"), ("tcp", "48898", "ads"), ("tcp", "$HTTP_PORTS", "http"),
          ("tcp", "23", "telnet"), ("tcp", "21", "ftp")]
UDP_OT = [("udp", "$BACNET_PORTS", "bacnet"), ("udp", "$DNP3_PORTS", "dnp3"), ("udp", "$ENIP_PORTS", "enip"),
          ("udp", "161", "snmp"), ("udp", "5094", "hartip"), ("udp", "3671", "knxip"), ("udp", "9600", "fins"),
          ("udp", "34964", "profinet"), ("udp", "18246", "egd")]
APP = [("modbus", "modbus"), ("dnp3", "dnp3"), ("enip", "enip"), ("s7comm", "s7"), ("iec104", "iec104"),
       ("bacnet", "bacnet"), ("opcua", "opcua"), ("mqtt", "mqtt")]
ANY = [("tcp", "any", "any"), ("udp", "any", "any")]

SRC = ["any", "any", "any", "$EXTERNAL_NET", "!$ENG_STATIONS", "$HOME_NET"]
DST = ["$OT_NET", "$OT_NET", "$HOME_NET", "any"]

CLASSTYPES = ["attempted-admin", "attempted-dos", "attempted-recon", "policy-violation", "protocol-command-decode",
              "misc-activity", "targeted-activity", "trojan-activity", "network-scan", "bad-unknown"]
MITRE = ["T0855", "T0836", "T0816", "T0858", "T0881", "T0843", "T0845", "T0889", "T0846", "T0888", "T0814",
         "T0804", "T0831", "T0866", "T0886", "T0822", "T0885", "T0869", "T0859", "T0806"]
WHAT = ["write attempt", "command", "configuration change", "program transfer", "diagnostic request", "scan probe",
        "exploit attempt", "malformed request", "unexpected function", "backdoor marker", "tool fingerprint"]

# byte sequences benign traffic of each family carries (for --hit-rate): (content, depth or None)
COMMON = {
    "modbus": [("|00 00 00 06|", 6)],                 # MBAP protocol id 0 + length 6 (read/write single)
    "s7": [("|03 00 00|", 3), ("|02 f0 80 32|", 8)],  # TPKT, COTP DT + S7 protocol id
    "dnp3": [("|05 64|", 2)],                         # link header start
    "enip": [("|70 00|", 2), ("|6f 00|", 2)],         # SendUnitData / SendRRData
    "iec104": [("|68 04 01 00|", None), ("|68 04 43 00 00 00|", None)],  # S frame, TESTFR act
    "bacnet": [("|81 0a|", 2), ("|81 0b|", 2)],       # BVLC original unicast / broadcast
    "opcua": [("MSG", 3)],
    "mqtt": [("MQTT", None)],
    "http": [("HTTP/1.", None)],
    "snmp": [("|30|", 1)],
    "any": [("|00 00 00|", None)],
}
# headers of the --hit-rate rules: protocols every OT capture mix carries plenty of
HIT_HEADERS = [("tcp", "$MODBUS_PORTS", "modbus"), ("tcp", "$S7_PORTS", "s7"), ("dnp3", "any", "dnp3"),
               ("enip", "any", "enip"), ("tcp", "$IEC104_PORTS", "iec104"), ("udp", "$BACNET_PORTS", "bacnet"),
               ("modbus", "any", "modbus"), ("s7comm", "any", "s7")]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SAFE = ALNUM + " -_./:=@#%&*+,<>?!~^()[]{}'"   # printable bytes that need no escaping in a content string


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    # ---- contents -------------------------------------------------------------------------------------------

    def content_bytes(self, n):
        """n random bytes; short ones binary (near-zero chance to occur in traffic), longer ones text-like"""
        r = self.r
        if n < 8 or self.chance(0.35):
            b = bytes(r.randrange(256) for _ in range(n))
            # no runs of zeros / 0xff: padding bytes are the most common bytes in OT payloads
            return bytes((x if x not in (0, 0xff) else 0x5a ^ i) for i, x in enumerate(b))
        if self.chance(0.5):
            return "".join(self.pick(ALNUM) for _ in range(n)).encode()
        # text with a few binary bytes mixed in (protocol markers)
        return bytes(r.randrange(0x80, 0xff) if self.chance(0.2) else ord(self.pick(ALNUM)) for _ in range(n))

    @staticmethod
    def fmt(b):
        """Suricata content string: printable safe characters as text, everything else as |hex|"""
        out, hexrun = [], []
        for x in b:
            c = chr(x)
            if c in SAFE:
                if hexrun:
                    out.append("|" + " ".join("%02x" % h for h in hexrun) + "|")
                    hexrun = []
                out.append(c)
            else:
                hexrun.append(x)
        if hexrun:
            out.append("|" + " ".join("%02x" % h for h in hexrun) + "|")
        return "".join(out)

    @staticmethod
    def is_text(b):
        return all(chr(x) in ALNUM for x in b)

    def pcre_from(self, b):
        """a regex that needs b's literal bytes plus a class / bounded gap: never matches benign traffic"""
        lit = "".join(("\\x%02x" % x) if chr(x) not in ALNUM else chr(x) for x in b)
        gap = self.r.randrange(0, 9)
        cls = self.pick(["[0-9]", "[A-F]", "\\x00", "[\\x80-\\xff]", "[a-z]{2}"])
        flags = self.pick(["", "s", "i", "s", "sm"])
        return "/%s.{0,%d}%s/%sR" % (lit, gap, cls, flags)

    # ---- rules ------------------------------------------------------------------------------------------------

    def header(self):
        u = self.r.random()
        if u < 0.50:
            proto, ports, fam = self.pick(TCP_OT)
        elif u < 0.70:
            proto, ports, fam = self.pick(UDP_OT)
        elif u < 0.95:
            proto, fam = self.pick(APP)
            ports = "any"
        else:
            proto, ports, fam = self.pick(ANY)
        src = self.pick(SRC)
        dst = self.pick(DST)
        if fam == "http" and src == "!$ENG_STATIONS":
            src = "$EXTERNAL_NET"
        return proto, fam, "%s %s any -> %s %s" % (proto, src, dst, ports)

    def flow(self, proto):
        if proto in ("tcp", "modbus", "s7comm", "iec104", "opcua", "mqtt"):
            return self.pick(["flow:to_server,established; ", "flow:to_server,established; ", "flow:established; "])
        return self.pick(["flow:to_server; ", "", ""])

    def payload_opts(self):
        """the payload options of a silent rule"""
        r = self.r
        n = r.randrange(4, 25)
        b = self.content_bytes(n)
        opts = ['content:"%s"; ' % self.fmt(b)]
        kind = r.random()
        if kind < 0.15 and self.is_text(b):
            opts.append("nocase; ")
        elif kind < 0.30:
            off = r.randrange(0, 17)
            opts.append("offset:%d; depth:%d; " % (off, n + r.randrange(0, 33)))
        elif kind < 0.45:
            if self.chance(0.5):
                opts.append("depth:%d; " % (n + r.randrange(0, 64)))
            m = r.randrange(4, 13)
            opts.append('content:"%s"; distance:%d; within:%d; ' % (self.fmt(self.content_bytes(m)),
                                                                    r.randrange(0, 8), m + r.randrange(0, 24)))
        elif kind < 0.55:
            opts.append('pcre:"%s"; ' % self.pcre_from(self.content_bytes(r.randrange(3, 7))))
        elif kind < 0.65:
            nb = self.pick([1, 2, 4])
            op = self.pick(["=", ">", "<", "&"])
            val = r.randrange(1, 1 << (8 * nb))
            endian = self.pick(["", ",little", ",big"])
            opts.append("byte_test:%d,%s,%d,%d,relative%s; " % (nb, op, val, r.randrange(0, 9), endian))
        elif kind < 0.70:
            opts.append("isdataat:%d,relative; " % r.randrange(1, 64))
        if self.chance(0.08):
            opts.append("dsize:>%d; " % r.randrange(8, 40))
        return "".join(opts)

    def ot_opts(self):
        """a rule on parsed PDUs that benign traffic does not satisfy; returns (header proto, options)"""
        r = self.r
        which = r.randrange(4)
        if which == 0:
            kw = self.pick(["modbus: function %d; " % self.pick([3, 4, 6, 16, 23, 43]),
                            "modbus: access write holding, address >%d; " % r.randrange(1000, 60000),
                            "modbus: function 8, subfunction %d; " % self.pick([1, 4, 10])])
            # silent: a unit id above 247 (reserved), or a random content in the PDU bytes
            if self.chance(0.5):
                kw = "modbus: unit %d, %s" % (r.randrange(248, 255), kw[len("modbus: "):])
                return "modbus", kw
            return "modbus", kw + 'content:"%s"; ' % self.fmt(self.content_bytes(r.randrange(4, 12)))
        if which == 1:
            func = self.pick(["write", "direct_operate", "select", "operate", "cold_restart", "read",
                              "freeze_at_time", "enable_unsolicited"])
            # object group 88/89/90... do not exist in IEEE 1815: never in benign fragments
            return "dnp3", "dnp3_func:%s; dnp3_obj:%d,%d; " % (func, r.randrange(88, 110), r.randrange(1, 9))
        if which == 2:
            return "enip", "enip_command:%d; " % self.pick([0x0c, 0x10, 0x30, 0x40, 0x50]) + \
                'content:"%s"; ' % self.fmt(self.content_bytes(r.randrange(4, 10)))
        return "enip", "cip_service:%d,%d; " % (self.pick([0x4b, 0x4c, 0x10, 0x0e, 0x4d]), r.randrange(0x500, 0x600))

    def hit_opts(self, fam):
        pat, depth = self.pick(COMMON.get(fam, COMMON["any"]))
        return 'content:"%s"; ' % pat + ("depth:%d; " % depth if depth else "")

    def rule(self, i, sid, hit):
        r = self.r
        classtype = self.pick(CLASSTYPES)
        mitre = self.pick(MITRE)
        if not hit and self.chance(0.12):
            proto, opts = self.ot_opts()
            src, dst = self.pick(SRC), self.pick(DST)
            head = "%s %s any -> %s any" % (proto, src, dst)
            flow = "flow:to_server; "
            label = {"modbus": "MODBUS", "dnp3": "DNP3", "enip": "ENIP"}[proto]
        elif hit:
            # any address, the protocol's port or app-layer name, no flow/threshold: it must fire
            proto, ports, fam = self.pick(HIT_HEADERS)
            head = "%s any any -> any %s" % (proto, ports)
            flow = ""
            opts = self.hit_opts(fam)
            label = fam.upper()
        else:
            proto, fam, head = self.header()
            flow = self.flow(proto)
            opts = self.payload_opts()
            label = fam.upper()
        thr = ""
        if not hit and self.chance(0.05):
            thr = "threshold: type %s, track %s, count %d, seconds %d; " % (
                self.pick(["limit", "threshold", "both"]), self.pick(["by_src", "by_dst"]), r.randrange(1, 20),
                self.pick([10, 60, 300, 3600]))
        msg = "OTS BENCH %s %s %d" % (label, self.pick(WHAT), i)
        return ('alert %s (msg:"%s"; %s%s%sclasstype:%s; sid:%d; rev:1; metadata: mitre_technique %s, '
                'created_at 2026_11_23;)' % (head, msg, flow, opts, thr, classtype, sid, mitre))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1000, help="number of rules (default 1000)")
    ap.add_argument("-o", "--out", default="-", help="output file (default stdout)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1): same seed, same rules")
    ap.add_argument("--hit-rate", type=float, default=0.0,
                    help="fraction 0..1 of rules that match common benign bytes of their protocol (default 0)")
    ap.add_argument("--sid-base", type=int, default=9800000, help="first sid (default 9800000)")
    a = ap.parse_args()
    if a.n < 0 or not 0.0 <= a.hit_rate <= 1.0:
        ap.error("-n must be >= 0 and --hit-rate within 0..1")
    g = Gen(a.seed)
    # which rules hit: an exact count spread evenly (not a coin flip), so the rate holds for small N too
    nhit = round(a.n * a.hit_rate)
    hits = set(int((k + 0.5) * a.n / nhit) for k in range(nhit)) if nhit else set()
    lines = ["# bench rules: generated by bench/mkrules.py -n %d --seed %d --hit-rate %g (sids %d..%d)"
             % (a.n, a.seed, a.hit_rate, a.sid_base, a.sid_base + a.n - 1)]
    for i in range(a.n):
        lines.append(g.rule(i, a.sid_base + i, i in hits))
    text = "\n".join(lines) + "\n"
    if a.out == "-":
        sys.stdout.write(text)
    else:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
