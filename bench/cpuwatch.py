#!/usr/bin/env python3
"""bench/cpuwatch.py - is anything else using the CPUs while bench/run measures?

Poll-mode loops and the generator need their CPUs alone; on a shared machine another process silently lowers
every figure. bench/run uses this around each phase:

  cpuwatch.py quiet NAME LOG        wait (up to 30 s) until no other process uses more than 10% of a CPU
  cpuwatch.py snap FILE             remember every process's CPU time
  cpuwatch.py check FILE NAME LOG   CPU seconds other processes used since `snap` (processes that are still
                                    there or appeared meanwhile; the bench's own children have exited by then);
                                    above 0.3 s: one line appended to LOG, exit status 1

Processes of the bench itself are recognised by the BENCH_PID environment variable (the bench/run shell):
it and its descendants are never counted.
"""
import json
import os
import sys
import time

HZ = os.sysconf('SC_CLK_TCK')
THRESHOLD_S = 0.3


def own_pids():
    """the bench shell and everything below it"""
    root = os.environ.get('BENCH_PID')
    parent = {}
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                f = open('/proc/%s/stat' % p).read()
                parent[p] = f[f.rindex(')') + 2:].split()[1]
            except (OSError, IndexError):
                pass
    mine = {str(os.getpid())}
    if root:
        mine.add(root)
        changed = True
        while changed:
            changed = False
            for p, pp in parent.items():
                if pp in mine and p not in mine:
                    mine.add(p)
                    changed = True
    return mine


def sample():
    mine = own_pids()
    r = {}
    for p in os.listdir('/proc'):
        if p.isdigit() and p not in mine:
            try:
                f = open('/proc/%s/stat' % p).read()
                name = f[f.index('(') + 1:f.rindex(')')]
                v = f[f.rindex(')') + 2:].split()
                r[p] = (name, int(v[11]) + int(v[12]), v[19])  # name, utime + stime, start time
            except (OSError, ValueError, IndexError):
                pass
    return r


def used(a, b):
    """{name: cpu seconds} used between samples a and b"""
    out = {}
    for p, (name, t, start) in b.items():
        d = t - a[p][1] if p in a and a[p][2] == start else t
        if d > 0:
            out[name] = out.get(name, 0) + d / HZ
    return out


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'quiet':
        name, log = sys.argv[2], sys.argv[3]
        busy = {}
        for attempt in range(60):
            a = sample()
            time.sleep(0.5)
            busy = {n: s for n, s in used(a, sample()).items() if s / 0.5 > 0.10}
            if not busy:
                return 0
            if attempt == 0:
                print('bench/run: waiting for other busy processes to finish: %s' % ', '.join(sorted(busy)),
                      file=sys.stderr)
        print('bench/run: warning: %s starts while %s use the CPUs' % (name, ', '.join(sorted(busy))), file=sys.stderr)
        return 0
    if cmd == 'snap':
        json.dump(sample(), open(sys.argv[2], 'w'))
        return 0
    if cmd == 'check':
        a = {k: tuple(v) for k, v in json.load(open(sys.argv[2])).items()}
        name, log = sys.argv[3], sys.argv[4]
        u = used(a, sample())
        total = sum(u.values())
        if total <= THRESHOLD_S:
            return 0
        top = ', '.join('%s %.1fs' % (n, s) for n, s in sorted(u.items(), key=lambda x: -x[1])[:4])
        with open(log, 'a') as f:
            f.write('%s\t%.2f\t%s\n' % (name, total, top))
        print('bench/run: other processes used %.1f CPU-seconds during %s (%s)' % (total, name, top), file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
