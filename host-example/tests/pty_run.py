#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal, as a person at a terminal would.

Usage: pty_run.py ANSWER COMMAND [ARG...]

Waits for the command's prompt (any output containing "Token"), types ANSWER
and Enter, and prints everything the terminal showed. Exits with the
command's exit code. Used by tests/client.rs to check that `login` does not
echo the token.
"""

import os
import pty
import select
import sys
import time

answer, command = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown = b""
typed = False
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        if os.waitpid(pid, os.WNOHANG)[0] != 0:
            break
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
    if not typed and b"Token" in shown:
        os.write(fd, answer.encode() + b"\r")
        typed = True

_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
