#!/usr/bin/env python3
"""pty_top.py - "fastpath top" as a user runs it: on a terminal.

  pty_top.py PATTERN TIMEOUT COMMAND...

Runs COMMAND with a new pseudo-terminal as its stdin, stdout and stderr,
reads its output until a line matches the regular expression PATTERN (or
TIMEOUT seconds pass), then presses q. Prints one line per finding and
exits 0 only if all hold:
  frame     a line of the output matched PATTERN
  exit      COMMAND exited by itself with status 0 within 5 s of the q
  raw       while it ran, the terminal was out of canonical mode and echo
  restored  the terminal's settings afterwards are those it had before
            (canonical mode and echo back on)
On failure the last output is printed, for the test's log.
"""
import os
import pty
import re
import select
import signal
import sys
import termios
import time


def main(pattern, timeout, argv):
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    # The child's terminal as it starts: the slave side, seen through the
    # master (termios on a pty master reads and sets the pair's settings).
    before = termios.tcgetattr(master)
    out = b""
    seen = False
    end = time.monotonic() + float(timeout)
    rx = re.compile(pattern)
    while time.monotonic() < end and not seen:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break                   # the child closed the terminal
        if not chunk:
            break
        out += chunk
        # Frames start with a clear-screen sequence: look at whole lines.
        text = out.decode(errors="replace").replace("\r", "")
        seen = any(rx.search(l) for l in text.split("\n"))
    raw = termios.tcgetattr(master)
    os.write(master, b"q")
    status = None
    end = time.monotonic() + 5
    while time.monotonic() < end:
        # Drain, so the child never blocks on a full terminal.
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                out += os.read(master, 65536)
            except OSError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    after = None
    try:
        after = termios.tcgetattr(master)
    except termios.error:
        pass
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    ok = True
    print("frame %s" % ("yes" if seen else "no"))
    ok &= seen
    code = os.waitstatus_to_exitcode(status) if status is not None else None
    print("exit %s" % ("none within 5 s of q" if code is None else code))
    ok &= code == 0
    lflag = termios.ICANON | termios.ECHO
    # Only a terminal that was changed shows that it was put back.
    print("raw-while-running %s" % ("yes" if raw[3] & lflag == 0 else "no"))
    ok &= raw[3] & lflag == 0
    restored = after is not None and after == before and after[3] & lflag == lflag
    print("restored %s" % ("yes" if restored else "no"))
    ok &= restored
    if not ok:
        tail = out.decode(errors="replace").replace("\r", "").replace("\033", "^[")
        print("--- output ---\n" + tail[-3000:])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
