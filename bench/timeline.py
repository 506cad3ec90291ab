#!/usr/bin/env python3
"""Where a command's cores go over time: runs it, samples each thread's CPU
time (utime + stime from /proc) every 0.1 s and prints, per time bin (BIN
seconds, 0.5 by default), the cores busy in all and in its five busiest
threads. Shows phases where a core idles (e.g. rows waiting for the hash).

Usage: BIN=1 bench/timeline.py target/release/xuncha --lake L ingest INBOX
"""
import os, subprocess, sys, time, collections
tick = os.sysconf('SC_CLK_TCK')
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
prev = {}
bins = collections.defaultdict(lambda: collections.Counter())
t0 = time.time()
BIN = float(os.environ.get('BIN', '0.5'))
while p.poll() is None:
    now = time.time() - t0
    try:
        tids = os.listdir(f'/proc/{p.pid}/task')
    except FileNotFoundError:
        break
    for tid in tids:
        try:
            s = open(f'/proc/{p.pid}/task/{tid}/stat').read()
        except FileNotFoundError:
            continue
        name = s[s.index('(')+1:s.rindex(')')]
        f = s[s.rindex(')')+2:].split()
        cpu = (int(f[11]) + int(f[12])) / tick
        key = (tid, name)
        d = cpu - prev.get(key, 0.0)
        prev[key] = cpu
        if d > 0:
            bins[int(now / BIN)][f'{name[:7]}{tid[-4:]}'] += d
    time.sleep(0.1)
wall = time.time() - t0
tot = collections.Counter()
for b in bins.values(): tot.update(b)
names = [n for n, v in tot.most_common() if v > 0.3]
print('threads:', ', '.join(f'{n} {v:.1f}s' for n, v in tot.most_common(12)))
print(f"wall {wall:.2f}s rc {p.returncode}")
top = names[:5]
print("t     total " + " ".join(f"{n[:12]:>12}" for n in top) + "       others")
for b in range(int(wall / BIN) + 1):
    c = bins[b]
    print(f"{b*BIN:5.1f} {sum(c.values())/BIN:5.2f} " + " ".join(f"{c[n]/BIN:12.2f}" for n in top) + f" {sum(v for k, v in c.items() if k not in top)/BIN:12.2f}")
