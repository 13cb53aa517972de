#!/usr/bin/env python3
"""tests/e2e_hugepages.py - the sensor on hugepages, as a sensor server runs it.

CI machines have no hugepages configured, so every other test runs EAL with --no-huge. As root this test reserves
256 x 2 MiB pages (and mounts hugetlbfs when nothing is mounted), runs otsense --pcap on a real capture with
dataplane.hugepages=on and checks: exit 0, the start line says hugepages, packet/TCP/UDP counts equal tshark's
(tests/data/pcaps/expected.json), no hugepage file is left behind and every page is free again (otsense maps them
with --huge-unlink). The reservation and the mount are undone afterwards. Without root, without 2 MiB hugepage
support or when the kernel will not reserve the pages it says so and counts nothing. meson runs it alone (is_parallel false): another otsense started meanwhile with
dataplane.hugepages=auto would take the reserved pages.

usage: e2e_hugepages.py OTSENSE_BINARY TEST_DATA_DIR
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Checks, run_sensor  # noqa: E402


HP = "/sys/kernel/mm/hugepages/hugepages-2048kB"


def hp_read(name):
    with open(os.path.join(HP, name)) as f:
        return int(f.read())


def skip(why):
    """nothing to test on this machine: say why, count nothing (scripts/tally.py counts a non-zero exit as a
    failure)"""
    print(f"hugepages: skipped: {why}")
    print("RESULT e2e_hugepages: 0 passed, 0 failed")
    sys.exit(0)


def hugepages(c, binary, pdir, expected):
    if os.geteuid() != 0 or not os.path.isdir(HP):
        skip("not root or no 2 MiB hugepage support")
    old = hp_read("nr_hugepages")
    mounted = False
    try:
        with open(os.path.join(HP, "nr_hugepages"), "w") as f:
            f.write(str(old + 256))
        if not any(l.split()[2] == "hugetlbfs" for l in open("/proc/mounts") if len(l.split()) > 2):
            os.makedirs("/dev/hugepages", exist_ok=True)
            mounted = subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"]).returncode == 0
        free = hp_read("free_hugepages")
        if free < 256:
            skip(f"only {free} pages free after reserving 256")
        mnt = [l.split()[1] for l in open("/proc/mounts") if len(l.split()) > 2 and l.split()[2] == "hugetlbfs"]
        before = {m: set(os.listdir(m)) for m in mnt}
        name = "nDPI_s7comm.pcap"
        rc, s, out, err = run_sensor(binary, ["-q", "--pcap", os.path.join(pdir, name),
                                              "--set", "dataplane.hugepages=on", "--set", "flow.capacity=65536"])
        ok = rc == 0 and s is not None
        c.check(f"hugepages: {name} on hugepages: exit 0, 'hugepages' in the start line",
                ok and "hugepages, flow table" in err and "no hugepages" not in err, f"rc={rc} {err.strip()[-300:]}")
        if ok:
            got = {"packets": s["packets"], "tcp_conversations": s["flows"]["tcp"],
                   "udp_conversations": s["flows"]["udp"]}
            c.check(f"hugepages: packets/tcp/udp = tshark {expected[name]}", got == expected[name], f"{got}")
        left = {m: set(os.listdir(m)) - before[m] for m in mnt}
        c.check("hugepages: no hugepage file left behind, every page free again",
                not any(left.values()) and hp_read("free_hugepages") == free,
                f"left {left} free {hp_read('free_hugepages')} (was {free})")
    finally:
        with open(os.path.join(HP, "nr_hugepages"), "w") as f:
            f.write(str(old))
        if mounted:
            subprocess.run(["umount", "/dev/hugepages"])


def main():
    binary, data = sys.argv[1], sys.argv[2]
    pdir = os.path.join(data, "pcaps")
    with open(os.path.join(pdir, "expected.json")) as f:
        expected = json.load(f)["files"]
    c = Checks("e2e_hugepages")
    hugepages(c, binary, pdir, expected)
    c.finish()


if __name__ == "__main__":
    main()
