#!/usr/bin/env python3
"""tests/e2e_pcap.py - the real sensor on real captures, compared with tshark.

For every capture in tests/data/pcaps: otsense --pcap FILE must report the same number of packets, TCP
conversations and UDP conversations as tshark (definitions in tshark_oracle.py; expected.json holds tshark's
answers, and when tshark is installed they are recomputed live and must still agree). Every run must account for
every packet (received == processed + dropped) and exit 0. The multi-flow captures are also run with two workers
on shared cores, where one worker owns the pcap queue and hands packets to the other by the symmetric hash: the
counts must not change and both workers must have done work.

protocols.parsers: the OT captures also run as decode + flow tracking only (protocols.parsers=none, no rule file):
the same tshark counts and classification, but no PDU, identity or payload scan; and with only their own protocol's
parser, which must then find exactly the PDUs the default run found, and no other protocol any (and the
start-up warning names the other protocols the shipped rules have PDU rules for, which then cannot fire).

usage: e2e_pcap.py OTSENSE_BINARY TEST_DATA_DIR
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checks, accounting_ok, run_sensor  # noqa: E402

MULTI_WORKER = {"nDPI_synscan.pcap", "DI-cryptominingdetection_cgminer.s0.pcapng", "nDPI_dnp3.pcap",
                "ITI-ICS-Security-Tools_IEC61850_Sample_File_MMS_and_GOOSE.pcap"}
# app protocol each OT capture must show at least one flow of
# protocols.parsers value that parses APP's flows
PARSERS = {"modbus": "modbus", "dnp3": "dnp3", "s7comm": "s7comm", "iec104": "iec104", "enip": "enip",
           "bacnet": "bacnet"}
APP = {"zeek_modbus_modbusSmall.pcap": "modbus", "nDPI_dnp3.pcap": "dnp3", "nDPI_s7comm.pcap": "s7comm",
       "nDPI_IEC104.pcap": "iec104", "nDPI_opc-ua.pcap": "opcua", "nDPI_mqtt.pcap": "mqtt",
       "nDPI_ethernetIP.pcap": "enip", "nDPI_bacnet.pcap": "bacnet", "nDPI_snmp.pcap": "snmp",
       "EmreEkin-ICS-Pcaps_DNP3_DNP3ValueBinary.pcap": "dnp3",
       "ITI-ICS-Security-Tools_s7_S7-1200-Uploading-OB1-TIAV12.pcap": "s7comm",
       # ISO sessions on port 102 that carry MMS, not S7: the S7comm parser hands them over
       "ITI-ICS-Security-Tools_IEC61850_Sample_File_MMS_and_GOOSE.pcap": "mms"}


def main():
    binary, data = sys.argv[1], sys.argv[2]
    pdir = os.path.join(data, "pcaps")
    c = Checks("e2e_pcap")
    with open(os.path.join(pdir, "expected.json")) as f:
        expected = json.load(f)["files"]
    live = shutil.which("tshark") is not None
    if live:
        import tshark_oracle
    else:
        print("tshark not installed: comparing with the stored tshark answers only")
    for name in sorted(expected):
        exp = expected[name]
        path = os.path.join(pdir, name)
        print(f"{name}:")
        if live:
            now = tshark_oracle.oracle(path)
            c.check(f"{name}: stored expectations equal live tshark", now == exp, f"stored {exp} live {now}")
        runs = [("1 worker", [])]
        if name in MULTI_WORKER:
            runs.append(("2 workers, software distribution",
                         ["--workers", "2", "--set", "dataplane.shared_cores=true"]))
        if name in APP:
            runs.append(("decode+flow only", ["--set", "protocols.parsers=none", "--set", "detect.rule_files="]))
        if APP.get(name) in PARSERS:
            runs.append((f"protocols.parsers={PARSERS[APP[name]]}",
                         ["--set", f"protocols.parsers={PARSERS[APP[name]]}"]))
        full = None
        for label, extra in runs:
            rc, s, out, err = run_sensor(binary, ["-q", "--pcap", path, *extra])
            if not c.check(f"{name} [{label}]: exit 0 and a summary", rc == 0 and s is not None,
                           f"rc={rc} stderr={err.strip()[-300:]}"):
                continue
            got = {"packets": s["packets"], "tcp_conversations": s["flows"]["tcp"],
                   "udp_conversations": s["flows"]["udp"]}
            c.check(f"{name} [{label}]: packets/tcp/udp = tshark {exp}", got == exp, f"otsense {got}")
            c.check(f"{name} [{label}]: received == processed + dropped, nothing dropped",
                    accounting_ok(s) and s["dropped"] == 0 and s["received"] == exp["packets"],
                    f"received {s['received']} processed {s['processed']} dropped {s['dropped']}")
            if name in APP:
                # without parsers a flow keeps its port's protocol: MMS on 102 stays s7comm (no handoff)
                want = "s7comm" if APP[name] == "mms" and label == "decode+flow only" else APP[name]
                c.check(f"{name} [{label}]: classified {want}", s["app_protocols"].get(want, 0) > 0,
                        f"app_protocols {s['app_protocols']}")
            if not extra:
                full = s
            elif label == "decode+flow only":
                c.check(f"{name} [{label}]: no PDU, identity or payload scan",
                        sum(s["app_pdus"].values()) == 0 and not s["identities"] and
                        s["detection"]["scans"] == 0 and sum(s["app_payload_bytes"].values()) == 0,
                        f"app_pdus {s['app_pdus']} identities {len(s['identities'])} "
                        f"scans {s['detection']['scans']}")
            elif label.startswith("protocols.parsers="):
                app = APP[name]
                # the shipped rules on other protocols' PDUs cannot fire: one warning names them, not this one
                warn = [l for l in err.splitlines() if "cannot fire" in l]
                named = warn[0].split("rules on ", 1)[1].split(" PDUs", 1)[0].split(", ") if warn else []
                c.check(f"{name} [{label}]: start-up warning names the unparsed protocols with PDU rules",
                        len(warn) == 1 and app not in named and len(named) >= 1, f"stderr {err.strip()[-300:]}")
                others = {k: v for k, v in s["app_pdus"].items() if k != app and v}
                c.check(f"{name} [{label}]: {app} PDUs as in the default run, no other protocol's",
                        full is not None and s["app_pdus"].get(app, 0) == full["app_pdus"].get(app, -1) > 0
                        and not others, f"{app}: {s['app_pdus'].get(app)} vs "
                        f"{full and full['app_pdus'].get(app)}, others {others}")
            else:
                busy = [w["processed"] for w in s["workers"]]
                c.check(f"{name} [{label}]: both workers processed packets {busy}",
                        len(busy) == 2 and all(b > 0 for b in busy) and sum(busy) == exp["packets"])
    c.finish()


if __name__ == "__main__":
    main()
