"""Envoy without the filter vs Envoy with the filter and a warm cache vs
Envoy's ext_authz filter calling tessera-host.

One run, same route (a direct 200 answer, so only Envoy and the filter are
measured), wrk on loopback: first under load (`connections` connections,
for throughput and loaded latency), then with one connection (for the
latency a single request sees, without queueing). Prints req/s, p50 and p99
of each, the throughput ratio and the added p50, then the filter's size.

Usage: python3 tests/envoy/bench.py [seconds] [connections] [envoy workers]
"""

import gzip
import json
import re
import subprocess
import sys
import urllib.request

import harness

UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def micros(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def wrk(url, seconds, connections, headers=()):
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = micros(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = micros(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p50, p99, int(bad.group(1)) if bad else 0


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
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
        print(f"wrk -t1 -c{connections} -d{seconds}s on loopback; Envoy --concurrency {workers}; "
              "route: direct 200 answer; 2 cores shared by Envoy and wrk")

        plain = stack.start_envoy(None, name="envoy-plain", direct=True, concurrency=workers)
        base = wrk(f"http://127.0.0.1:{stack.port}/api/apps", seconds, connections, [header])
        base1 = wrk(f"http://127.0.0.1:{stack.port}/api/apps", seconds, 1, [header])
        stack.stop(plain)

        # A wasm filter that does nothing: what any wasm filter costs here.
        noop = stack.start_envoy({}, name="envoy-noop", direct=True, concurrency=workers, wasm=harness.NOOP)
        floor = wrk(f"http://127.0.0.1:{stack.port}/api/apps", seconds, connections, [header])
        floor1 = wrk(f"http://127.0.0.1:{stack.port}/api/apps", seconds, 1, [header])
        stack.stop(noop)

        plugin = harness.filter_config({"cache": {"positiveSeconds": 3600, "negativeSeconds": 5}})
        stack.start_envoy(plugin, name="envoy-filter", direct=True, concurrency=workers)
        url = f"http://127.0.0.1:{stack.port}/api/apps"
        for _ in range(4 * workers):  # warm every worker's cache
            with urllib.request.urlopen(urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})) as r:
                assert r.status == 200
        callouts = stack.proxy.count()
        filtered = wrk(url, seconds, connections, [header])
        filtered1 = wrk(url, seconds, 1, [header])
        # The same Envoy on a public rule: the filter runs but does no token
        # work, which shows what proxy-wasm itself costs per request.
        public = wrk(f"http://127.0.0.1:{stack.port}/healthz", seconds, connections)
        assert stack.proxy.count() == callouts, "the cache went cold during the run"

        # Envoy's own ext_authz filter asking tessera-host over HTTP for every
        # request: what users without wasm would run.
        stack.start_envoy(None, name="envoy-ext-authz", direct=True, concurrency=workers, ext_authz=True)
        url = f"http://127.0.0.1:{stack.port}/api/apps"
        ext = wrk(url, seconds, connections, [header])
        ext1 = wrk(url, seconds, 1, [header])

        runs = [(f"no filter, c={connections}", base), (f"no-op wasm filter, c={connections}", floor),
                (f"filter (warm), c={connections}", filtered),
                (f"filter, public, c={connections}", public), (f"ext_authz, c={connections}", ext),
                ("no filter, c=1", base1), ("no-op wasm filter, c=1", floor1),
                ("filter (warm), c=1", filtered1), ("ext_authz, c=1", ext1)]
        for label, (rps, p50, p99, bad) in runs:
            print(f"{label:<26} {rps:>10.0f} req/s   p50 {p50:>7.0f} us   p99 {p99:>7.0f} us   non-2xx {bad}")
        print(f"throughput with / without the filter (c={connections}): {filtered[0] / base[0]:.2f}")
        print(f"throughput of the filter / ext_authz calling tessera-host (c={connections}): "
              f"{filtered[0] / ext[0]:.2f}")
        print(f"throughput of the filter / the no-op wasm filter (c={connections}): "
              f"{filtered[0] / floor[0]:.2f}")
        print(f"added p50: {filtered[1] - base[1]:.0f} us under load (c={connections}), "
              f"{filtered1[1] - base1[1]:.0f} us for a lone request (c=1); "
              f"no-op filter {floor1[1] - base1[1]:.0f} us, ext_authz {ext1[1] - base1[1]:.0f} us (c=1)")
        raw = harness.WASM.read_bytes()
        print(f"filter: {harness.WASM.name} {len(raw) / 1024:.1f} KiB raw, "
              f"{len(gzip.compress(raw, 9)) / 1024:.1f} KiB gzipped")
        if any(run[1][3] for run in runs):
            print("some responses were not 2xx")
            return 1
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
