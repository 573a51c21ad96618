"""Envoy without the filter vs a no-op wasm filter vs the floor of any token
filter (the no-op filter reading `authorization` and writing one header) vs
the Tessera filter with a warm cache vs Envoy's ext_authz filter calling
tessera-host.

One run, same route (a direct 200 answer, so only Envoy and the filter are
measured), wrk on loopback: under load (`connections` connections, for
throughput and loaded latency), then with one connection (for the latency
a single request sees, without queueing). The Envoys all run at once and
are measured in alternating rounds, one short wrk run each per round, so
that a machine that slows down or speeds up mid-run moves them alike: each
ratio is the median of the ratios within the rounds. Prints the median
req/s, p50 and p99 of each, the CPU time Envoy spent per request under
load (read from /proc around each run), the ratios and the added p50,
the ratios of the floors themselves (what no filter's own code can change),
then the filter's size.

Usage: python3 tests/envoy/bench.py [seconds per run] [connections] [envoy workers] [rounds]
"""

import gzip
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import harness

UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def micros(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def cpu_micros(pid):
    """The CPU time all of a process's threads have used, in microseconds."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total * 1e6 / os.sysconf("SC_CLK_TCK")


def wrk(url, seconds, connections, headers=(), pid=None):
    """req/s, p50, p99, non-2xx and, given the server's pid, the server's
    CPU microseconds per request (less noisy than throughput on a shared
    machine: another process's load slows wrk and Envoy alike, but the
    work Envoy does per request stays)."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    before = cpu_micros(pid) if pid else 0
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    used = cpu_micros(pid) - before if pid else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = micros(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = micros(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    count = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, p50, p99, int(bad.group(1)) if bad else 0, used / max(count, 1)


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    stack = harness.Stack()
    try:
        stack.start_host(cache_seconds=3600)
        stack.start_proxy()
        request = urllib.request.Request(
            stack.host_url + "/api/usertokens", method="POST",
            headers={"authorization": "Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=", "content-type": "application/json"},
            data=json.dumps({"name": "bench", "scope": {"preset": "read"}}).encode())
        with urllib.request.urlopen(request) as r:
            token = json.load(r)["token"]
        header = f"Authorization: Bearer {token}"
        print(f"wrk -t1 -c{connections} -d{seconds}s (and -c1) on loopback, {rounds} alternating rounds; "
              f"Envoy --concurrency {workers}; route: direct 200 answer; 2 cores shared by Envoy and wrk")

        ports = {}
        pids = {}
        pids["plain"] = stack.start_envoy(None, name="envoy-plain", direct=True, concurrency=workers).pid
        ports["plain"] = stack.port
        # A wasm filter that does nothing: what any wasm filter costs here.
        pids["noop"] = stack.start_envoy({}, name="envoy-noop", direct=True, concurrency=workers,
                                         wasm=harness.NOOP).pid
        ports["noop"] = stack.port
        # The same filter doing the least any token filter must: read the
        # authorization header, answer 401 without one, hand one identity
        # header on. No parsing, hashing or lookup: the ceiling of any
        # authenticating wasm filter here.
        pids["floor"] = stack.start_envoy({"authenticate": True}, name="envoy-floor", direct=True,
                                          concurrency=workers, wasm=harness.NOOP).pid
        ports["floor"] = stack.port
        plugin = harness.filter_config({"cache": {"positiveSeconds": 3600, "negativeSeconds": 5}})
        pids["filter"] = stack.start_envoy(plugin, name="envoy-filter", direct=True, concurrency=workers).pid
        ports["filter"] = stack.port
        # Envoy's own ext_authz filter asking tessera-host over HTTP for every
        # request: what users without wasm would run.
        pids["ext"] = stack.start_envoy(None, name="envoy-ext-authz", direct=True, concurrency=workers,
                                        ext_authz=True).pid
        ports["ext"] = stack.port
        url = {name: f"http://127.0.0.1:{port}/api/apps" for name, port in ports.items()}
        for _ in range(4 * workers):  # warm every worker's cache
            with urllib.request.urlopen(urllib.request.Request(
                    url["filter"], headers={"authorization": f"Bearer {token}"})) as r:
                assert r.status == 200
        # The floor filter is configured by a plain text match: a request
        # without a token must be refused, or the row measures the no-op.
        # (Its identity header is not seen here: the route answers directly.)
        try:
            with urllib.request.urlopen(url["floor"]):
                pass
            raise AssertionError("the authenticating floor filter let a request without a token through")
        except urllib.error.HTTPError as error:
            assert error.code == 401, error.code
        callouts = stack.proxy.count()

        # The filter on a public rule (no token work) shows what proxy-wasm
        # itself costs per request.
        loaded = {"plain": [], "noop": [], "floor": [], "filter": [], "public": [], "ext": []}
        lone = {"plain": [], "noop": [], "filter": [], "ext": []}
        for _ in range(rounds):
            for name in loaded:
                target = f"http://127.0.0.1:{ports['filter']}/healthz" if name == "public" else url[name]
                pid = pids["filter" if name == "public" else name]
                loaded[name].append(wrk(target, seconds, connections, [] if name == "public" else [header], pid))
            for name in lone:
                lone[name].append(wrk(url[name], seconds, 1, [header]))
        assert stack.proxy.count() == callouts, "the cache went cold during the run"

        labels = {"plain": "no filter", "noop": "no-op wasm filter", "floor": "floor of a token filter",
                  "filter": "filter (warm)",
                  "public": "filter, public", "ext": "ext_authz"}
        runs = [(f"{labels[n]}, c={connections}", r) for n, r in loaded.items()]
        runs += [(f"{labels[n]}, c=1", r) for n, r in lone.items()]
        for label, samples in runs:
            rps, p50, p99 = (median([s[i] for s in samples]) for i in range(3))
            print(f"{label:<26} {rps:>10.0f} req/s   p50 {p50:>7.0f} us   p99 {p99:>7.0f} us   "
                  f"non-2xx {sum(s[3] for s in samples)}   req/s by round: "
                  + ", ".join(f"{s[0]:.0f}" for s in samples))

        def ratio(a, b, table=loaded, index=0):
            return median([x[index] / y[index] for x, y in zip(table[a], table[b])])

        def added(a, b):
            return median([x[1] - y[1] for x, y in zip(lone[a], lone[b])])

        cpu = {name: median([s[4] for s in samples]) for name, samples in loaded.items()}
        print(f"Envoy CPU per request (c={connections}, median of rounds; ext_authz without tessera-host's): "
              + ", ".join(f"{labels[n]} {cpu[n]:.1f} us" for n in loaded)
              + f"; the filter over the no-op filter {cpu['filter'] - cpu['noop']:.1f} us, "
              f"a public rule over it {cpu['public'] - cpu['noop']:.1f} us")
        print(f"throughput with / without the filter (c={connections}): {ratio('filter', 'plain'):.2f}")
        print(f"throughput of the filter / ext_authz calling tessera-host (c={connections}): "
              f"{ratio('filter', 'ext'):.2f}")
        print(f"throughput of the filter / the no-op wasm filter (c={connections}): {ratio('filter', 'noop'):.2f}")
        print(f"throughput of a public rule / the no-op wasm filter (c={connections}): "
              f"{ratio('public', 'noop'):.2f}")
        print(f"the floors, whatever a filter's own code costs (c={connections}): "
              f"the floor of a token filter / the no-op filter {ratio('floor', 'noop'):.2f}; "
              f"the no-op filter / ext_authz {ratio('noop', 'ext'):.2f}; "
              f"the floor of a token filter / ext_authz {ratio('floor', 'ext'):.2f}")
        print(f"throughput of the filter / the floor of a token filter (c={connections}): "
              f"{ratio('filter', 'floor'):.2f}")
        print(f"added p50 for a lone request (c=1), median within rounds: filter {added('filter', 'plain'):.0f} us, "
              f"no-op filter {added('noop', 'plain'):.0f} us, ext_authz {added('ext', 'plain'):.0f} us; "
              f"the filter over the no-op filter {added('filter', 'noop'):.0f} us")
        raw = harness.WASM.read_bytes()
        print(f"filter: {harness.WASM.name} {len(raw) / 1024:.1f} KiB raw, "
              f"{len(gzip.compress(raw, 9)) / 1024:.1f} KiB gzipped")
        if any(s[3] for _, samples in runs for s in samples):
            print("some responses were not 2xx")
            return 1
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
