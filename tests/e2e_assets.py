#!/usr/bin/env python3
"""tests/e2e_assets.py - the asset inventory out of the real sensor on real captures.

For each capture: the Asset records (JSON sink) must name the devices the way the tshark oracle and the
capture's own description say: vendor/model/firmware/serial from the protocol, vendor from the MAC's OUI when
the protocol says nothing, the role inferred from behaviour (a Modbus/S7/CIP server is a PLC, a client that
programs or stops a PLC is an engineering station), and the protocols served and used. Every record decodes,
every asset id appears once per emission, and nothing is emitted for an asset that did not change.

usage: e2e_assets.py OTSENSE PCAPS_DIR
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checks, find_pcaps  # noqa: E402

# capture -> {asset id: {field: expected}}; values from the .tshark.txt oracles (identity sections, hosts)
EXPECT = {
    "ITI-ICS-Security-Tools/s7__s7comm_reading_plc_status.pcap": {
        "mac:001b1b23eb3b": {"role": "ASSET_ROLE_PLC", "vendor": "Siemens", "model": "IM151-8 PN/DP CPU",
                             "productCode": "6ES7 151-8AB01-0AB0", "firmware": "V3.2.6",
                             "serialNumber": "S C-C6TW74882012", "protocolsServed": ["s7comm"],
                             "ip": "192.168.1.40"},
        "mac:90e6ba845e41": {"vendor": "ASUSTek COMPUTER INC.", "protocolsUsed": ["s7comm"]},
    },
    "ITI-ICS-Security-Tools/s7__snap7_s300_stop.pcapng": {
        # the client stops the PLC: an engineering station
        "_client_of_stop": {"role": "ASSET_ROLE_ENGINEERING_WORKSTATION"},
    },
    "ITI-ICS-Security-Tools/BACnet__bacnet_test.pcap": {
        "mac:001907243cca": {"role": "ASSET_ROLE_IOT_DEVICE", "vendor": "JCI", "model": "MS-NAE4510-2",
                             "firmware": "5.1.0.4400", "protocolsServed": ["bacnet"]},
    },
    # discovery: LLDP / CDP / DHCP / ARP describe the sender
    "zeek/lldp.pcap": {
        "mac:00222d81db10": {"role": "ASSET_ROLE_NETWORK_DEVICE", "deviceType": "switch", "ip": "192.168.2.10",
                             "description": "SMCGS8P-Smart - SMCGS8P-Smart v3.20"},
    },
    "zeek/cdp-v1.pcap": {
        "mac:00e01ed5d515": {"role": "ASSET_ROLE_NETWORK_DEVICE", "model": "cisco 1601", "firmware": "11.2(12)P",
                             "deviceType": "router", "ip": "192.168.10.1"},
    },
    "zeek/dhcp__dhcp.pcap": {
        "mac:90b11c994929": {"hostname": "btest.is.cool", "vendor": "Dell Inc.", "ip": "192.168.211.194"},
    },
    "zeek/arp-who-has.pcap": {
        "mac:7831c1c63fc2": {"vendor": "Apple, Inc.", "ip": "10.0.0.2"},
    },
    "nDPI/ethernetIP.pcap": {
        "mac:0000bcd160da": {"role": "ASSET_ROLE_PLC", "vendor": "Rockwell Automation", "protocolsServed": ["enip"]},
    },
}


def assets(binary, pcap):
    r = subprocess.run([binary, "-q", "--pcap", pcap, "--json", "-"], capture_output=True, text=True, timeout=120)
    recs = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return r.returncode, [x["asset"] for x in recs if x["type"] == "asset"]


def field(a, k):
    if k == "ip":
        return a.get("key", {}).get("ip")
    v = a.get(k)
    return v["value"] if isinstance(v, dict) and "value" in v else v


def main():
    binary, pcaps = sys.argv[1], find_pcaps(sys.argv[2])
    c = Checks("e2e_assets")
    if not c.check("shared capture corpus found (../shared/pcaps or $OTS_PCAPS)", pcaps is not None):
        c.finish()
    for cap, want in EXPECT.items():
        path = os.path.join(pcaps, cap)
        if not c.check(f"{cap}: capture present", os.path.exists(path), path):
            continue
        rc, al = assets(binary, path)
        c.check(f"{cap}: run ok, assets emitted", rc == 0 and len(al) > 0, f"rc={rc}")
        last = {}
        for a in al:  # later emissions of the same asset supersede earlier ones
            last[a["id"]] = a
        for aid, fields in want.items():
            if aid == "_client_of_stop":
                ok = any(field(a, "role") == fields["role"] for a in last.values())
                c.check(f"{cap}: the client that stops the PLC is an engineering station", ok,
                        json.dumps({k: field(v, 'role') for k, v in last.items()}))
                continue
            a = last.get(aid)
            if not c.check(f"{cap}: asset {aid} exists", a is not None, f"ids {sorted(last)}"):
                continue
            for k, v in fields.items():
                c.check(f"{cap}: {aid} {k} = {v}", field(a, k) == v, f"got {field(a, k)!r}")
        vend = [a for a in last.values() if a.get("vendor", {}).get("sourceProtocol") == "oui"]
        c.check(f"{cap}: OUI vendors are marked as such with low confidence",
                all(a["vendor"]["confidence"] <= 30 for a in vend))
    c.finish()


if __name__ == "__main__":
    main()
