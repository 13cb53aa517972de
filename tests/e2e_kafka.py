#!/usr/bin/env python3
"""tests/e2e_kafka.py - the Kafka export end to end, with a real single-node Kafka broker (scripts/kafka-broker).

1. Round trip: otsense --pcap --kafka; otsense-cat reads otsense.flows and otsense.health back: every record
   decodes, the counts equal what the sensor says it sent, (bootId, sequence) is 1..N once each, keys are right.
2. Outage: a sensor replaying a capture forever (a steady stream of Flow records) while the broker is stopped
   and started again: every record of the run reaches Kafka exactly once, in order per topic; the spool was used.
3. Restart while the broker is down: a first run spools everything (otsense-cat --spool shows it), a second run
   with the broker back sends the old spool first, then its own records: both boots complete and unique.
4. Bad input: an unreachable broker is not an error (summary and log say so, records are spooled); a topic that
   does not exist (auto-creation off) fails its records with a clear log line; a TLS file that does not exist
   stops the start with one line; otsense-cat reports an unknown topic and an unreachable broker.

The broker runs on its own random free port pair (OTS_E2E_KAFKA_PORT overrides) with its state in a
temporary directory, and is stopped at the end. Exit 77 (skipped) when Java or the Kafka jars are unavailable.

usage: e2e_kafka.py OTSENSE OTSENSE_CAT TEST_DATA_DIR REPO_ROOT
"""
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checks, run_sensor  # noqa: E402


def port_free(p):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p))
            return True
        except OSError:
            return False


def pick_port():
    """a free client+controller port pair; random, so that concurrent runs (meson test -j) do not collide"""
    if os.environ.get("OTS_E2E_KAFKA_PORT"):
        return int(os.environ["OTS_E2E_KAFKA_PORT"])
    rnd = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(200):
        p = rnd.randrange(20000, 60000, 2)
        if port_free(p) and port_free(p + 1):
            return p
    raise SystemExit("no free port pair for the test broker")


class Broker:
    def __init__(self, root, state, port):
        self.script = os.path.join(root, "scripts", "kafka-broker")
        self.state, self.port = state, port
        self.bootstrap = f"127.0.0.1:{port}"

    def run(self, cmd, auto_create=True, check=True):
        env = dict(os.environ, OTS_KAFKA_PORT=str(self.port), OTS_KAFKA_STATE=self.state,
                   OTS_KAFKA_AUTO_CREATE="true" if auto_create else "false")
        r = subprocess.run([self.script, cmd], env=env, capture_output=True, text=True, timeout=600)
        if check and r.returncode != 0:
            raise RuntimeError(f"kafka-broker {cmd} failed ({r.returncode}): {r.stdout[-500:]} {r.stderr[-1500:]}")
        return r

    def start(self, auto_create=True):
        r = self.run("start", auto_create, check=False)
        if r.returncode != 0 and "formatting the storage" in r.stderr:
            # scripts/kafka-broker draws a random cluster id that can start with '-', which kafka-storage takes
            # for an option (1 in 32): format again
            self.run("clean", check=False)
            r = self.run("start", auto_create, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"kafka-broker start failed ({r.returncode}): {r.stdout[-500:]} {r.stderr[-1500:]}")

    def stop(self):
        self.run("stop", check=False)


