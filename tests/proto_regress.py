#!/usr/bin/env python3
"""tests/proto_regress.py - per-capture regression of the protocol parsers: the real otsense binary vs tshark.

  proto_regress.py OTSENSE [--data DIR] [--pcaps DIR] [--proto NAME ...] [--regen] [-v]

For every protocol plug-in below and every capture with an oracle copy under
    DATA/proto/<proto>/oracle/<source>/<file>.tshark.txt       (verbatim copy of $PCAPS/<source>/<file>.tshark.txt)
the capture $PCAPS/<source>/<file> is run through `otsense --pcap FILE -q --summary-json S` and the plug-in
compares the summary ("pdus", "identities", "protocol_events") with the oracle. Output: one "ok"/"FAIL" line per
capture (failures detailed), then "RESULT proto_regress_<proto>: N passed, N failed" (captures) per protocol.
Exit status 0 when everything passed, 1 on a failure, 77 (skip) when the capture directory is missing.

  DATA   default: tests/data next to this script          PCAPS  default: $OTS_PCAPS or /work/shared/pcaps

Oracle files (all under DATA/proto/<proto>/, so CI does not need $PCAPS for anything but the captures):
  oracle/<source>/<file>.tshark.txt  verbatim oracle. Long tables there are cut after 60 rows ("... N more rows").
  oracle/<source>/<file>.full.txt    the same tables regenerated in full with tshark (--regen writes them); same
                                     "## title" / "count<TAB>..." layout, raw numbers, maybe extra columns. The
                                     run checks that they agree with every row the verbatim oracle shows.
  differences.json                   per capture: where otsense legitimately differs from tshark, the exact
                                     otsense value and why; the exact identities and protocol events otsense must
                                     report (none when absent). See the README next to it.

Plug-in API: a protocol registers a class with the @plugin("<registry name>") decorator:
  regen(self, pcap) -> str         text of the .full.txt for this capture (tshark); optional
  check(self, cap) -> [str]        failures for one capture ([] = pass); cap is a Capture (below)
Shared helpers: Capture.section(title) (full table when present, else the verbatim one, which must then be
complete), compare_counts(), check_identities(), check_events(). Plug-ins never depend on each other.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import find_pcaps, run_sensor  # noqa: E402

PLUGINS = {}


def plugin(name):
    def reg(cls):
        PLUGINS[name] = cls()
        cls.name = name
        return cls
    return reg


# ---------------------------------------------------------------------------------------------- oracle files

def parse_sections(text):
    """{title (text after '## ' up to ':' if any): (header columns, rows, more)}; rows are lists of str."""
    out = {}
    cur = None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].split(":")[0].strip()
            cur = out.setdefault(title, [None, [], 0])
            continue
        if cur is None:
            continue
        if not line.strip():
            cur = None
            continue
        m = re.match(r"\.\.\. (\d+) more rows", line)
        if m:
            cur[2] = int(m.group(1))
        elif cur[0] is None and line.startswith("count\t"):
            cur[0] = line.split("\t")
        else:
            cur[1].append(line.split("\t"))
    return {k: (v[0] or [], v[1], v[2]) for k, v in out.items()}


def num(field):
    """'3 (Read Holding Registers)' -> '3'; 'U 0x00000010 (TESTFR act)' -> 'U 0x00000010'; '-' stays."""
    return re.sub(r"\s*\(.*\)$", "", field.strip())


class Capture:
    def __init__(self, proto, rel, pcap, oracle_dir, summary, diff):
        self.proto, self.rel, self.pcap, self.summary, self.diff = proto, rel, pcap, summary, diff
        base = os.path.join(oracle_dir, rel)
        with open(base + ".tshark.txt") as f:
            self.verbatim = parse_sections(f.read())
        self.full = None
        if os.path.exists(base + ".full.txt"):
            with open(base + ".full.txt") as f:
                self.full = parse_sections(f.read())

    def section(self, title, collapse=None):
        """(rows, problems): rows of the complete table. When a .full.txt exists, it must agree with every row of
        the verbatim oracle; collapse(row) maps a full row onto the verbatim columns (extra columns dropped)."""
        problems = []
        v = self.verbatim.get(title)
        f = self.full.get(title) if self.full else None
        if f is None:
            if v is None:
                return [], []
            if v[2]:
                problems.append(f"oracle table '{title}' is cut ({v[2]} more rows) and no .full.txt: run --regen")
            return [[num(c) for c in r] for r in v[1]], problems
        rows = [[num(c) for c in r] for r in f[1]]
        if v is not None:
            agg = collections.Counter()
            for r in rows:
                k = tuple((collapse(r) if collapse else r)[1:])
                agg[k] += int(r[0])
            shown = [[num(c) for c in r] for r in v[1]]
            for r in shown:
                if agg.get(tuple(r[1:])) != int(r[0]):
                    problems.append(f".full.txt disagrees with the oracle row {r}: {agg.get(tuple(r[1:]))}")
            if len(agg) != len(shown) + v[2]:
                problems.append(f".full.txt has {len(agg)} rows for '{title}', the oracle {len(shown) + v[2]}")
        return rows, problems


def compare_counts(what, expected, actual, documented, fmt):
    """expected: Counter from the oracle; documented: {fmt(key): {"tshark": n, "otsense": m, "why": ...}} - the
    oracle must still say n (else the note is stale), and otsense must say exactly m. Everything else equal."""
    fails = []
    exp = collections.Counter(expected)
    keys = {fmt(k): k for k in set(expected) | set(actual)}
    for name, d in (documented or {}).items():
        k = keys.get(name)
        have = exp.get(k, 0) if k is not None else 0
        if have != d["tshark"]:
            fails.append(f"{what} {name}: documented tshark count {d['tshark']}, oracle says {have} (stale note)")
        if k is None:
            if d["otsense"]:
                fails.append(f"{what} {name}: otsense should say {d['otsense']}, says 0")
            continue
        exp[k] = d["otsense"]
    for k in sorted(set(exp) | set(actual), key=fmt):
        e, a = exp.get(k, 0), actual.get(k, 0)
        if e != a:
            fails.append(f"{what} {fmt(k)}: expected {e} (tshark {expected.get(k, 0)}), otsense {a}")
    return fails


def check_identities(cap, proto, oracle_facts=()):
    """otsense identities of proto == the documented ones (differences.json "identities") + oracle_facts, as sets of
    (ip, kind, value)."""
    got = {(i["ip"], i["kind"], i["value"]) for i in cap.summary.get("identities", []) if i["protocol"] == proto}
    want = {(i["ip"], i["kind"], i["value"]) for i in cap.diff.get("identities", [])} | set(oracle_facts)
    fails = [f"identity missing: {w}" for w in sorted(want - got)]
    fails += [f"identity not expected: {g}" for g in sorted(got - want)]
    return fails


def check_events(cap, proto):
    got = cap.summary.get("protocol_events", {}).get(proto, {})
    want = cap.diff.get("events", {})
    if got != want:
        return [f"protocol events {json.dumps(got, sort_keys=True)}, expected {json.dumps(want, sort_keys=True)}"]
    return []


def tshark_fields(pcap, dfilter, fields):
    r = subprocess.run(["tshark", "-r", pcap, "-Y", dfilter, "-T", "fields", "-E", "occurrence=a", "-E",
                        "separator=\t"] + [a for f in fields for a in ("-e", f)], capture_output=True, text=True,
                       check=True)
    return [line.split("\t") for line in r.stdout.splitlines()]


def split_list(s):
    return s.split(",") if s else []


def table(title, header, counter):
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return "\n".join([f"## {title}", "\t".join(["count", *header])] +
                     ["\t".join([str(n), *k]) for k, n in rows]) + "\n\n"


# ---------------------------------------------------------------------------------------------- Modbus/TCP

@plugin("modbus")
class Modbus:
    """Oracle: "Modbus/TCP PDUs" (src, dst, unit, fc, req|resp by port 502) and "Modbus exception responses"
    (src, dst, unit, fc, exception code). otsense: request -> req; response and exception -> resp; exception counts
    per (src, dst, unit, fc) must match the exception table summed over exception codes."""
    PDUS = "Modbus/TCP PDUs"
    EXC = "Modbus exception responses"
    IDENT = "Modbus Read Device Identification"

    def regen(self, pcap):
        pdus, exc = collections.Counter(), collections.Counter()
        for src, dst, dport, units, fcs, excs in tshark_fields(
                pcap, "mbtcp", ["ip.src", "ip.dst", "tcp.dstport", "mbtcp.unit_id", "modbus.func_code",
                                "modbus.exception_code"]):
            units, fcs, excs = split_list(units), split_list(fcs), split_list(excs)
            d = "req" if dport == "502" else "resp"
            for i, u in enumerate(units):
                pdus[(src, dst, u, fcs[i] if i < len(fcs) else "", d)] += 1
            for i, e in enumerate(excs):  # exceptions are responses: the unit/fc of the same PDU
                exc[(src, dst, units[i] if i < len(units) else "", fcs[i] if i < len(fcs) else "", e)] += 1
        return (table(self.PDUS, ["src", "dst", "unit_id", "func_code", "dir"], pdus) +
                (table(self.EXC, ["src", "dst", "unit_id", "func_code", "exception"], exc) if exc else ""))

    @staticmethod
    def fmt(k):
        return f"{k[0]}>{k[1]} unit={k[2]} fc={k[3]} {k[4]}"

    def check(self, cap):
        fails = []
        rows, p = cap.section(self.PDUS)
        fails += p
        expected = collections.Counter()
        for r in rows:
            expected[tuple(r[1:6])] += int(r[0])
        actual, actual_exc = collections.Counter(), collections.Counter()
        for x in cap.summary.get("pdus", []):
            if x["protocol"] != "modbus":
                continue
            k = (x["src"], x["dst"], str(x["unit"]), str(x["code"]), "req" if x["kind"] == "request" else "resp")
            actual[k] += x["count"]
            if x["kind"] == "exception":
                actual_exc[k[:4] + ("exception",)] += x["count"]
        fails += compare_counts("pdus", expected, actual, cap.diff.get("pdus"), self.fmt)
        rows, p = cap.section(self.EXC)
        fails += p
        exp_exc = collections.Counter()
        for r in rows:
            exp_exc[tuple(r[1:5]) + ("exception",)] += int(r[0])
        fails += compare_counts("exceptions", exp_exc, actual_exc, cap.diff.get("exceptions"), self.fmt)
        # identity section (none of the local captures has one): every value of a row must be reported for the
        # row's server address; the columns are matched by name
        facts = []
        sec = cap.verbatim.get(self.IDENT)
        if sec:
            hdr = sec[0]
            kinds = {"vendor": "vendor", "vendor_name": "vendor", "product_code": "product_code",
                     "revision": "firmware", "major_minor_revision": "firmware", "model": "model",
                     "model_name": "model", "product_name": "model"}
            for r in sec[1]:
                row = dict(zip(hdr, r))
                ip = row.get("src") or row.get("ip") or row.get("server")
                for col, kind in kinds.items():
                    if row.get(col) not in (None, "", "-"):
                        facts.append((ip, kind, row[col]))
        fails += check_identities(cap, "modbus", facts)
        fails += check_events(cap, "modbus")
        return fails


# ---------------------------------------------------------------------------------------------- IEC 60870-5-104

def iec104_kind(cot, negative, type_id):
    """The cause of transmission -> PDU kind mapping of protocols/iec104.c (kind_of), in Python."""
    if 44 <= cot <= 47 or (negative and cot in (7, 9, 10)):
        return "exception"
    if cot in (6, 8):
        return "request"
    if cot == 5:
        return "request" if 45 <= type_id <= 69 or 100 <= type_id <= 113 else "response"
    if cot in (7, 9, 10) or 20 <= cot <= 41:
        return "response"
    if cot in (1, 2, 3, 4, 11, 12):
        return "unsolicited"
    return "other"


@plugin("iec104")
class Iec104:
    """Oracle: "IEC 60870-5-104 APCI frames" (src, dst, I | S | U <function>) and "IEC 60870-5-104 ASDUs" (src, dst,
    type id, cause, common address). otsense: code < 0x100 is an I frame (code = type id, unit = common address),
    0x100|f a U frame (f as tshark's U type), 0x200 an S frame. ASDU rows are compared per (src, dst, common address,
    type id, kind) with kind from the cause of transmission and the P/N bit, which the .full.txt adds as a 6th
    column (iec60870_asdu.nega)."""
    APCI = "IEC 60870-5-104 APCI frames"
    ASDU = "IEC 60870-5-104 ASDUs"

    def regen(self, pcap):
        apci, asdu = collections.Counter(), collections.Counter()
        for src, dst, types, utypes, tids, cots, cas, negs in tshark_fields(
                pcap, "iec60870_104 || iec60870_asdu",
                ["ip.src", "ip.dst", "iec60870_104.type", "iec60870_104.utype", "iec60870_asdu.typeid",
                 "iec60870_asdu.causetx", "iec60870_asdu.addr", "iec60870_asdu.nega"]):
            us = iter(split_list(utypes))
            for t in split_list(types):
                apci[(src, dst, {"0x00000000": "I", "0x00000001": "S"}.get(t) or "U " + next(us, "?"))] += 1
            tl, cl, al, nl = split_list(tids), split_list(cots), split_list(cas), split_list(negs)
            for i, t in enumerate(tl):
                pn = nl[i] if i < len(nl) else "-"
                asdu[(src, dst, t, cl[i] if i < len(cl) else "-", al[i] if i < len(al) else "-",
                      {"True": "1", "False": "0", "1": "1", "0": "0"}.get(pn, pn))] += 1
        return (table(self.APCI, ["src", "dst", "apci"], apci) +
                table(self.ASDU, ["src", "dst", "type_id", "cot", "ca", "pn"], asdu))

    @staticmethod
    def fmt_apci(k):
        return f"{k[0]}>{k[1]} {k[2]}"

    @staticmethod
    def fmt_asdu(k):
        return f"{k[0]}>{k[1]} ca={k[2]} type={k[3]} {k[4]}"

    def check(self, cap):
        fails = []
        rows, p = cap.section(self.APCI)
        fails += p
        exp_apci = collections.Counter()
        for r in rows:
            exp_apci[(r[1], r[2], r[3])] += int(r[0])
        rows, p = cap.section(self.ASDU, collapse=lambda r: r[:6])
        fails += p
        exp_asdu = collections.Counter()
        for r in rows:
            _, src, dst, t, cot, ca = r[:6]
            pn = r[6] if len(r) > 6 else "0"
            kind = iec104_kind(int(cot), pn == "1", int(t)) if cot.isdigit() and t.isdigit() else "?"
            exp_asdu[(src, dst, ca, t, kind)] += int(r[0])
        act_apci, act_asdu = collections.Counter(), collections.Counter()
        for x in cap.summary.get("pdus", []):
            if x["protocol"] != "iec104":
                continue
            c = x["code"]
            if c < 0x100:
                act_apci[(x["src"], x["dst"], "I")] += x["count"]
                act_asdu[(x["src"], x["dst"], str(x["unit"]), str(c), x["kind"])] += x["count"]
            elif c == 0x200:
                act_apci[(x["src"], x["dst"], "S")] += x["count"]
            else:
                act_apci[(x["src"], x["dst"], "U 0x%08x" % (c & 0xff))] += x["count"]
        fails += compare_counts("apci", exp_apci, act_apci, cap.diff.get("apci"), self.fmt_apci)
        fails += compare_counts("asdu", exp_asdu, act_asdu, cap.diff.get("asdu"), self.fmt_asdu)
        fails += check_identities(cap, "iec104")
        fails += check_events(cap, "iec104")
        return fails


# ---------------------------------------------------------------------------------------------- DNP3

def dnp3_kind(fc, exc):
    """Function code (+ IIN2 error bits of a 129 response) -> PDU kind, as protocols/dnp3.c (al_end) does."""
    if fc == 129:
        return "exception" if exc == "1" else "response"
    if fc == 131:
        return "response"
    if fc == 130:
        return "unsolicited"
    return "request" if fc < 128 else "other"


@plugin("dnp3")
class Dnp3:
    """Oracle: "DNP3 application-layer function codes" (src, dst, link src, link dst, AL function) and "DNP3
    data-link function codes" (src, dst, link src, link dst, PRI n | SEC n). otsense: code < 0x100 is one
    application fragment (unit = link destination), 0x100 | PRM << 6 | f a link frame without application data.
    AL rows are compared per (src, dst, link dst, function, kind); the kind of a 129 response depends on its IIN2
    error bits, which the .full.txt adds as a 6th column (dnp3.al.iin.fcni/obju/pioor, 1 = any set). Link rows
    are compared for the functions that carry no user data (all but PRI 3 / PRI 4)."""
    AL = "DNP3 application-layer function codes"
    DL = "DNP3 data-link function codes"

    def regen(self, pcap):
        al, dl = collections.Counter(), collections.Counter()
        for src, dst, lsrc, ldst, prm, pri, sec, fc, fcni, obju, pioor in tshark_fields(
                pcap, "dnp3", ["ip.src", "ip.dst", "dnp3.src", "dnp3.dst", "dnp3.ctl.prm", "dnp3.ctl.prifunc",
                               "dnp3.ctl.secfunc", "dnp3.al.func", "dnp3.al.iin.fcni", "dnp3.al.iin.obju",
                               "dnp3.al.iin.pioor"]):
            ls, ld, prms = split_list(lsrc), split_list(ldst), split_list(prm)
            pris, secs = iter(split_list(pri)), iter(split_list(sec))
            for i, p in enumerate(prms):
                f = f"PRI {next(pris, '?')}" if p in ("1", "True") else f"SEC {next(secs, '?')}"
                dl[(src, dst, ls[i] if i < len(ls) else "-", ld[i] if i < len(ld) else "-", f)] += 1
            errs = [any(x in ("1", "True") for x in t) for t in zip(split_list(fcni), split_list(obju),
                                                                      split_list(pioor))]
            nresp = 0
            for i, f in enumerate(split_list(fc)):
                exc = "0"
                if f == "129":
                    exc = "1" if nresp < len(errs) and errs[nresp] else "0"
                if f in ("129", "130", "131"):
                    nresp += 1
                # the fragment's link addresses are those of the last link frame of the segment
                al[(src, dst, ls[-1] if ls else "-", ld[-1] if ld else "-", f, exc)] += 1
        return (table(self.AL, ["src", "dst", "dnp3_src", "dnp3_dst", "al_func", "iin_error"], al) +
                table(self.DL, ["src", "dst", "dnp3_src", "dnp3_dst", "dl_func"], dl))

    @staticmethod
    def fmt_al(k):
        return f"{k[0]}>{k[1]} dst={k[2]} fc={k[3]} {k[4]}"

    @staticmethod
    def fmt_dl(k):
        return f"{k[0]}>{k[1]} dst={k[2]} {k[3]}"

    def check(self, cap):
        fails = []
        rows, p = cap.section(self.AL, collapse=lambda r: r[:6])
        fails += p
        exp_al = collections.Counter()
        for r in rows:
            fc = int(r[5]) if r[5].isdigit() else -1
            exp_al[(r[1], r[2], r[4], r[5], dnp3_kind(fc, r[6] if len(r) > 6 else "0"))] += int(r[0])
        rows, p = cap.section(self.DL)
        fails += p
        exp_dl = collections.Counter()
        for r in rows:
            if r[5] not in ("PRI 3", "PRI 4"):
                exp_dl[(r[1], r[2], r[4], r[5])] += int(r[0])
        act_al, act_dl = collections.Counter(), collections.Counter()
        for x in cap.summary.get("pdus", []):
            if x["protocol"] != "dnp3":
                continue
            c = x["code"]
            if c < 0x100:
                act_al[(x["src"], x["dst"], str(x["unit"]), str(c), x["kind"])] += x["count"]
            else:
                f = ("PRI %d" if c & 0x40 else "SEC %d") % (c & 0xf)
                act_dl[(x["src"], x["dst"], str(x["unit"]), f)] += x["count"]
        fails += compare_counts("al", exp_al, act_al, cap.diff.get("al"), self.fmt_al)
        fails += compare_counts("link", exp_dl, act_dl, cap.diff.get("link"), self.fmt_dl)
        fails += check_identities(cap, "dnp3")
        fails += check_events(cap, "dnp3")
        return fails


# ---------------------------------------------------------------------------------------------- BACnet/IP

def bacnet_vendor_table():
    """{id: name} of the vendor table compiled into protocols/bacnet.c (ids outside it are "vendor-id N")."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocols", "bacnet.c")
    with open(path, encoding="utf-8") as f:
        return {int(m.group(1)): m.group(2).replace('\\"', '"')
                for m in re.finditer(r'^\t\{ (\d+), "((?:[^"\\]|\\.)*)" \},$', f.read(), re.M)}


