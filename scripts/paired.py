#!/usr/bin/env python3
"""Times commands in interleaved rounds, for ratios a noisy machine cannot skew.

    scripts/paired.py OUT.json WARMUP ROUNDS 'command 1' 'command 2' ...

hyperfine runs each command's runs back to back, so the machine's drift between the two
blocks (other tenants, frequency) lands in the ratio. Here every round runs each command once,
in a fresh random order. OUT.json has hyperfine's shape: results[i].median (seconds), .times.
"""
import json
import random
import shlex
import statistics
import subprocess
import sys
import time

out, warmup, rounds, commands = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
times = {c: [] for c in commands}


def run(command):
    start = time.perf_counter()
    done = subprocess.run(shlex.split(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    # The doctor exits 1 on findings; only a crash or a missing program makes a time meaningless.
    if done.returncode not in (0, 1):
        sys.exit(f"{command}: exit {done.returncode}")
    return elapsed


for _ in range(warmup):
    for c in commands:
        run(c)
for _ in range(rounds):
    order = list(commands)
    random.shuffle(order)
    for c in order:
        times[c].append(run(c))
json.dump(
    {"results": [{"command": c, "median": statistics.median(times[c]), "times": times[c]} for c in commands]},
    open(out, "w"),
)