def write_pcap(path, flows, filler):
    """A capture that, replayed with --pcap-loop and flow.timeout.tcp_closed=0, gives a steady stream of Flow
    records: `flows` SYN/RST pairs (each ends a flow per pass) and `filler` UDP packets of one long flow that
    set the pace (a few hundred passes a second)."""
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff)
        s += s >> 16
        return (~s) & 0xffff

    def ip(src, dst, proto, payload):
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, bytes(src), bytes(dst))
        return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

    def eth(p):
        return b"\x00\x11\x22\x33\x44\x55\x00\x11\x22\x33\x44\x66\x08\x00" + p

    a, b = [10, 0, 0, 1], [10, 0, 0, 2]
    t = [1700000000, 0]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))

        def w(pkt):
            t[1] += 100
            if t[1] >= 1000000:
                t[0], t[1] = t[0] + 1, t[1] - 1000000
            f.write(struct.pack("<IIII", t[0], t[1], len(pkt), len(pkt)) + pkt)

        for i in range(flows):
            w(eth(ip(a, b, 6, struct.pack("!HHIIBBHHH", 1000 + i, 80, 1, 0, 5 << 4, 0x02, 1024, 0, 0))))
            w(eth(ip(b, a, 6, struct.pack("!HHIIBBHHH", 80, 1000 + i, 0, 2, 5 << 4, 0x14, 1024, 0, 0))))
        for _ in range(filler):
            w(eth(ip(a, b, 17, struct.pack("!HHHH", 5000, 5001, 40, 0) + b"x" * 32)))


def consume(cat, bootstrap, topics, timeout=180):
    """All records of the topics via otsense-cat --keys -e: list of dicts {key, topic, partition, offset, value}"""
    args = [cat, "-b", bootstrap, "-e", "--keys"]
    for t in topics:
        args += ["-t", t]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    recs, bad = [], 0
    for line in r.stdout.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            bad += 1
    return r.returncode, recs, bad, r.stderr


PLURAL = {"asset": "assets", "alert": "alerts", "flow": "flows", "health": "health"}


def topic_sets(prefix):
    """--set options sending every record type to PREFIX.assets/alerts/flows/health"""
    out = []
    for t, pl in PLURAL.items():
        out += ["--set", f"export.kafka.topic.{pl}={prefix}.{pl}"]
    return out


def topics_of(prefix, *summaries):
    """the topics the runs wrote to: one per record type they emitted (a topic only exists once written)"""
    types = {t for s in summaries if s for t, n in s["export"]["records"].items() if n}
    return [f"{prefix}.{PLURAL[t]}" for t in PLURAL if t in types]


def kafka_sink(s):
    return (s or {}).get("export", {}).get("sinks", {}).get("kafka", {})


def check_boot(c, what, recs, boot, last_seq, topics):
    """(boot, sequence) for sequence 1..last_seq each exactly once; increasing per topic"""
    mine = [r for r in recs if str(r["value"].get("bootId")) == str(boot)]
    seqs = [int(r["value"]["sequence"]) for r in mine]
    dups = len(seqs) - len(set(seqs))
    missing = sorted(set(range(1, last_seq + 1)) - set(seqs))
    c.check(f"{what}: sequences 1..{last_seq} each exactly once", dups == 0 and not missing and len(seqs) == last_seq,
            f"records {len(seqs)} duplicates {dups} missing {len(missing)} {missing[:10]}")
    ordered = True
    for t in topics:
        ts = [int(r["value"]["sequence"]) for r in mine if r["topic"] == t]
        ordered &= ts == sorted(ts)
    c.check(f"{what}: in order per topic", ordered)
    return mine


