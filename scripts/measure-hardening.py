#!/usr/bin/env python3
"""Measures how tessera-host holds up against a password guesser, a sign-in
flood and a slow client, on loopback, with the server's default settings:

  python3 scripts/measure-hardening.py [BINARY] [--seconds 60]

BINARY defaults to target/debug/tessera-host. It prints, for the README and
the closing note: sign-in attempts a guesser gets per minute against one user
(from one address, and from a new address per attempt through a trusted
proxy), the server's resident memory before and after three waves of 100
parallel sign-ins under made-up names, and how long a client that never
finishes its headers holds a connection. Every loop is bounded in count and
time; nothing leaves 127.0.0.1.
"""

import argparse
import base64
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time


def start(binary, db, extra):
    process = subprocess.Popen(
        [binary, "--db", db, "serve", "--listen", "127.0.0.1:0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stdout.readline()
        match = re.search(r"listening on http://([\d.]+):(\d+)", line)
        if match:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, (match.group(1), int(match.group(2)))
    process.kill()
    sys.exit("the server did not start")


def resident_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def sign_in(address, user, password, client=None, timeout=30):
    """One `GET /api/usertokens` with Basic credentials; the status."""
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    head = (f"GET /api/usertokens HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Authorization: Basic {credentials}\r\n")
    if client:
        head += f"X-Forwarded-For: {client}\r\n"
    with socket.create_connection(address, timeout=timeout) as s:
        s.sendall((head + "\r\n").encode())
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    return int(answer.split(b" ", 2)[1]) if answer else 0


def guesses(address, seconds, vary_address):
    """Guesses for one user for `seconds`; (answered 401, refused 429)."""
    answered = refused = 0
    deadline = time.time() + seconds
    attempt = 0
    while time.time() < deadline and attempt < 100_000:
        attempt += 1
        client = f"10.1.{attempt // 250 % 250}.{attempt % 250 + 1}" if vary_address else None
        status = sign_in(address, "ann", f"guess-{attempt}", client)
        if status == 401:
            answered += 1
        elif status == 429:
            refused += 1
    return answered, refused


def flood(address, pid, waves=3, width=100):
    before = resident_mib(pid)
    statuses = []
    lock = threading.Lock()

    def one(wave, i):
        try:
            status = sign_in(address, f"made-up-{wave}-{i}", "x", f"10.2.{wave}.{i + 1}", timeout=60)
        except OSError:
            status = 0
        with lock:
            statuses.append(status)

    for wave in range(waves):
        threads = [threading.Thread(target=one, args=(wave, i)) for i in range(width)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    after = resident_mib(pid)
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    return before, after, counts


def slow_client(address, limit=120):
    """Seconds until the server closes a connection whose headers never end."""
    started = time.time()
    with socket.create_connection(address) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(1)
        while time.time() - started < limit:
            try:
                if not s.recv(4096):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
    return time.time() - started


def guessing(args, db, proxy):
    """Guesses against one user: from one address, then from a new one each time."""
    for vary_address, label in ((False, "one address"), (True, "a new address per guess")):
        process, address = start(args.binary, db, proxy)
        try:
            answered, refused = guesses(address, args.seconds, vary_address)
            print(f"{label}, {args.seconds} s: {answered} guesses answered (401), {refused} refused (429)")
        finally:
            process.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", nargs="?", default="target/debug/tessera-host")
    parser.add_argument("--seconds", type=int, default=60, help="length of each guessing run")
    parser.add_argument("--skip-guessing", action="store_true", help="only the flood and the slow client")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="tessera-measure-")
    db = os.path.join(work, "t.db")
    subprocess.run([args.binary, "--db", db, "user", "add", "ann", "--admin"],
                   input="ann-password\n", text=True, check=True, capture_output=True)
    # A build from before trusted proxies ignores X-Forwarded-For anyway.
    help_text = subprocess.run([args.binary, "serve", "--help"], capture_output=True, text=True).stdout
    proxy = ["--trusted-proxy", "127.0.0.1"] if "--trusted-proxy" in help_text else []
    if not args.skip_guessing:
        guessing(args, db, proxy)
    # A fresh server, so that its memory before the flood is that of one
    # sign-in after start-up.
    process, address = start(args.binary, db, proxy)
    try:
        sign_in(address, "ann", "ann-password")
        before, after, counts = flood(address, process.pid)
        print(f"sign-in flood, 3 waves of 100 connections: statuses {counts};"
              f" resident memory after one sign-in {before:.0f} MiB, after the flood {after:.0f} MiB"
              f" (+{after - before:.0f} MiB)")
        print(f"a client that never finishes its headers is closed after {slow_client(address):.1f} s")
    finally:
        process.kill()


if __name__ == "__main__":
    main()
