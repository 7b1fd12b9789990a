#!/usr/bin/env python3
"""pace.py FILE SECONDS: copy FILE to stdout evenly over SECONDS, so a
transfer stays alive long enough for a fault to be injected into it."""
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
with open(path, "rb") as f:
    blob = f.read()
steps = max(1, int(seconds * 20))
size = -(-len(blob) // steps)
start = time.time()
out = sys.stdout.buffer
for i in range(steps):
    out.write(blob[i * size:(i + 1) * size])
    out.flush()
    delay = start + (i + 1) * seconds / steps - time.time()
    if delay > 0:
        time.sleep(delay)
