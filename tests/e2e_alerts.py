#!/usr/bin/env python3
"""tests/e2e_alerts.py - detection out of the real sensor: OT engine alerts on real captures, signatures
(Hyperscan prefilter + verification) on real and generated traffic, alert hygiene, and the rule CLI.

  1. OT engine: every capture in tests/data/alerts/expected.json raises exactly the expected alerts per category
     (counts per request PDU, derived with tshark filters recorded in that file; aggregation off so each
     occurrence is a record); captures of normal traffic raise none.
  2. Aggregation: with the default window the same operations come out as fewer records whose per-id count adds
     up to the occurrences; ids are the same across runs and with 2 workers (stable ids).
  3. Signatures: a rule on the Stratum "mining.subscribe" method fires once per packet that tshark says carries it;
     a pattern split across two TCP segments matches once (generated capture), a broken one never.
  4. Rule CLI: --check-rules reports skipped rules with file:line, sid and the keyword, and still loads the rest
     (exit 1); an unreadable file is exit 2; the shipped ruleset loads with nothing skipped (exit 0).

usage: e2e_alerts.py OTSENSE DATA_DIR [PCAPS_DIR]
"""
import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checks, find_pcaps  # noqa: E402

OT_ONLY = ["--set", "detect.rule_files=", "--set", "detect.alert_window=0"]


def run(binary, args, timeout=300):
    r = subprocess.run([binary, "-q", *args, "--json", "-"], capture_output=True, text=True, timeout=timeout)
    recs = [json.loads(l) for l in r.stdout.splitlines() if l.strip().startswith("{")]
    return r, [x["alert"] for x in recs if x.get("type") == "alert"]


def by_category(alerts, engine="DETECTION_ENGINE_OT"):
    n = collections.Counter()
    for a in alerts:
        if a.get("engine") == engine:
            n[a["category"]] += int(a.get("count", 1))
    return n


# ---- generated captures (pcap, Ethernet) ----

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    sip, dip = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ph = sip + dip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + tcp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)


def conversation(chunks):
    """a TCP connection 10.0.0.1:40000 -> 10.0.0.2:3333 carrying the client chunks as separate segments"""
    c, s = "10.0.0.1", "10.0.0.2"
    cs, ss = 1000, 5000
    fr = [tcp_frame(c, s, 40000, 3333, cs, 0, 0x02), tcp_frame(s, c, 3333, 40000, ss, cs + 1, 0x12),
          tcp_frame(c, s, 40000, 3333, cs + 1, ss + 1, 0x10)]
    seq = cs + 1
    for ch in chunks:
        fr.append(tcp_frame(c, s, 40000, 3333, seq, ss + 1, 0x18, ch))
        seq += len(ch)
        fr.append(tcp_frame(s, c, 3333, 40000, ss + 1, seq, 0x10))
    fr.append(tcp_frame(c, s, 40000, 3333, seq, ss + 1, 0x11))
    fr.append(tcp_frame(s, c, 3333, 40000, ss + 1, seq + 1, 0x11))
    fr.append(tcp_frame(c, s, 40000, 3333, seq + 1, ss + 2, 0x10))
    return fr


def test_ot_engine(c, binary, data, pcaps):
    exp_path = os.path.join(data, "alerts", "expected.json")
    if not c.check("OT expectations present (tests/data/alerts/expected.json)", os.path.exists(exp_path)):
        return
    with open(exp_path) as f:
        expected = json.load(f)["captures"]
    for e in expected:
        path = os.path.join(pcaps, e["pcap"])
        if not c.check(f"{e['pcap']}: capture present", os.path.exists(path), path):
            continue
        r, alerts = run(binary, ["--pcap", path, *OT_ONLY])
        got = by_category(alerts)
        want = {k: v for k, v in e.get("alerts", {}).items() if v}
        if e.get("normal"):
            c.check(f"{e['pcap']}: normal traffic raises no OT alert", r.returncode == 0 and not got,
                    f"rc={r.returncode} got={dict(got)}")
        else:
            c.check(f"{e['pcap']}: OT alerts {want}", r.returncode == 0 and dict(got) == want,
                    f"rc={r.returncode} got={dict(got)} {r.stderr[-300:]}")
        for a in alerts:
            if a.get("engine") != "DETECTION_ENGINE_OT":
                continue
            ok = (len(a.get("id", "")) == 32 and a.get("mitreTechniques") and a.get("severity", "").startswith(
                "SEVERITY_") and a.get("tuple") and a.get("srcAsset") and a.get("dstAsset") and a.get("evidence"))
            if not c.check(f"{e['pcap']}: alert '{a['category']}' carries id, MITRE, severity, assets, evidence",
                           ok, json.dumps(a)[:400]):
                break
            break