def bacnet_apdu_key(apdu_type, service):
    """tshark (APDU type, service) -> otsense (code, kind), as protocols/bacnet.c (apdu) does; "- -" (a BVLC
    message or network layer message without APDU) -> ("nonapdu", "other")."""
    if apdu_type == "-":
        return ("nonapdu", "other")
    t = int(apdu_type)
    if t == 1:
        s = int(service.split(":")[1])
        kind = {0: "response", 1: "response", 2: "unsolicited", 3: "unsolicited", 11: "unsolicited",
                12: "unsolicited"}.get(s, "request")
        return (str(0x100 | s), kind)
    if t in (4, 6, 7):
        return (str(0x200 | t), "other" if t == 4 else "exception")
    return (service, {0: "request", 2: "response", 3: "response", 5: "exception"}[t])


@plugin("bacnet")
class Bacnet:
    """Oracle: "BACnet APDUs" (src, dst, APDU type, service), "BACnet/IP BVLC functions" (src, dst, function) and
    "BACnet I-Am" (src, instance, vendor). otsense: one PDU per datagram, code/kind per bacnet_apdu_key(); codes
    >= 0x300 (network layer messages, BVLC messages without NPDU) are tshark's "- -" APDU rows; BVLC functions that
    carry no NPDU are also compared with the BVLC table (code 0x400 | function). Rows without IP (BACnet over
    LLC, src "-") are not otsense's. Identities: each I-Am row not routed (the .full.txt adds a 'remote' column:
    NPDU SNET present or Forwarded-NPDU) -> vendor of src; the .full.txt section "BACnet device properties" (device
    object character-string properties in ReadProperty/ReadPropertyMultiple acks) -> vendor/model/firmware/
    description/name of src."""
    APDU = "BACnet APDUs"
    BVLC = "BACnet/IP BVLC functions"
    IAM = "BACnet I-Am"
    PROPS = "BACnet device properties"
    PROP_KIND = {"121": "vendor", "70": "model", "44": "firmware", "12": "description", "77": "name"}

    def regen(self, pcap):
        apdu, bvlc, iam, props = (collections.Counter() for _ in range(4))
        for src, dst, fn, t, cs, us, snet, inst, vend in tshark_fields(
                pcap, "bvlc || bacnet", ["ip.src", "ip.dst", "bvlc.function", "bacapp.type",
                                         "bacapp.confirmed_service", "bacapp.unconfirmed_service", "bacnet.snet",
                                         "bacapp.instance_number", "bacapp.vendor_identifier"]):
            src, dst = src or "-", dst or "-"  # BACnet over LLC (not IP): listed by the oracle, not otsense's
            if fn:
                bvlc[(src, dst, "0x%02x" % int(fn, 0))] += 1
            svc = ("U:" + us) if t == "1" else (cs or "-")
            apdu[(src, dst, t or "-", svc if t else "-")] += 1
            if t == "1" and us == "0":
                remote = "1" if snet or fn in ("0x04", "0x4", "4") else "0"
                iam[(src, split_list(inst)[0] if inst else "-", vend or "-", remote)] += 1
        # device object character-string properties of ReadProperty(Multiple) acks: the values have no field of
        # their own in tshark 4.0 (only text lines: "vendor-name: ISO 10646 UCS-2 'JCI'", "Object Name: X")
        r = subprocess.run(["tshark", "-r", pcap, "-Y", "bacapp.type == 3 && ip", "-V"], capture_output=True,
                           text=True, check=True)
        names = {"vendor-name": "121", "model-name": "70", "firmware-revision": "44",
                 "application-software-version": "12"}
        src, remote, dev = None, False, False
        for line in r.stdout.splitlines():
            if line.startswith("Frame "):
                src, remote, dev = None, False, False
            m = re.match(r"Internet Protocol Version 4, Src: (\S+), Dst:", line)
            if m:
                src = m.group(1)
            if line.strip().startswith("Source Network Address:") or "Function: Forwarded-NPDU" in line:
                remote = True
            m = re.search(r"= Object Type: .* \((\d+)\)$", line)
            if m:
                dev = m.group(1) == "8"
            m = re.match(r"\s+([a-z-]+): [^']*'(.*)'$", line)
            pid = names.get(m.group(1)) if m else None
            val = m.group(2) if m else None
            m = re.match(r"\s+Object Name: (.*)$", line)
            if m:
                pid, val = "77", m.group(1)
            if pid and dev and not remote and src:
                props[(src, pid, val)] += 1
        return (table(self.APDU, ["src", "dst", "apdu_type", "service"], apdu) +
                table(self.BVLC, ["src", "dst", "bvlc_function"], bvlc) +
                table(self.IAM, ["src", "instance", "vendor", "remote"], iam) +
                (table(self.PROPS, ["src", "property", "value"], props) if props else ""))

    @staticmethod
    def fmt(k):
        return f"{k[0]}>{k[1]} code={k[2]} {k[3]}"

    def check(self, cap):
        fails = []
        rows, p = cap.section(self.APDU)
        fails += p
        exp = collections.Counter()
        for r in rows:
            if r[1] == "-":
                continue
            exp[(r[1], r[2]) + bacnet_apdu_key(r[3], r[4])] += int(r[0])
        rows, p = cap.section(self.BVLC)
        fails += p
        exp_bvlc = collections.Counter()
        for r in rows:
            fn = int(r[3], 16)
            if fn not in (0x04, 0x09, 0x0a, 0x0b):
                exp_bvlc[(r[1], r[2], str(0x400 | fn), "bvlc")] += int(r[0])
        act, act_bvlc = collections.Counter(), collections.Counter()
        for x in cap.summary.get("pdus", []):
            if x["protocol"] != "bacnet":
                continue
            c = x["code"]
            if c >= 0x300:
                act[(x["src"], x["dst"], "nonapdu", "other")] += x["count"]
                if c >= 0x400:
                    act_bvlc[(x["src"], x["dst"], str(c), "bvlc")] += x["count"]
            else:
                act[(x["src"], x["dst"], str(c), x["kind"])] += x["count"]
        fails += compare_counts("apdu", exp, act, cap.diff.get("apdu"), self.fmt)
        fails += compare_counts("bvlc", exp_bvlc, act_bvlc, cap.diff.get("bvlc"), self.fmt)
        # identities
        vendors = bacnet_vendor_table()
        facts = []
        rows, p = cap.section(self.IAM, collapse=lambda r: r[:4])
        fails += p
        for r in rows:
            if r[1] == "-" or (len(r) > 4 and r[4] == "1"):
                continue
            v = int(r[3])
            facts.append((r[1], "vendor", vendors.get(v, f"vendor-id {v}")))
        if cap.full and self.PROPS in cap.full:
            for r in cap.full[self.PROPS][1]:
                if r[3]:
                    facts.append((r[1], self.PROP_KIND[r[2]], r[3]))
        fails += check_identities(cap, "bacnet", facts)
        fails += check_events(cap, "bacnet")
        return fails


