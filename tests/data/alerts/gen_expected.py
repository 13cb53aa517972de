#!/usr/bin/env python3
"""tests/data/alerts/gen_expected.py - derive expected.json (OT engine alerts per capture) with tshark as the oracle.

  gen_expected.py [--pcaps DIR] [--out FILE] [--check]

For every capture in CAPTURES below (paths relative to the shared corpus, default $OTS_PCAPS or
/work/shared/pcaps, i.e. ../shared/pcaps next to the repository) tshark decodes the request PDUs of the six
parsed OT protocols and each one is mapped to the alert category the OT engine (detect/otengine.c) must raise for it.
Counts are per request PDU, before any aggregation. The tshark filter (and the post-processing, where a frame can
carry several PDUs) of every category is written next to the count ("filters"), so each number can be reproduced
by hand. --check compares with the existing expected.json instead of writing it (exit 1 on a difference).

What the sensor cannot see is left out on purpose: S7comm-plus operations (only its function codes are decoded),
MMS, FINS, OPC UA... Only these protocols and operations are counted:
  S7comm   Job 0x29 stop; 0x28 PI P_PROGRAM start, _INSE download, _DELE/_GARB/_MODU modify; 0x1a download;
           0x1d upload; userdata 7/2, 7/4 set clock
  Modbus   FC 8 sub 1 (device reset), 4 (comm disable); FC 90 UMAS 0x40 start, 0x41 stop, 0x30 download,
           0x33 upload; FC 125/126
  CIP      0x07 stop, 0x06 start, 0x05 reset; set-attribute services on 0x8B (time) / 0xF5, 0xF6 / other
           classes (config); 0x4B/0x4C with class 0x74 in the path (lock); File object 0x37; 0x50/0x4F on 0x68/0x6A
  DNP3     13, 14, 18, 17, 16, 15, 19, 31, 21, 27, 4-6; Write (2) with a g50 (time) or g70 (file) object
  IEC-104  activation (COT 6) of 105, 103, 110-113, 45-47/58-60, 48-51/61-64
  BACnet   reinitializeDevice (by state), deviceCommunicationControl (disable, disable-initiation),
           atomicWriteFile, (utc)timeSynchronization
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (capture, normal, what it is). normal: routine traffic only (polling, HMI reads/writes, engineering views) and no
# alert expected; the others contain the operations listed in their counts.
CAPTURES = [
    # S7comm
    ("ITI-ICS-Security-Tools/s7__snap7_s300_stop.pcapng", False, "snap7 PLC stop"),
    ("ITI-ICS-Security-Tools/s7__step7_s300_stop.pcapng", False, "STEP 7 PLC stop"),
    ("ITI-ICS-Security-Tools/s7__step7_s300_download.pcapng", False, "STEP 7 block download (segments missing)"),
    ("ITI-ICS-Security-Tools/s7__tia_s300_downloadOb1.pcapng", False, "TIA Portal OB1 download"),
    ("ITI-ICS-Security-Tools/s7__s7comm_downloading_block_db1.pcap", False, "DB1 download"),
    ("nDPI/s7comm.pcap", False, "DB1 download (nDPI)"),
    ("gymgit-s7-pcaps/tia_s300_downloadHwConfig.pcapng", False,
     "TIA hardware configuration download: stop, delete, download, activate, start"),
    ("ITI-ICS-Security-Tools/s7__step7_s300_copyRamToRom.pcapng", False, "copy RAM to ROM"),
    ("ITI-ICS-Security-Tools/s7__s7comm_reading_setting_plc_time.pcap", False, "read and set the PLC clock"),
    ("EmreEkin-ICS-Pcaps/S7COMM__1-S7comm-VarService-Read-DB1DBD0.pcap", True, "read var polling"),
    ("EmreEkin-ICS-Pcaps/S7COMM__2-S7comm-VarService-CyclicData-1s.pcap", True, "read var and cyclic data"),
    ("ITI-ICS-Security-Tools/s7__wincc_s400_production.pcapng", True, "WinCC HMI production traffic"),
    ("gymgit-s7-pcaps/tia_s300_goOnline.pcapng", True, "TIA go online (SZL, block list)"),
    ("ITI-ICS-Security-Tools/s7__s7comm_reading_plc_status.pcap", True, "SZL status reads"),
    # Modbus
    ("nDPI/umas.pcap", False, "Schneider UMAS session with a program upload (PLC to PC)"),
    ("ITI-ICS-Security-Tools/modicon__modicon_test.pcap", False, "same UMAS session (ITI copy)"),
    ("ITI-ICS-Security-Tools/ModbusTCP__modbus_test_data_part1.pcap", False, "diagnostics 8/1, 8/4 test data"),
    ("ITI-ICS-Security-Tools/ModbusTCP__modbus_test_data_part2.pcap", False, "every function code, 125/126 too"),
    ("nDPI/modbus.pcap", True, "read holding registers polling"),
    ("ITI-ICS-Security-Tools/ModbusTCP__ModbusTCP.pcap", True, "coil/input polling and coil writes"),
    ("ITI-ICS-Security-Tools/ModbusTCP__Modbus__modbus_test.pcap", True, "input register polling, register writes"),
    ("zeek/modbus__modbusSmall.pcap", True, "coil reads and writes"),
    # EtherNet/IP CIP
    ("ITI-ICS-Security-Tools/EthernetIP__cip_stop_plc.pcap", False, "CIP Stop on a Logix controller"),
    ("ITI-ICS-Security-Tools/EthernetIP__cip_start_plc.pcap", False, "CIP Start on a Logix controller"),
    ("ITI-ICS-Security-Tools/EthernetIP__cip_unlock_cpu.pcap", False, "Logix unlock (class 0x74 path)"),
    ("ITI-ICS-Security-Tools/openics__EIP-RemoteModeChangeAttempt.pcap", False, "Logix lock, stop, unlock"),
    ("ITI-ICS-Security-Tools/openics__EIP-RebootorRestart.pcap", False,
     "Logix lock, stop, reset, program download, start, verification reads"),
    ("ITI-ICS-Security-Tools/openics__EIP-SoftwareUpload.pcap", False, "Logix program upload"),
    ("ITI-ICS-Security-Tools/openics__EIP-LockPLCAttempt.pcap", False, "Logix lock attempts"),
    ("ITI-ICS-Security-Tools/openics__EIP-ChangeTimeAttempt.pcap", False, "Logix Wall Clock Time set"),
    ("ITI-ICS-Security-Tools/openics__EIP-ChangeDateAttempt.pcap", False, "Logix Wall Clock Time set"),
    ("EmreEkin-ICS-Pcaps/Ethernet_IP__ControlLogix_Logix5000_download_upload_run.pcap", False,
     "RSLogix online session (one Set_Attribute_List)"),
    ("EmreEkin-ICS-Pcaps/Ethernet_IP__ControlLogix_FactoryTalk_HMI.pcap", True, "FactoryTalk HMI tag reads"),
    ("nDPI/ethernetIP.pcap", True, "tag reads (Multiple Service Packets)"),
    ("ITI-ICS-Security-Tools/EthernetIP__cip-eth-set-2.pcap", True, "a Set_Attribute_Single reply only"),
    # DNP3
    ("ITI-ICS-Security-Tools/dnp3__cold_restart_and_response.pcap", False, "cold restart"),
    ("ITI-ICS-Security-Tools/dnp3__warm_restart_and_response.pcap", False, "warm restart"),
    ("ITI-ICS-Security-Tools/dnp3__disable_unsolcited_and_response.pcap", False, "disable unsolicited"),
    ("ITI-ICS-Security-Tools/dnp3__directoperate_and_response.pcap", False, "direct operate"),
    ("ITI-ICS-Security-Tools/dnp3__select_operate_and_responses.pcap", False, "select before operate"),
    ("ITI-ICS-Security-Tools/dnp3__file_write.pcap", False, "file open, write, close"),
    ("ITI-ICS-Security-Tools/dnp3__file_delete.pcap", False, "file delete"),
    ("nDPI/dnp3.pcap", False, "restarts, stop application, time writes, disable unsolicited"),
    ("ITI-ICS-Security-Tools/dnp3__dnp3_test_data_part1.pcap", False, "same exchange (ITI test data)"),
    ("ITI-ICS-Security-Tools/bro__dnp3__dnp3.pcap", False, "same exchange (Bro test data)"),
    ("ITI-ICS-Security-Tools/dnp3__full_exchange.pcap", False, "start-up: disable unsolicited, integrity poll"),
    ("EmreEkin-ICS-Pcaps/DNP3__dnpanalogOut.pcap", False, "analog output direct operates"),
    ("ITI-ICS-Security-Tools/openics__DNP3-Malformed.pcap", False, "malformed operate flood"),
    ("zeek/dnp3__dnp3_udp_select_operate.pcap", False, "select/operate over UDP"),
    ("ITI-ICS-Security-Tools/dnp3__read_and_response.pcap", True, "integrity poll (class 1, 2, 3, 0)"),
    ("EmreEkin-ICS-Pcaps/DNP3__DNP3ValueBinary.pcap", True, "event class polling"),
    ("ITI-ICS-Security-Tools/dnp3__write_iin_and_response.pcap", True, "IIN restart bit cleared (write g80)"),
    ("zeek/dnp3__dnp3_udp_read.pcap", True, "read over UDP"),
    # IEC 60870-5-104
    ("EmreEkin-ICS-Pcaps/IEC60870-104__58_59.pcap", False, "single/double commands with time, act/deact"),
    ("EmreEkin-ICS-Pcaps/IEC60870-104__50.pcap", False, "set-point commands"),
    ("EmreEkin-ICS-Pcaps/IEC60870-104__iec104_baselines.pcap", False, "interrogation and every command type"),
    ("ITI-ICS-Security-Tools/IEC60870-5-104__090813_diverse.pcap", False, "commands and set points"),
    ("ITI-ICS-Security-Tools/IEC60870-5-104__TestDissectIec104.pcap", False, "commands and clock sync"),
    ("EmreEkin-ICS-Pcaps/IEC60870-104__104IPValue.pcap", False, "parameter activation, set point"),
    ("EmreEkin-ICS-Pcaps/IEC60870-104__104deneme2.pcap", False, "parameter activation"),
    ("ITI-ICS-Security-Tools/IEC60870-5-104__JavaRMI_and_IEC_Misc.pcap", True, "general interrogation polling"),
    ("nDPI/IEC104.pcap", True, "spontaneous measurements"),
    # BACnet/IP
    ("ct-samples/bacnet-stack-services.cap", False,
     "BACnet stack services: reinitialize, DCC, atomicWriteFile, time synchronization"),
    ("ct-samples/bacnet-ip.cap", True, "readProperty polling"),
    ("nDPI/bacnet.pcap", True, "who-is / i-am / readProperty"),
    ("ITI-ICS-Security-Tools/BACnet__bacnet_test.pcap", True, "readProperty"),
]

# ---------------------------------------------------------------------------------------------- tshark helpers


def tshark_fields(pcap, flt, fields):
    cmd = ["tshark", "-n", "-r", pcap, "-Y", flt, "-T", "fields", "-E", "occurrence=a", "-E", "separator=/t",
           "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def tshark_json(pcap, flt, layers):
    cmd = ["tshark", "-n", "-r", pcap, "-Y", flt, "-T", "json", "--no-duplicate-keys"]
    for layer in layers:
        cmd += ["-J", layer]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def as_list(v):
    return v if isinstance(v, list) else [v]


def num(s):
    return int(s, 0)


# ---------------------------------------------------------------------------------------------- protocols
# each returns {category: count}, and fills FILTERS[category] with how it counted


FILTERS = {}  # pcap -> {category: how it was counted}
METHODS = {}  # pcap -> [how a protocol's requests were listed], where that is shared by its categories


def s7comm(pcap):
    c = collections.Counter()
    job = "s7comm.header.rosctr == 1"
    rules = [
        ("ot-plc-stop", f"{job} && s7comm.param.func == 0x29"),
        ("ot-plc-start", f'{job} && s7comm.param.func == 0x28 && s7comm.param.pistart.servicename == "P_PROGRAM"'),
        ("ot-program-download", f'{job} && (s7comm.param.func == 0x1a || (s7comm.param.func == 0x28 && '
                                f's7comm.param.pistart.servicename == "_INSE"))'),
        ("ot-program-modify", f'{job} && s7comm.param.func == 0x28 && (s7comm.param.pistart.servicename == '
                              '"_DELE" || s7comm.param.pistart.servicename == "_GARB" || '
                              's7comm.param.pistart.servicename == "_MODU")'),
        ("ot-program-upload", f"{job} && s7comm.param.func == 0x1d"),
        ("ot-time-set", "s7comm.param.userdata.type == 4 && s7comm.param.userdata.funcgroup == 7 && "
                        "s7comm.param.userdata.subfunc in {2, 4}"),
    ]
    for cat, flt in rules:
        n = len(tshark_fields(pcap, flt, ["frame.number"]))
        if n:
            c[cat] += n
            FILTERS.setdefault(pcap, {})[cat] = flt + "  (frames)"
    return c


def modbus(pcap):
    c = collections.Counter()
    rows = tshark_fields(pcap, "modbus && tcp.dstport == 502", ["modbus.func_code", "modbus.diagnostic_code",
                                                                  "modbus.data"])
    how = {}
    for fcs, diag, data in rows:
        fcs = [int(x) for x in fcs.split(",") if x]
        diags = [int(x) for x in diag.split(",") if x]
        datas = [d for d in data.split(",") if d]
        di = da = 0
        for fc in fcs:
            cat = None
            if fc == 8 and di < len(diags):
                sub = diags[di]
                di += 1
                cat = {1: "ot-device-reset", 4: "ot-comm-disable"}.get(sub)
                if cat:
                    how[cat] = f"modbus && tcp.dstport == 502 && modbus.func_code == 8 && modbus.diagnostic_code == {sub}"
            elif fc == 90 and da < len(datas):
                b = bytes.fromhex(datas[da].replace(":", ""))
                da += 1
                umas = b[1] if len(b) > 1 else -1
                cat = {0x41: "ot-plc-stop", 0x40: "ot-plc-start", 0x30: "ot-program-download",
                       0x33: "ot-program-upload"}.get(umas)
                if cat:
                    how[cat] = (f"modbus && tcp.dstport == 502 && modbus.func_code == 90 && "
                                f"modbus.data[1] == 0x{umas:02x}  (UMAS function after the session byte)")
            elif fc in (125, 126):
                cat = "ot-program-download"
                how[cat] = "modbus && tcp.dstport == 502 && modbus.func_code in {125, 126}"
            if cat:
                c[cat] += 1
    if how:
        FILTERS.setdefault(pcap, {}).update({k: v + "  (per Modbus PDU)" for k, v in how.items()})
    return c


def epath(hexstr):
    """first class, first attribute, and whether class 0x74 is named, from a CIP EPATH"""
    b = bytes.fromhex(hexstr.replace(":", ""))
    i, cls, attr, c74 = 0, None, None, False
    while i < len(b):
        s = b[i]
        if s >> 5 != 1:
            break
        typ, fmt = (s >> 2) & 7, s & 3
        if typ == 5:
            i += 10
            continue
        if fmt == 0:
            v, i = b[i + 1], i + 2
        elif fmt == 1:
            v, i = int.from_bytes(b[i + 2:i + 4], "little"), i + 4
        else:
            v, i = int.from_bytes(b[i + 2:i + 6], "little"), i + 6
        if typ == 0:
            c74 |= v == 0x74
            cls = v if cls is None else cls
        elif typ == 4 and attr is None:
            attr = v
    return cls or 0, attr, c74


def cip_services(node, out):
    """every CIP message in a tshark JSON 'cip' subtree (Multiple Service Packets and Unconnected Send included)"""
    if isinstance(node, list):
        for x in node:
            cip_services(x, out)
        return
    if not isinstance(node, dict):
        return
    st = node.get("cip.service_tree")
    if isinstance(st, dict) and "cip.sc" in st:
        path = None
        for k, v in node.items():
            if k.startswith("Request Path") and isinstance(v, dict) and "cip.epath" in v:
                path = v["cip.epath"]
        out.append((num(st["cip.rr"]), num(st["cip.sc"]), path))
    for k, v in node.items():
        if k != "cip.service_tree":
            cip_services(v, out)


def cip(pcap):
    c = collections.Counter()
    how = {}
    setattr_ = {0x02, 0x04, 0x10}
    for pkt in tshark_json(pcap, "cip.rr == 0", ["cip"]):
        svcs = []
        cip_services(pkt["_source"]["layers"].get("cip"), svcs)
        for rr, sc, path in svcs:
            if rr:
                continue
            cls, _attr, c74 = epath(path) if path else (0, None, False)
            cat = None
            if sc == 0x07:
                cat = "ot-plc-stop"
            elif sc == 0x06:
                cat = "ot-plc-start"
            elif sc == 0x05:
                cat = "ot-device-reset"
            elif sc in setattr_:
                cat = "ot-time-set" if cls == 0x8B else "ot-config-change"
            elif sc in (0x4B, 0x4C) and c74:
                cat = "ot-config-change"
            elif cls == 0x37 and sc in (0x4C, 0x4E):
                cat = "ot-program-download"
            elif cls == 0x37 and sc in (0x4B, 0x4D):
                cat = "ot-program-upload"
            elif cls in (0x68, 0x6A) and sc == 0x50:
                cat = "ot-program-download"
            elif cls in (0x68, 0x6A) and sc == 0x4F:
                cat = "ot-program-upload"
            if cat:
                c[cat] += 1
                how.setdefault(cat, set()).add(f"service 0x{sc:02x} class 0x{cls:02x}" + (" +0x74" if c74 else ""))
    if how:
        METHODS.setdefault(pcap, []).append(
            "CIP: tshark -Y 'cip.rr == 0' -T json --no-duplicate-keys, every CIP request (Multiple Service Packet "
            "and Unconnected Send members too), class = first class segment of cip.epath, +0x74 = class 0x74 in it")
        FILTERS.setdefault(pcap, {}).update({k: ", ".join(sorted(v)) for k, v in how.items()})
    return c


def dnp3(pcap):
    c = collections.Counter()
    fn = {13: "ot-cold-restart", 14: "ot-warm-restart", 18: "ot-plc-stop", 17: "ot-plc-start",
          16: "ot-plc-start", 15: "ot-config-change", 19: "ot-config-change", 31: "ot-config-change",
          21: "ot-comm-disable", 27: "ot-program-modify", 4: "ot-control-command", 5: "ot-control-command",
          6: "ot-control-command"}
    how = {}
    for f, objs in tshark_fields(pcap, "dnp3.al.func", ["dnp3.al.func", "dnp3.al.obj"]):
        groups = {num(o) >> 8 for o in objs.split(",") if o}
        for one in [int(x) for x in f.split(",") if x]:
            cat = fn.get(one)
            if one == 2:
                cat = "ot-time-set" if 50 in groups else "ot-program-download" if 70 in groups else None
            if cat:
                c[cat] += 1
                how.setdefault(cat, set()).add(f"dnp3.al.func == {one}" + (
                    " && dnp3.al.obj (group 50)" if cat == "ot-time-set" else
                    " && dnp3.al.obj (group 70)" if one == 2 else ""))
    if how:
        FILTERS.setdefault(pcap, {}).update({k: " || ".join(sorted(v)) + "  (per application fragment)"
                                             for k, v in how.items()})
    return c


def iec104(pcap):
    c = collections.Counter()
    how = {}
    for tids, cots in tshark_fields(pcap, "iec60870_asdu.causetx == 6", ["iec60870_asdu.typeid",
                                                                         "iec60870_asdu.causetx"]):
        for t, cot in zip(tids.split(","), cots.split(",")):
            if not t or not cot or int(cot) != 6:
                continue
            t = int(t)
            cat = ("ot-device-reset" if t == 105 else "ot-time-set" if t == 103 else
                   "ot-config-change" if 110 <= t <= 113 else
                   "ot-control-command" if 45 <= t <= 51 or 58 <= t <= 64 else None)
            if cat:
                c[cat] += 1
                how.setdefault(cat, set()).add(t)
    if how:
        FILTERS.setdefault(pcap, {}).update({
            k: "iec60870_asdu.causetx == 6, per ASDU (typeid, causetx zipped): typeid in {"
               + " ".join(str(x) for x in sorted(v)) + "}" for k, v in how.items()})
    return c


def bacnet(pcap):
    c = collections.Counter()
    how = {}
    reinit = {"coldstart": "ot-cold-restart", "warmstart": "ot-warm-restart", "startbackup": "ot-program-upload",
              "startrestore": "ot-program-download", "activate-changes": "ot-config-change"}
    flt = ("bvlc && ((bacapp.type == 0 && bacapp.confirmed_service in {7, 17, 20}) || "
           "(bacapp.type == 1 && bacapp.unconfirmed_service in {6, 9}))")
    for pkt in tshark_json(pcap, flt, ["bacapp"]):
        text = json.dumps(pkt["_source"]["layers"].get("bacapp", {}))
        conf = re.search(r'"bacapp.confirmed_service": "(\d+)"', text)
        unconf = re.search(r'"bacapp.unconfirmed_service": "(\d+)"', text)
        cat = None
        if conf and conf.group(1) == "20":
            m = re.search(r"reinitialized State Of Device:\s+([a-z-]+) \(", text)
            cat = reinit.get(m.group(1), "ot-device-reset") if m else "ot-device-reset"
            how[cat] = "bacapp.confirmed_service == 20, state from 'reinitialized State Of Device'"
        elif conf and conf.group(1) == "17":
            m = re.search(r"enable-disable:\s+([a-z-]+) \(", text)
            if not m or m.group(1) != "enable":
                cat = "ot-comm-disable"
                how[cat] = "bacapp.confirmed_service == 17, 'enable-disable' not enable"
        elif conf and conf.group(1) == "7":
            cat = "ot-program-download"
            how[cat] = "bacapp.confirmed_service == 7"
        elif unconf:
            cat = "ot-time-set"
            how[cat] = "bacapp.unconfirmed_service in {6, 9}"
        if cat:
            c[cat] += 1
    if how:
        FILTERS.setdefault(pcap, {}).update({k: "bvlc && bacapp.type == 0/1 && " + v for k, v in how.items()})
    return c


PROTOCOLS = [("s7comm", s7comm), ("modbus", modbus), ("cip", cip), ("dnp3", dnp3), ("iec60870_asdu", iec104),
             ("bacapp", bacnet)]


def protocols_in(pcap):
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-qz", "io,phs"], capture_output=True, text=True).stdout
    return set(re.findall(r"^\s*([a-z0-9_\-\.]+)\s+frames", out, re.M))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcaps", default=os.environ.get("OTS_PCAPS", "/work/shared/pcaps"))
    ap.add_argument("--out", default=os.path.join(HERE, "expected.json"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    entries = []
    for rel, normal, what in CAPTURES:
        path = os.path.join(a.pcaps, rel)
        present = protocols_in(path)
        counts = collections.Counter()
        for layer, fn in PROTOCOLS:
            if layer in present:
                counts.update(fn(path))
        if normal and counts:
            sys.exit(f"{rel}: marked normal but tshark finds {dict(counts)}")
        filters = FILTERS.get(path, {})
        how = METHODS.get(path, []) + [f"{k}: {v}" for k, v in sorted(filters.items())]
        entries.append({
            "pcap": rel,
            "alerts": dict(sorted(counts.items())),
            "normal": normal,
            "note": what + "; " + ("; ".join(how) if how else
                                   "no request tshark decodes in this capture maps to an OT operation"),
        })
    doc = {"captures": entries}
    text = json.dumps(doc, indent=1) + "\n"
    if a.check:
        old = open(a.out).read() if os.path.exists(a.out) else ""
        if old != text:
            print("expected.json differs from what tshark derives now")
            return 1
        print("expected.json is up to date")
        return 0
    with open(a.out, "w") as f:
        f.write(text)
    print(f"wrote {a.out}: {len(entries)} captures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