def test_aggregation(c, binary, data, pcaps):
    with open(os.path.join(data, "alerts", "expected.json")) as f:
        expected = json.load(f)["captures"]
    # the capture with the most OT alerts
    best = max((e for e in expected if not e.get("normal")), key=lambda e: sum(e.get("alerts", {}).values()),
               default=None)
    if not c.check("a capture with OT alerts to aggregate", best is not None):
        return
    path = os.path.join(pcaps, best["pcap"])
    r0, every = run(binary, ["--pcap", path, *OT_ONLY])
    r1, agg = run(binary, ["--pcap", path, "--set", "detect.rule_files=", "--set", "detect.alert_window=86400"])
    r2, agg2 = run(binary, ["--pcap", path, "--set", "detect.rule_files=", "--set", "detect.alert_window=86400",
                            "--workers", "2", "--set", "dataplane.shared_cores=true"])
    occ = collections.Counter(a["id"] for a in every)
    last = {}
    for a in agg:  # a later record of an id supersedes the earlier one (TOTAL counts)
        last[a["id"]] = int(a.get("count", 1))
    c.check(f"{best['pcap']}: aggregated into fewer records ({len(every)} occurrences -> {len(agg)} records)",
            r1.returncode == 0 and len(agg) < len(every) and len(agg) >= len(occ), f"{len(every)} -> {len(agg)}")
    c.check(f"{best['pcap']}: per-id count of the last record = occurrences", last == dict(occ),
            f"{last} vs {dict(occ)}")
    c.check(f"{best['pcap']}: ids identical across runs and with 2 workers",
            set(a["id"] for a in agg) == set(occ) == set(a["id"] for a in agg2), "")
    last2 = {}
    for a in agg2:
        last2[a["id"]] = int(a.get("count", 1))
    c.check(f"{best['pcap']}: 2 workers: counts merged by the exporter", last2 == dict(occ), f"{last2}")


def test_signatures(c, binary, pcaps, tmp):
    rules = os.path.join(tmp, "t.rules")
    with open(rules, "w") as f:
        f.write('alert tcp any any -> any any (msg:"stratum subscribe"; flow:to_server; '
                'content:"mining.subscribe"; sid:1000001; rev:2; classtype:policy-violation; '
                'metadata: mitre_technique T0000;)\n')
        f.write('alert tcp any any -> any any (msg:"split pattern"; content:"OTSENSE-SPLIT-PATTERN-0123456789"; '
                'sid:1000002; rev:1;)\n')
    base = ["--set", "detect.rule_files=", "--rules", rules, "--set", "detect.alert_window=0",
            "--set", "detect.ot_engine=false", "--set", f"detect.cache_dir={tmp}/cache"]
    mining = None
    for root, _, files in os.walk(pcaps):
        for fn in sorted(files):
            if fn.endswith((".pcap", ".pcapng")) and "min" in fn.lower() and mining is None:
                p = os.path.join(root, fn)
                t = subprocess.run(["tshark", "-r", p, "-Y", 'tcp.payload contains "mining.subscribe"', "-T",
                                    "fields", "-e", "frame.number"], capture_output=True, text=True, timeout=120)
                if t.returncode == 0 and t.stdout.split():
                    mining = (p, len(t.stdout.split()))
    if c.check("a capture with Stratum mining.subscribe (tshark)", mining is not None):
        p, n = mining
        r, alerts = run(binary, ["--pcap", p, *base])
        hits = [a for a in alerts if a.get("rule", {}).get("sid") == 1000001]
        c.check(f"{os.path.basename(p)}: stratum rule fires {n} times like tshark", r.returncode == 0 and len(hits)
                == n, f"rc={r.returncode} got {len(hits)} {r.stderr[-300:]}")
        if hits:
            a = hits[0]
            c.check("signature alert carries sid/rev/msg, classtype, MITRE from metadata",
                    a["rule"].get("rev") == 2 and a["title"] == "stratum subscribe" and
                    a["category"] == "policy-violation" and a.get("mitreTechniques") == ["T0000"] and
                    a["engine"] == "DETECTION_ENGINE_SIGNATURE", json.dumps(a)[:300])
    pat = b"OTSENSE-SPLIT-PATTERN-0123456789"
    cases = {"split across two segments": ([b"hello " + pat[:11], pat[11:] + b" bye"], 1),
             "in one segment": ([b"xx" + pat + b"yy"], 1),
             "split in three": ([b"a" + pat[:5], pat[5:20], pat[20:] + b"z"], 1),
             "broken pattern": ([b"hello " + pat[:11], b"!" + pat[11:]], 0)}
    for name, (chunks, want) in cases.items():
        cap = os.path.join(tmp, "split.pcap")
        write_pcap(cap, conversation(chunks))
        r, alerts = run(binary, ["--pcap", cap, *base])
        hits = [a for a in alerts if a.get("rule", {}).get("sid") == 1000002]
        c.check(f"generated TCP: pattern {name}: {want} alert(s)", r.returncode == 0 and len(hits) == want,
                f"rc={r.returncode} got {len(hits)} {r.stderr[-300:]}")