# ---------------------------------------------------------------------------------------------- S7comm / S7comm-plus

def hexint(s):
    try:
        return int(s, 16) if s.lower().startswith("0x") else int(s)
    except ValueError:
        return None


@plugin("s7comm")
class S7comm:
    """Oracle: "S7comm Job/Ack/Ack_Data" (src, dst, ROSCTR, function), "S7comm Userdata" (src, dst, type, function
    group, subfunction), "S7comm-plus" (src, dst, version, opcode, function: raw bytes of each first COTP fragment),
    "S7comm header error classes", "S7comm identity" (SZL 0x0011 / 0x001c). otsense (protocols/s7comm.h): Job/Ack
    code = function, userdata code = 0x1000|group<<8|subfunction, S7comm-plus unit = version and code =
    0x20000|function (opcodes 0x31/0x32) or 0x30000|opcode. Keys: Job -> req, Ack/Ack_Data -> resp (response or
    exception), userdata type 4 -> req, 8 -> resp, 0 -> push; S7comm-plus 0x31 req, 0x32/0x02 resp, 0x33 push, other
    opcodes "other". Identities: every sender of an S7 answer that never acts as a client (Setup communication
    job, userdata or S7comm-plus request) is vendor Siemens; SZL rows give product_code (first
    order number), model (that order number, and the cpu_type column), name, description (module_name), serial;
    the firmware (index 7 'V' x.y.z: the oracle shows only Ausbg, i.e. 'V' and x) comes from differences.json and
    must agree with the oracle's Ausbg."""
    JOB = "S7comm Job/Ack/Ack_Data"
    UD = "S7comm Userdata"
    PLUS = "S7comm-plus (raw bytes after COTP, first fragment only; Wireshark 4.0 has no S7comm-plus dissector)"
    ERR = "S7comm header error classes (non-zero)"
    IDENT = "S7comm identity (SZL 0x0011 order numbers / SZL 0x001c component ids)"

    @staticmethod
    def fmt(k):
        return f"{k[0]}>{k[1]} {k[2]} {k[3]}"

    @staticmethod
    def otsense_key(x):
        c, kind = x["code"], x["kind"]
        if c < 0x100:
            return ("job fn=0x%02x" % c, "req" if kind == "request" else "resp")
        if c < 0x2000:
            g, s = (c >> 8) & 0xf, c & 0xff
            k = {"request": "req", "response": "resp", "exception": "resp", "unsolicited": "push"}.get(kind, kind)
            return ("ud %d/%s" % (g, "-" if g == 0 else str(s)), k)
        k = {"request": "req", "response": "resp", "exception": "resp", "unsolicited": "push"}.get(kind, kind)
        if (c >> 16) == 2:
            return ("plus v=0x%02x fn=0x%04x" % (x["unit"], c & 0xffff), k)
        return ("plus v=0x%02x op=0x%02x" % (x["unit"], c & 0xff), k)

    def check(self, cap):
        fails = []
        expected = collections.Counter()
        answered, clients = set(), set()  # senders of answers; hosts that act as clients (setup, requests)
        rows, p = cap.section(self.JOB)
        fails += p
        for r in rows:
            fn = hexint(r[4])
            d = "req" if r[3] == "1" else "resp"
            expected[(r[1], r[2], "job fn=0x%02x" % (fn if fn is not None else 0), d)] += int(r[0])
            if d == "resp":
                answered.add(r[1])
            if d == "req" and fn == 0xf0:
                clients.add(r[1])
        rows, p = cap.section(self.UD)
        fails += p
        for r in rows:
            d = {"4": "req", "8": "resp", "0": "push"}.get(r[3], r[3])
            expected[(r[1], r[2], "ud %s/%s" % (r[4], "-" if r[4] == "0" else r[5]), d)] += int(r[0])
            if d == "resp":
                answered.add(r[1])
            if d == "req":
                clients.add(r[1])
        rows, p = cap.section(self.PLUS)
        fails += p
        for r in rows:
            ver, op, fn = hexint(r[3]), hexint(r[4]), r[5]
            d = {0x31: "req", 0x32: "resp", 0x02: "resp", 0x33: "push"}.get(op, "other")
            if op in (0x31, 0x32) and fn != "-":
                what = "plus v=0x%02x fn=0x%04x" % (ver, hexint(fn))
            else:
                what = "plus v=0x%02x op=0x%02x" % (ver, op)
            expected[(r[1], r[2], what, d)] += int(r[0])
            if d in ("resp", "push"):
                answered.add(r[1])
            if d == "req":
                clients.add(r[1])
        actual, act_exc = collections.Counter(), collections.Counter()
        for x in cap.summary.get("pdus", []):
            if x["protocol"] != "s7comm":
                continue
            what, d = self.otsense_key(x)
            actual[(x["src"], x["dst"], what, d)] += x["count"]
            if x["kind"] == "exception" and x["code"] < 0x100:
                act_exc[(x["src"], x["dst"], "header error", "exception")] += x["count"]
        fails += compare_counts("pdus", expected, actual, cap.diff.get("pdus"), self.fmt)
        rows, p = cap.section(self.ERR)
        fails += p
        exp_exc = collections.Counter()
        for r in rows:
            exp_exc[(r[1], r[2], "header error", "exception")] += int(r[0])
        fails += compare_counts("exceptions", exp_exc, act_exc, cap.diff.get("exceptions"), self.fmt)
        # identities: vendor for every answering device, SZL rows
        facts = {(ip, "vendor", "Siemens") for ip in answered - clients}
        sec = cap.verbatim.get(self.IDENT)
        majors = {}
        if sec:
            hdr = sec[0]
            for r in sec[1]:
                row = dict(zip(hdr, r))
                ip = row["src"]
                mlfbs = [m.strip() for m in row.get("mlfb", "").split("|")]
                if mlfbs and mlfbs[0]:
                    facts.add((ip, "product_code", mlfbs[0]))
                    facts.add((ip, "model", mlfbs[0]))
                for a in row.get("ausbg", "").split("|"):
                    v = hexint(a) if a else None
                    if v is not None and v >> 8 == ord("V"):
                        majors.setdefault(ip, set()).add("V%d." % (v & 0xff))
                for col, kind in (("plc_name", "name"), ("module_name", "description"), ("serial", "serial"),
                                  ("cpu_type", "model")):
                    v = row.get(col, "").strip()
                    if v and v != "-":
                        facts.add((ip, kind, v))
        for i in cap.diff.get("identities", []):
            if i["kind"] == "firmware" and i["ip"] in majors:
                if not any(i["value"].startswith(m) for m in majors[i["ip"]]):
                    fails.append(f"documented firmware {i['value']} of {i['ip']} disagrees with the oracle's Ausbg "
                                 f"{sorted(majors[i['ip']])}")
                majors.pop(i["ip"])
        for ip, m in majors.items():
            fails.append(f"oracle shows firmware {sorted(m)} for {ip}: document otsense's exact value")
        fails += check_identities(cap, "s7comm", facts)
        fails += check_events(cap, "s7comm")
        return fails