def main():
    binary, cat, data, root = sys.argv[1:5]
    c = Checks("e2e_kafka")
    if not shutil.which("java"):
        print("SKIP e2e_kafka: java not found (scripts/kafka-broker needs Java 17+)")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="ots_e2e_kafka.")
    port = pick_port()
    broker = Broker(root, os.path.join(tmp, "kafka"), port)
    fetch = broker.run("fetch", check=False)
    if fetch.returncode != 0:
        print(f"SKIP e2e_kafka: no Kafka jars ({fetch.stderr.strip()[-300:]})")
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(77)
    synscan = os.path.join(data, "pcaps", "nDPI_synscan.pcap")
    modbus = os.path.join(data, "pcaps", "zeek_modbus_modbusSmall.pcap")
    bs = broker.bootstrap
    try:
        broker.start()
        print(f"broker on {bs}, state in {broker.state}")

        # ---- 1. round trip ------------------------------------------------------------------------------
        print("1. round trip")
        rc, s, out, err = run_sensor(binary, ["-q", "--pcap", synscan, "--kafka", bs,
                                              "--set", f"export.spool.dir={tmp}/spool1"])
        k = kafka_sink(s)
        if not c.check("sensor ran with --kafka", rc == 0 and bool(k), err[-500:]):
            raise RuntimeError("no kafka section in the summary")
        sent = sum(s["export"]["records"].values())
        c.check(f"summary: {sent} records accepted and delivered, none failed, dropped or spooled",
                k["accepted"] == sent and k["delivered"] == sent and k["failed"] == 0 and k["dropped"] == 0 and
                k["spooled"] == 0 and k["spool_records"] == 0 and k["healthy"] and k["state"] == "ok", json.dumps(k))
        topics = topics_of("otsense", s)
        rc, recs, bad, cerr = consume(cat, bs, topics)
        c.check(f"otsense-cat -e reads {', '.join(topics)} and exits 0, every line JSON",
                rc == 0 and bad == 0 and recs, f"rc={rc} bad={bad} {cerr[-300:]}")
        boot = s["export"]["boot_id"]
        mine = check_boot(c, "round trip", recs, boot, s["export"]["last_sequence"], topics)
        by = {}
        for r in mine:
            by[r["value"]["type"]] = by.get(r["value"]["type"], 0) + 1
        c.check(f"record counts by type equal the summary {s['export']['records']}",
                all(by.get(t, 0) == n for t, n in s["export"]["records"].items()), json.dumps(by))
        c.check("each record type on its topic (otsense.flows, otsense.health, ...)",
                all(r["topic"] == "otsense." + PLURAL[r["value"]["type"]] for r in mine))

        def want_key(v):
            if v["type"] == "flow":
                return format(int(v["flow"]["flowHash"]), "016x")
            if v["type"] == "asset":
                return v["asset"]["id"]
            if v["type"] == "alert":
                return v["alert"]["id"]
            return "otsense"
        c.check("keys: flow hash as 16 hex digits, asset/alert id, sensor id for health",
                all(r["key"] == want_key(r["value"]) for r in mine),
                json.dumps([(r["key"], want_key(r["value"])) for r in mine if r["key"] != want_key(r["value"])][:3]))
        r = subprocess.run([cat, "-b", bs, "-t", "otsense.flows", "-c", "5"], capture_output=True, text=True,
                           timeout=60)
        c.check("otsense-cat -c 5 prints 5 records", r.returncode == 0 and len(r.stdout.splitlines()) == 5,
                r.stderr[-200:])

        # ---- 2. outage in the middle of a run -----------------------------------------------------------
        print("2. broker stopped and restarted under a running sensor")
        stream = os.path.join(tmp, "stream.pcap")
        write_pcap(stream, 3, 20000)
        summ = os.path.join(tmp, "s2.json")
        p = subprocess.Popen([binary, "-q", "--pcap", stream, "--pcap-loop", "--duration", "45", "--kafka", bs,
                              "--summary-json", summ,
                              "--set", "flow.timeout.tcp_closed=0", "--set", "export.health_interval=1",
                              "--set", "export.kafka.queue_max_messages=1000",
                              "--set", f"export.spool.dir={tmp}/spool2"] + topic_sets("outage"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(8)
        t0 = time.time()
        broker.stop()
        print(f"   broker stopped after {time.time() - t0:.1f} s")
        time.sleep(15)
        t0 = time.time()
        broker.start()
        print(f"   broker started again after {time.time() - t0:.1f} s")
        out, err = p.communicate(timeout=180)
        s = json.load(open(summ)) if os.path.exists(summ) else None
        k = kafka_sink(s)
        c.check("sensor kept running through the outage and exited 0", p.returncode == 0 and bool(k), err[-800:])
        if k:
            sent = sum(s["export"]["records"].values())
            c.check(f"summary: all {sent} records delivered, none dropped or failed, nothing left in the spool",
                    k["accepted"] == sent and k["delivered"] == sent and k["dropped"] == 0 and k["failed"] == 0 and
                    k["spool_records"] == 0 and k["queued"] == 0, json.dumps(k))
            c.check(f"the spool took the overflow ({k['spooled']} records) and replayed it",
                    k["spooled"] > 0 and k["replayed"] == k["spooled"], json.dumps(k))
            c.check("the log says the broker went away and came back",
                    "no broker reachable" in err and "broker reachable again" in err, err[-800:])
            if os.environ.get("OTS_E2E_VERBOSE"):
                print(err)
            topics = topics_of("outage", s)
            rc, recs, bad, cerr = consume(cat, bs, topics)
            c.check("records read back", rc == 0 and bad == 0, cerr[-300:])
            check_boot(c, "outage", recs, s["export"]["boot_id"], s["export"]["last_sequence"], topics)

        # ---- 3. sensor restarted while the broker is down -----------------------------------------------
        print("3. restart while the broker is down")
        broker.stop()
        spool3 = f"{tmp}/spool3"
        common = ["--set", f"export.spool.dir={spool3}", "--set", "export.kafka.queue_max_messages=1000"] + \
            topic_sets("restart")
        rc, s1, out, err = run_sensor(binary, ["-q", "--pcap", synscan, "--kafka", bs] + common)
        k = kafka_sink(s1)
        n1 = sum(s1["export"]["records"].values()) if s1 else 0
        c.check(f"first run, broker down: exit 0, all {n1} records in the spool, nothing delivered or dropped",
                rc == 0 and k and k["delivered"] == 0 and k["dropped"] == 0 and k["spool_records"] == n1 and
                k["queued"] == 0 and not k["healthy"] and "unreachable" in k["state"], json.dumps(k) + err[-500:])
        r = subprocess.run([cat, "--spool", spool3, "--keys"], capture_output=True, text=True, timeout=60)
        spooled = [json.loads(l) for l in r.stdout.splitlines()]
        c.check(f"otsense-cat --spool shows the {n1} waiting records, in order",
                r.returncode == 0 and len(spooled) == n1 and
                [int(x["value"]["sequence"]) for x in spooled] == list(range(1, n1 + 1)), r.stderr[-300:])
        broker.start()
        rc, s2, out, err = run_sensor(binary, ["-q", "--pcap", modbus, "--kafka", bs] + common)
        k = kafka_sink(s2)
        n2 = sum(s2["export"]["records"].values()) if s2 else 0
        # its own records queue behind the old spool (through the spool while it is not drained)
        c.check(f"second run: the old spool ({n1}) and its own {n2} records delivered",
                rc == 0 and k and k["delivered"] == n1 + n2 and k["replayed"] == n1 + k["spooled"] and
                k["spool_records"] == 0 and k["dropped"] == 0, json.dumps(k) + err[-500:])
        c.check("the log announces the spool left by the earlier run", "left in the spool" in err, err[-500:])
        topics = topics_of("restart", s1, s2)
        rc, recs, bad, cerr = consume(cat, bs, topics)
        c.check("records read back", rc == 0 and bad == 0, cerr[-300:])
        if s1 and s2:
            check_boot(c, "first run", recs, s1["export"]["boot_id"], s1["export"]["last_sequence"], topics)
            check_boot(c, "second run", recs, s2["export"]["boot_id"], s2["export"]["last_sequence"], topics)
            first = [i for i, r in enumerate(recs) if r["topic"] == "restart.flows" and
                     str(r["value"]["bootId"]) == str(s1["export"]["boot_id"])]
            second = [i for i, r in enumerate(recs) if r["topic"] == "restart.flows" and
                      str(r["value"]["bootId"]) == str(s2["export"]["boot_id"])]
            c.check("the old spool went out before the new records",
                    first and second and max(first) < min(second))
        c.check("spool directory empty again",
                os.path.isdir(spool3) and not [f for f in os.listdir(spool3) if f.endswith(".seg")])

        # ---- 4. bad input -------------------------------------------------------------------------------
        print("4. bad input")
        dead = pick_free_single(port)
        rc, s, out, err = run_sensor(binary, ["-q", "--pcap", modbus, "--kafka", f"127.0.0.1:{dead}",
                                              "--set", f"export.spool.dir={tmp}/spool4"])
        k = kafka_sink(s)
        n = sum(s["export"]["records"].values()) if s else 0
        c.check("wrong broker port: the sensor runs, exit 0, records spooled",
                rc == 0 and k and k["spool_records"] == n and k["delivered"] == 0 and k["dropped"] == 0,
                json.dumps(k) + err[-300:])
        c.check("wrong broker port: summary and log say the broker is unreachable",
                k and not k["healthy"] and "unreachable" in k["state"] and f"127.0.0.1:{dead}" in err and
                "no broker reachable" in err, (k or {}).get("state", "") + err[-400:])

        # a topic that does not exist, with auto-creation off
        broker.stop()
        broker.start(auto_create=False)
        rc, s, out, err = run_sensor(binary, ["-q", "--pcap", modbus, "--kafka", bs] + topic_sets("restart") +
                                             ["--set", "export.kafka.topic.flows=nosuch.flows",
                                              "--set", "export.kafka.properties.topic.metadata.propagation.max.ms=1000",
                                              "--set", f"export.spool.dir={tmp}/spool5"])
        k = kafka_sink(s)
        nflows = s["export"]["records"]["flow"] if s else -1
        c.check(f"unknown topic: its {nflows} flow records fail, the other records go through",
                rc == 0 and k and k["failed"] == nflows and
                k["delivered"] == sum(s["export"]["records"].values()) - nflows, json.dumps(k) + err[-300:])
        lines = [l for l in err.splitlines() if "nosuch.flows" in l and "exist" in l]
        c.check("unknown topic: one clear log line naming the topic and the setting",
                len(lines) == 1 and "does not exist" in lines[0] and "export.kafka.topic.flows" in lines[0], err[-600:])
        r = subprocess.run([cat, "-b", bs, "-t", "nosuch.flows", "-e"], capture_output=True, text=True, timeout=60)
        c.check("otsense-cat: unknown topic -> exit 1, one line",
                r.returncode == 1 and "nosuch.flows" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr)

        # a TLS file that does not exist: the start fails with one line
        r = subprocess.run([binary, "-q", "--pcap", modbus, "--kafka", bs,
                            "--set", "export.kafka.properties.security.protocol=ssl",
                            "--set", "export.kafka.properties.ssl.ca.location=/nonexistent/ca.pem",
                            "--set", f"export.spool.dir={tmp}/spool6"], capture_output=True, text=True, timeout=60)
        lines = [l for l in r.stderr.splitlines() if "ssl.ca.location" in l]
        c.check("bad TLS file: start fails (exit != 0) with one line naming ssl.ca.location",
                r.returncode != 0 and len(lines) == 1, r.stderr[-500:])
        r = subprocess.run([binary, "-q", "--pcap", modbus, "--kafka", bs,
                            "--set", "export.kafka.properties.no.such.thing=1",
                            "--set", f"export.spool.dir={tmp}/spool6"], capture_output=True, text=True, timeout=60)
        c.check("unknown librdkafka property: start fails with a line naming it",
                r.returncode != 0 and "export.kafka.properties.no.such.thing" in r.stderr, r.stderr[-500:])
        broker.stop()
        r = subprocess.run([cat, "-b", bs, "-t", "otsense.flows", "-e", "--timeout", "3"], capture_output=True,
                           text=True, timeout=60)
        c.check("otsense-cat: broker down -> exit 1, one line",
                r.returncode == 1 and "cannot reach Kafka" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                r.stderr)
    except Exception as e:  # noqa: BLE001 - any failure of the harness is a failed check, with the reason
        c.check("e2e harness", False, repr(e))
    finally:
        broker.stop()
        if os.environ.get("OTS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


def pick_free_single(avoid):
    """a port nothing listens on (the "wrong broker port")"""
    for p in range(avoid + 2, avoid + 1000):
        if port_free(p):
            return p
    return 1


if __name__ == "__main__":
    main()