def test_rule_cli(c, binary, tmp):
    bad = os.path.join(tmp, "mixed.rules")
    with open(bad, "w") as f:
        f.write("# mixed\n")
        f.write('alert tcp any any -> any 502 (msg:"ok one"; content:"|00 00|"; sid:2000001;)\n')
        f.write('alert http any any -> any any (msg:"web"; http.uri; content:"/x"; sid:2000002;)\n')
        f.write('alert tcp any any -> any any (msg:"broken"; content:"abc; sid:2000003;)\n')
        f.write('alert udp any any -> any 47808 (msg:"ok two"; content:"|81|"; depth:1; sid:2000004;)\n')
    r = subprocess.run([binary, "--set", "detect.rule_files=", "--rules", bad, "--check-rules",
                        "--set", f"detect.cache_dir={tmp}/cache"], capture_output=True, text=True, timeout=60)
    c.check("--check-rules with skipped rules: exit 1", r.returncode == 1, f"rc={r.returncode} {r.stderr}")
    c.check("unsupported keyword named with file:line and sid",
            f"{bad}:3: sid 2000002" in r.stderr and "http" in r.stderr, r.stderr)
    c.check("syntax error named with file:line", f"{bad}:4:" in r.stderr, r.stderr)
    c.check("the other rules still load (2 loaded)", "rules: 2 loaded" in r.stdout, r.stdout)
    r = subprocess.run([binary, "--set", "detect.rule_files=", "--rules", os.path.join(tmp, "nope.rules"),
                        "--check-rules"], capture_output=True, text=True, timeout=60)
    c.check("unreadable rule file: exit 2 naming it", r.returncode == 2 and "nope.rules" in r.stderr,
            f"rc={r.returncode} {r.stderr}")
    r = subprocess.run([binary, "--check-rules", "--set", f"detect.cache_dir={tmp}/cache"], capture_output=True,
                       text=True, timeout=60)
    c.check("shipped ruleset: loads with nothing skipped (exit 0)", r.returncode == 0 and
            "skipped: 0 syntax/value errors, 0 unsupported" in r.stdout, f"rc={r.returncode} {r.stdout} {r.stderr}")
    r2 = subprocess.run([binary, "--check-rules", "--set", f"detect.cache_dir={tmp}/cache"], capture_output=True,
                        text=True, timeout=60)
    c.check("second --check-rules loads the compiled databases from the cache", "loaded from cache" in r2.stdout,
            r2.stdout)


def main():
    binary, data = sys.argv[1], sys.argv[2]
    pcaps = find_pcaps(sys.argv[3] if len(sys.argv) > 3 else None)
    c = Checks("e2e_alerts")
    tmp = tempfile.mkdtemp(prefix="ots-alerts-")
    try:
        test_rule_cli(c, binary, tmp)
        if c.check("shared capture corpus found", pcaps is not None):
            test_ot_engine(c, binary, data, pcaps)
            if os.path.exists(os.path.join(data, "alerts", "expected.json")):
                test_aggregation(c, binary, data, pcaps)
            test_signatures(c, binary, pcaps, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