# ---------------------------------------------------------------------------------------------- EtherNet/IP + CIP

_TSHARK_VALUES = {}


def tshark_values(field):
    """{int: name} from `tshark -G values` (how the oracle names numbers)."""
    if not _TSHARK_VALUES:
        r = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True, check=True)
        for line in r.stdout.splitlines():
            f = line.split("\t")
            if len(f) == 4 and f[0] == "V":
                v = hexint(f[2])
                if v is not None:
                    _TSHARK_VALUES.setdefault(f[1], {}).setdefault(v, f[3])
    return _TSHARK_VALUES.get(field, {})


def named(raw, field, width):
    v = hexint(raw)
    if v is None:
        return raw
    name = tshark_values(field).get(v)
    s = "0x%0*x" % (width, v)
    return f"{s} ({name})" if name else s


@plugin("enip")
class Enip:
    """Oracle: "EtherNet/IP encapsulation commands" (src, dst, command), "CIP services" (src, dst, service, req/resp,
    classes of the frame: summed over), "CIP non-zero general status" (src, dst, status), "EtherNet/IP List Identity
    responses". otsense (protocols/enip.h): encapsulation code = command, CIP code = 0x10000|service; CIP kind request
    -> req, response/exception -> resp; CIP exceptions (general status not 0, not 0x06) per (src, dst) = the
    non-zero general status rows without 0x06. Identity rows give vendor (the name tshark shows), device_type,
    product_code, firmware (major.minor: tshark's raw revision 0x0403 is the bytes 04 03, major 4 minor 3), serial,
    model (product name)."""
    ENCAP = "EtherNet/IP encapsulation commands"
    CIP = "CIP services"
    GS = "CIP non-zero general status"
    LID = "EtherNet/IP List Identity responses (revision = raw uint16 as tshark shows it)"

    def regen(self, pcap):
        enc, cip, gs = collections.Counter(), collections.Counter(), collections.Counter()
        for src, dst, cmds, scs, rrs, classes, stats in tshark_fields(
                pcap, "enip || cip", ["ip.src", "ip.dst", "enip.command", "cip.sc", "cip.rr", "cip.class",
                                      "cip.genstat"]):
            for c in split_list(cmds):
                enc[(src, dst, named(c, "enip.command", 4))] += 1
            rr = split_list(rrs)
            cls = sorted(set(split_list(classes)), key=lambda x: hexint(x) or 0)
            cls_s = ",".join(named(c, "cip.class", max(2, len(c) - 2)) for c in cls) or "-"
            for i, s in enumerate(split_list(scs)):
                r = rr[i] if i < len(rr) else "-"
                cip[(src, dst, named(s, "cip.sc", 2), {"0x00": "req", "0x01": "resp"}.get(r, r), cls_s)] += 1
            for g in split_list(stats):
                if hexint(g):
                    gs[(src, dst, named(g, "cip.genstat", 2))] += 1
        return (table(self.ENCAP, ["src", "dst", "command"], enc) +
                table(self.CIP, ["src", "dst", "service", "rr", "classes"], cip) +
                (table(self.GS, ["src", "dst", "status"], gs) if gs else ""))

    @staticmethod
    def fmt(k):
        return f"{k[0]}>{k[1]} {k[2]} {k[3]}"

    @staticmethod
    def section(cap, title):
        """Capture.section, but a .full.txt is checked against the verbatim rows column by column as written: the
        classes column lists several "0x.. (name)" items, which num() would cut after the first one."""
        f = cap.full.get(title) if cap.full else None
        if f is None:
            return cap.section(title)
        v = cap.verbatim.get(title)
        problems = []
        agg = collections.Counter()
        for r in f[1]:
            agg[tuple(r[1:])] += int(r[0])
        if v is not None:
            for r in v[1]:
                if agg.get(tuple(r[1:])) != int(r[0]):
                    problems.append(f".full.txt disagrees with the oracle row {r}: {agg.get(tuple(r[1:]))}")
            if len(agg) != len(v[1]) + v[2]:
                problems.append(f".full.txt has {len(agg)} rows for '{title}', the oracle {len(v[1]) + v[2]}")
        return [[num(c) for c in r] for r in f[1]], problems

    def check(self, cap):
        fails = []
        expected = collections.Counter()
        rows, p = self.section(cap, self.ENCAP)
        fails += p
        for r in rows:
            expected[(r[1], r[2], "encap 0x%04x" % hexint(r[3]), "-")] += int(r[0])
        rows, p = self.section(cap, self.CIP)
        fails += p
        for r in rows:
            expected[(r[1], r[2], "cip 0x%02x" % hexint(r[3]), r[4])] += int(r[0])
        actual, act_exc = collections.Counter(), collections.Counter()
        for x in cap.summary.get("pdus", []):
            if x["protocol"] != "enip":
                continue
            c = x["code"]
            if c < 0x10000:
                actual[(x["src"], x["dst"], "encap 0x%04x" % c, "-")] += x["count"]
            else:
                actual[(x["src"], x["dst"], "cip 0x%02x" % (c & 0x7f),
                        "req" if x["kind"] == "request" else "resp")] += x["count"]
                if x["kind"] == "exception":
                    act_exc[(x["src"], x["dst"], "general status", "exception")] += x["count"]
        fails += compare_counts("pdus", expected, actual, cap.diff.get("pdus"), self.fmt)
        rows, p = self.section(cap, self.GS)
        fails += p
        exp_exc = collections.Counter()
        for r in rows:
            if hexint(r[3]) != 0x06:
                exp_exc[(r[1], r[2], "general status", "exception")] += int(r[0])
        fails += compare_counts("exceptions", exp_exc, act_exc, cap.diff.get("exceptions"), self.fmt)
        facts = set()
        sec = cap.verbatim.get(self.LID)
        if sec:
            for r in sec[1]:
                row = dict(zip(sec[0], r))
                ip = row["src"]
                m = re.match(r"\S+ \((.*)\)$", row["vendor"])
                facts.add((ip, "vendor", m.group(1) if m else "vendor-id %d" % hexint(row["vendor"])))
                m = re.match(r"(\d+)(?: \((.*)\))?$", row["device_type"])
                facts.add((ip, "device_type", m.group(2) or "device-type " + m.group(1)))
                facts.add((ip, "product_code", row["product_code"]))
                rev = hexint(re.sub(r"\s*\(.*\)$", "", row["revision"]))
                facts.add((ip, "firmware", "%d.%d" % (rev >> 8, rev & 0xff)))  # 0x0403 = bytes 04 03: 4.3
                facts.add((ip, "serial", "0x%08x" % hexint(row["serial"])))
                facts.add((ip, "model", row["product_name"]))
        fails += check_identities(cap, "enip", facts)
        fails += check_events(cap, "enip")
        return fails


# ---------------------------------------------------------------------------------------------- driver

def captures(oracle_dir):
    out = []
    for root, _, files in os.walk(oracle_dir):
        for f in files:
            if f.endswith(".tshark.txt"):
                out.append(os.path.relpath(os.path.join(root, f[:-len(".tshark.txt")]), oracle_dir))
    return sorted(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("otsense")
    ap.add_argument("--data", default=os.path.join(here, "data"))
    ap.add_argument("--pcaps", default=os.environ.get("OTS_PCAPS", "/work/shared/pcaps"))
    ap.add_argument("--proto", action="append", help="only these protocols (repeatable)")
    ap.add_argument("--regen", action="store_true", help="rewrite the .full.txt tables with tshark, then check")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the otsense summary rows per capture")
    a = ap.parse_args()
    found = find_pcaps(a.pcaps)
    if not found:
        print(f"proto_regress: no capture directory ({a.pcaps}, $OTS_PCAPS, ../shared/pcaps): skipped")
        sys.exit(77)
    a.pcaps = found
    failed_any = False
    ran = 0
    for name in sorted(a.proto or PLUGINS):
        pl = PLUGINS.get(name)
        if pl is None:
            sys.exit(f"proto_regress: no plug-in for {name}")
        base = os.path.join(a.data, "proto", name)
        oracle_dir = os.path.join(base, "oracle")
        diffs = {}
        if os.path.exists(os.path.join(base, "differences.json")):
            with open(os.path.join(base, "differences.json")) as f:
                diffs = json.load(f)
        passed = failed = 0
        print(f"== {name}")
        for rel in captures(oracle_dir):
            pcap = os.path.join(a.pcaps, rel)
            if not os.path.exists(pcap):
                print(f"  FAIL {rel}: capture missing under {a.pcaps}")
                failed += 1
                continue
            if a.regen and hasattr(pl, "regen"):
                with open(os.path.join(oracle_dir, rel + ".full.txt"), "w") as f:
                    f.write(f"# {rel}: full tables regenerated by tests/proto_regress.py --regen "
                            f"(tshark -T fields -E occurrence=a), see ../README.md\n\n")
                    f.write(pl.regen(pcap))
            rc, summary, _, err = run_sensor(a.otsense, ["--pcap", pcap, "-q"], timeout=300)
            ran += 1
            if rc != 0 or summary is None:
                print(f"  FAIL {rel}: otsense exited {rc}: {err.strip()[-300:]}")
                failed += 1
                continue
            cap = Capture(name, rel, pcap, oracle_dir, summary, diffs.get(rel, {}))
            fails = pl.check(cap)
            if a.verbose:
                for x in sorted(summary.get("pdus", []), key=lambda x: json.dumps(x, sort_keys=True)):
                    if x["protocol"] == name:
                        print(f"       {x}")
            if fails:
                failed += 1
                print(f"  FAIL {rel}")
                for m in fails:
                    print(f"         {m}")
            else:
                passed += 1
                print(f"  ok   {rel}")
        print(f"RESULT proto_regress_{name}: {passed} passed, {failed} failed")
        failed_any |= failed > 0
    sys.exit(1 if failed_any else (0 if ran else 77))


if __name__ == "__main__":
    main()
