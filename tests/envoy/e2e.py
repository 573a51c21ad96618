"""End-to-end test of the Tessera Envoy filter in a real Envoy.

Starts tessera-host (SQLite in a temporary directory), a counting proxy in
front of its introspection endpoint (so the test can prove that no callout
happened), a recording upstream, and Envoy 1.40 (V8) with the filter; then
checks what the issue asks for. Prints `ok - ...` / `FAIL - ...` per check
and ends with `N passed, M failed`; exits non-zero on any failure.
"""

import base64
import concurrent.futures
import datetime
import http.client
import json
import sys
import threading
import time
import urllib.error
import urllib.request

import harness

UNKNOWN = "tsr_92prCrVOJh3B8LhZWiEcD9jFZl6CibpIP8P7T5eK0Jq0Nljqs"  # valid checksum, never issued
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("ok - " if condition else "FAIL - ") + name + ("" if condition else f": {detail}"), flush=True)


def call(url, method="GET", headers=None, body=None):
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def call_from(source, url, headers=None):
    """A GET from the loopback address `source` (another machine, as far as
    Envoy can tell)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def refused_from_here(status, text):
    body = json.loads(text) if text.startswith("{") else {}
    return status == 403 and body.get("code") == "IP_DENIED"


def check_allowed_ips(label, base, near, far):
    """`near` may be used from 127.0.0.2 only, `far` from 10.0.0.0/8: the
    client's address decides, and its own X-Forwarded-For changes nothing."""
    status, text = call_from("127.0.0.2", base + "/api/apps", {"authorization": "Bearer " + near})
    check(f"{label}: a token from inside its allowed IPs -> 200", status == 200, (status, text))
    status, text = call_from("127.0.0.1", base + "/api/apps", {"authorization": "Bearer " + near})
    check(f"{label}: the same token from another address -> 403 IP_DENIED",
          refused_from_here(status, text), (status, text))
    status, text = call_from("127.0.0.2", base + "/api/apps",
                             {"authorization": "Bearer " + far, "x-forwarded-for": "10.1.2.3"})
    check(f"{label}: a forged X-Forwarded-For does not help -> 403 IP_DENIED",
          refused_from_here(status, text), (status, text))


def basic():
    return "Basic " + base64.b64encode(b"alice:alice-password").decode()


def make_token(stack, scope, expires=None, allowed_ips=None):
    body = {"name": "e2e", "scope": scope, "expires": expires or {"days": 1}}
    if allowed_ips is not None:
        body["allowedIps"] = allowed_ips
    status, _, text = call(stack.host_url + "/api/usertokens", "POST",
                           {"authorization": basic(), "content-type": "application/json"},
                           json.dumps(body).encode())
    assert status == 201, (status, text)
    answer = json.loads(text)
    return answer["token"], answer["record"]["id"]


# An Authorization value with bytes that are not UTF-8 (obs-text in HTTP/1.1).
NOT_UTF8 = "Bearer tsr_\xff\xfe"


def call_latin1(port, path, headers):
    """A GET whose header values go out as Latin-1 bytes, as they are."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def is_401(status, headers, text, error_attr=True):
    www = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
    body = json.loads(text) if text.startswith("{") else {}
    return (status == 401 and body == {"code": "UNAUTHENTICATED", "message": "a valid token is required"}
            and www.startswith('Bearer realm="tessera"') and (("invalid_token" in www) == error_attr))


def main():
    stack = harness.Stack()
    tokens = []
    try:
        stack.start_host(cache_seconds=300)
        stack.start_proxy()
        stack.start_upstream()
        envoy = stack.start_envoy(harness.filter_config())
        api = f"http://127.0.0.1:{stack.port}"

        status, _, _ = call(api + "/healthz")
        check("a public rule needs no token", status == 200, status)

        status, headers, text = call(api + "/api/apps")
        check("no Authorization header -> 401 UNAUTHENTICATED without an error attribute",
              is_401(status, headers, text, error_attr=False), (status, headers, text))
        check("the upstream saw none of the refused requests", stack.upstream.count() == 1)

        # The filter removes identity headers only when a request has them
        # (it reads every header at once): a forged one never passes.
        status, _, _ = call(api + "/healthz", headers={"X-Tessera-User-Id": "mallory", "x-tessera-token-id": "f"})
        seen = stack.upstream.seen[-1][2]
        check("a public rule forwards no forged identity header",
              status == 200 and "x-tessera-user-id" not in seen and "x-tessera-token-id" not in seen, seen)

        read, read_id = make_token(stack, {"preset": "read"})
        tokens.append(read)
        bad_checksum = read[:-1] + ("A" if read[-1] != "A" else "B")
        for label, value in [("malformed", "Bearer not-a-token"), ("bad checksum", "Bearer " + bad_checksum),
                             ("another prefix", "Bearer ghp_" + read[4:])]:
            status, headers, text = call(api + "/api/apps", headers={"authorization": value})
            check(f"{label} token -> 401 UNAUTHENTICATED", is_401(status, headers, text), (status, text))
        # Header values may carry bytes that are not UTF-8 (obs-text): such a
        # token is malformed, and the filter keeps serving.
        status, headers, text = call_latin1(stack.port, "/api/apps", {"authorization": NOT_UTF8})
        check("a token with bytes that are not UTF-8 -> 401 UNAUTHENTICATED",
              is_401(status, headers, text), (status, headers, text))
        status, _, _ = call(api + "/healthz")
        check("... and the filter still serves the next request", status == 200, status)
        check("malformed and bad-checksum tokens made no callout", stack.proxy.count() == 0, stack.proxy.seen)

        status, _, text = call(api + "/api/apps/7?x=1", headers={
            "authorization": "Bearer " + read, "x-tessera-user-id": "mallory"})
        check("read token on a GET rule -> 200", status == 200, (status, text))
        method, path, seen = stack.upstream.seen[-1]
        check("the upstream got the user id, not the client's forged one", seen.get("x-tessera-user-id") == "alice", seen)
        check("the upstream got the token id", seen.get("x-tessera-token-id") == read_id, seen)
        check("the upstream got no Authorization header", "authorization" not in seen, seen)
        check("one callout, carrying only the hash and the service credential",
              stack.proxy.count() == 1 and stack.proxy.seen[0][0].startswith("/api/introspect/")
              and len(stack.proxy.seen[0][0].rsplit("/", 1)[1]) == 64
              and read not in stack.proxy.seen[0][0]
              and stack.proxy.seen[0][1] == "Service " + harness.SECRET, stack.proxy.seen)

        status, _, _ = call(api + "/api/apps", headers={"authorization": "UserToken " + read})
        check("a second request within the cache lifetime -> 200, no new callout",
              status == 200 and stack.proxy.count() == 1, (status, stack.proxy.count()))

        status, headers, text = call(api + "/api/apps", "POST", {"authorization": "Bearer " + read}, b"{}")
        www = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
        check("the same token on a write rule -> 403 SCOPE_DENIED",
              status == 403 and json.loads(text)["code"] == "SCOPE_DENIED" and "insufficient_scope" in www,
              (status, text, www))

        status, _, text = call(api + "/other", headers={"authorization": "Bearer " + read})
        check("a path no rule matches -> 403 FORBIDDEN", status == 403 and "FORBIDDEN" in text, (status, text))

        # Allowed IPs at the edge: Envoy's downstream address decides; a
        # client's own X-Forwarded-For changes nothing.
        near, _ = make_token(stack, {"preset": "read"}, allowed_ips=["127.0.0.2"])
        far, _ = make_token(stack, {"preset": "read"}, allowed_ips=["10.0.0.0/8"])
        tokens.extend([near, far])
        check_allowed_ips("allowed IPs", api, near, far)

        before = stack.proxy.count()
        for _ in range(2):
            status, headers, text = call(api + "/api/apps", headers={"authorization": "Bearer " + UNKNOWN})
            check("an unknown token -> 401", is_401(status, headers, text), (status, text))
        check("the unknown token was looked up once (negative cache)", stack.proxy.count() == before + 1,
              stack.proxy.count() - before)

        # Concurrent misses for one hash: the token service answers slowly,
        # twelve requests arrive at once on two workers, one callout goes out.
        burst, _ = make_token(stack, {"preset": "read"})
        tokens.append(burst)
        before = stack.proxy.count()
        stack.proxy.delay = 0.5
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda _: call(api + "/api/apps", headers={
                "authorization": "Bearer " + burst}), range(12)))
        stack.proxy.delay = 0
        statuses = [status for status, _, _ in answers]
        check("twelve concurrent misses all -> 200", statuses == [200] * 12,
              [(status, text[:120]) for status, _, text in answers if status != 200])
        check("twelve concurrent misses made one callout", stack.proxy.count() - before == 1,
              stack.proxy.count() - before)

        # The request that called out goes away (its callout is cancelled
        # with it); a request waiting for the same hash is still answered.
        orphan, _ = make_token(stack, {"preset": "read"})
        tokens.append(orphan)
        before = stack.proxy.count()
        stack.proxy.delay = 0.6
        auth = {"authorization": "Bearer " + orphan}

        def impatient():
            try:
                urllib.request.urlopen(urllib.request.Request(api + "/api/apps", headers=auth), timeout=0.4)
            except OSError:
                pass

        leaver = threading.Thread(target=impatient)
        leaver.start()
        deadline = time.time() + 0.3
        while stack.proxy.count() == before and time.time() < deadline:
            time.sleep(0.005)  # the leaver's callout is out: it owns the lookup
        status = call(api + "/api/apps", headers=auth)[0]
        leaver.join()
        stack.proxy.delay = 0
        check("a request left waiting by a departed caller -> 200 through a new callout",
              status == 200 and stack.proxy.count() - before == 2, (status, stack.proxy.count() - before))

        # Deactivation takes effect when the cached answer expires (1 s in
        # this filter) or the revocation feed evicts it, whichever is first.
        victim, victim_id = make_token(stack, {"preset": "read"})
        tokens.append(victim)
        status, _, _ = call(api + "/api/apps", headers={"authorization": "Bearer " + victim})
        check("a token about to be deactivated -> 200", status == 200, status)
        status, _, text = call(stack.host_url + f"/api/usertokens/{victim_id}", "PATCH",
                               {"authorization": basic(), "content-type": "application/json"},
                               json.dumps({"status": "inactive"}).encode())
        check("the host deactivated it", status == 200, (status, text))
        time.sleep(1.3)
        status, headers, text = call(api + "/api/apps", headers={"authorization": "Bearer " + victim})
        check("the deactivated token -> 401 once the cache lifetime passed", is_401(status, headers, text),
              (status, text))

        # Expiry is decided by Envoy's clock, even from a cached record.
        at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        short, _ = make_token(stack, {"preset": "read"},
                              {"at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
        tokens.append(short)
        status, _, _ = call(api + "/api/apps", headers={"authorization": "Bearer " + short})
        check("a token before its expiry -> 200", status == 200, status)
        time.sleep(max(0.0, (at - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 0.2)
        status, headers, text = call(api + "/api/apps", headers={"authorization": "Bearer " + short})
        check("the expired token -> 401", is_401(status, headers, text), (status, text))

        # The revocation feed: a second Envoy whose answers live five
        # minutes. A deactivation or deletion still reaches its cache within
        # about one polling interval (250 ms by default).
        long_cache = harness.filter_config({"cache": {"positiveSeconds": 300, "negativeSeconds": 300}})
        stack.start_envoy(long_cache, name="envoy-feed")
        edge = f"http://127.0.0.1:{stack.port}/api/apps"
        took = []
        for n in range(10):
            token, token_id = make_token(stack, {"preset": "read"})
            tokens.append(token)
            bearer = {"authorization": "Bearer " + token}
            first, _, _ = call(edge, headers=bearer)
            before = stack.proxy.count()
            second, _, _ = call(edge, headers=bearer)
            cached = first == 200 and second == 200 and stack.proxy.count() == before
            if n % 2 == 0:
                status, _, _ = call(stack.host_url + f"/api/usertokens/{token_id}", "PATCH",
                                    {"authorization": basic(), "content-type": "application/json"},
                                    json.dumps({"status": "inactive"}).encode())
            else:
                status, _, _ = call(stack.host_url + f"/api/usertokens/{token_id}", "DELETE",
                                    {"authorization": basic()})
            acknowledged = time.monotonic()
            refused = False
            while time.monotonic() - acknowledged < 5:
                status, headers, text = call(edge, headers=bearer)
                if is_401(status, headers, text):
                    refused = True
                    break
                time.sleep(0.01)
            took.append(time.monotonic() - acknowledged if refused and cached else None)
        check("ten revocations each reached a 5-minute cache at the edge within 5 s",
              None not in took, took)
        if None not in took:
            took.sort()
            print(f"# revocation at the edge, from the host's answer to the first 401 through Envoy: "
                  f"p50 {took[len(took) // 2] * 1000:.0f} ms, max {took[-1] * 1000:.0f} ms "
                  f"(feed polled every 250 ms)")
        check("the workers poll the feed", stack.proxy.polls > 0, stack.proxy.polls)

        # Per-user enablement at the edge: a member switched off is refused
        # through the 5-minute cache within about one polling interval (the
        # feed names every token of theirs), and switched on again works.
        stack.host("user", "add", "bob", stdin="bob-password\n")
        stack.host("user", "set", "bob", "--tokens", "on")
        bob = "Basic " + base64.b64encode(b"bob:bob-password").decode()
        status, _, text = call(stack.host_url + "/api/usertokens", "POST",
                               {"authorization": bob, "content-type": "application/json"},
                               json.dumps({"name": "bob", "scope": {"preset": "read"}}).encode())
        bob_token = json.loads(text)["token"] if status == 201 else ""
        tokens.append(bob_token)
        bob_bearer = {"authorization": "Bearer " + bob_token}
        first, _, _ = call(edge, headers=bob_bearer)
        before = stack.proxy.count()
        second, _, _ = call(edge, headers=bob_bearer)
        check("a member's token is served from the edge cache",
              first == second == 200 and stack.proxy.count() == before, (first, second))

        def switch(setting):
            status, _, _ = call(stack.host_url + "/api/users/bob/tokens", "PUT",
                                {"authorization": basic(), "content-type": "application/json"},
                                json.dumps({"tokens": setting}).encode())
            return status == 200, time.monotonic()

        switched, acknowledged = switch("off")
        refused_after = None
        while switched and time.monotonic() - acknowledged < 5:
            status, headers, text = call(edge, headers=bob_bearer)
            if is_401(status, headers, text):
                refused_after = time.monotonic() - acknowledged
                break
            time.sleep(0.01)
        check("a member switched off is refused at the edge within 5 s, through a 5-minute cache",
              refused_after is not None, refused_after)
        if refused_after is not None:
            print(f"# a member switched off, refused at the edge {refused_after * 1000:.0f} ms after the host's answer")
        # Envoy writes its log file every 10 s (or when it stops).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "deny 401 TOKENS_DISABLED" not in stack.log("envoy-feed"):
            time.sleep(0.2)
        check("the filter's log names TOKENS_DISABLED",
              "deny 401 TOKENS_DISABLED" in stack.log("envoy-feed"), "not in the log")
        switched, acknowledged = switch("on")
        restored = False
        while switched and time.monotonic() - acknowledged < 5:
            status, _, _ = call(edge, headers=bob_bearer)
            if status == 200:
                restored = True
                break
            time.sleep(0.01)
        check("switched on again, the same token works at the edge", restored)

        # Last uses seen only at the edge reach the host's record, reported
        # in the background.
        used, used_id = make_token(stack, {"preset": "read"})
        tokens.append(used)
        status, _, _ = call(edge, headers={"authorization": "Bearer " + used})
        recorded = None
        deadline = time.monotonic() + 10
        while status == 200 and recorded is None and time.monotonic() < deadline:
            _, _, text = call(stack.host_url + f"/api/usertokens/{used_id}", headers={"authorization": basic()})
            recorded = json.loads(text).get("lastUsedAt")
            time.sleep(0.2)
        check("a use seen only by the filter is reported to the host's record", recorded is not None,
              (status, recorded))

        # With the feed down, cached answers are not used: every request
        # calls out, so a revocation is seen at once; back up, caching resumes.
        token, token_id = make_token(stack, {"preset": "read"})
        tokens.append(token)
        bearer = {"authorization": "Bearer " + token}
        call(edge, headers=bearer)
        stack.proxy.feed_down = True
        time.sleep(2.0)  # past two intervals and the callout timeout
        before = stack.proxy.count()
        status, _, _ = call(edge, headers=bearer)
        check("feed down: a cached token still works, through a callout",
              status == 200 and stack.proxy.count() == before + 1, (status, stack.proxy.count() - before))
        call(stack.host_url + f"/api/usertokens/{token_id}", "PATCH",
             {"authorization": basic(), "content-type": "application/json"},
             json.dumps({"status": "inactive"}).encode())
        status, headers, text = call(edge, headers=bearer)
        check("feed down: a deactivation is refused at the next request", is_401(status, headers, text),
              (status, text))
        stack.proxy.feed_down = False
        fresh, _ = make_token(stack, {"preset": "read"})
        tokens.append(fresh)
        time.sleep(0.8)
        call(edge, headers={"authorization": "Bearer " + fresh})
        before = stack.proxy.count()
        status, _, _ = call(edge, headers={"authorization": "Bearer " + fresh})
        check("feed back: answers are cached again", status == 200 and stack.proxy.count() == before,
              (status, stack.proxy.count() - before))

        # Envoy's own ext_authz filter calling tessera-host: the same rules,
        # codes and identity headers as the wasm filter, and a revocation is
        # refused at the next request (the host's cache is never stale).
        stack.start_envoy(None, name="envoy-ext-authz", ext_authz=True)
        gate = f"http://127.0.0.1:{stack.port}"
        status, _, _ = call(gate + "/healthz")
        check("ext_authz: a public rule needs no token", status == 200, status)
        status, headers, text = call(gate + "/api/apps")
        check("ext_authz: no token -> 401 UNAUTHENTICATED without an error attribute",
              is_401(status, headers, text, error_attr=False), (status, headers, text))
        status, headers, text = call(gate + "/api/apps", headers={"authorization": "Bearer " + bad_checksum})
        check("ext_authz: a bad checksum -> 401 UNAUTHENTICATED", is_401(status, headers, text),
              (status, headers, text))
        status, headers, text = call_latin1(stack.port, "/api/apps", {"authorization": NOT_UTF8})
        check("ext_authz: a token with bytes that are not UTF-8 -> 401 UNAUTHENTICATED, as from the filter",
              is_401(status, headers, text), (status, headers, text))
        token, token_id = make_token(stack, {"preset": "read"})
        tokens.append(token)
        before = stack.upstream.count()
        status, _, text = call(gate + "/api/apps", headers={"authorization": "Bearer " + token,
                                                            "x-tessera-user-id": "mallory"})
        seen = stack.upstream.seen[-1][2] if stack.upstream.count() > before else {}
        check("ext_authz: a read token on a GET rule -> 200", status == 200, (status, text))
        check("ext_authz: the upstream got the verified identity and no Authorization",
              seen.get("x-tessera-user-id") == "alice" and seen.get("x-tessera-token-id") == token_id
              and "authorization" not in seen, seen)
        status, _, text = call(gate + "/api/apps", "POST", {"authorization": "Bearer " + token}, b"{}")
        check("ext_authz: the same token on a write rule -> 403 SCOPE_DENIED",
              status == 403 and json.loads(text).get("code") == "SCOPE_DENIED", (status, text))
        status, _, text = call(gate + "/nowhere", headers={"authorization": "Bearer " + token})
        check("ext_authz: a path no rule matches -> 403 FORBIDDEN",
              status == 403 and "FORBIDDEN" in text, (status, text))
        # Allowed IPs through ext_authz: Envoy reports the downstream
        # address in X-Forwarded-For, which the host believes from Envoy (a
        # trusted proxy); what a client put in front of it does not count.
        check_allowed_ips("ext_authz", gate, near, far)
        call(stack.host_url + f"/api/usertokens/{token_id}", "PATCH",
             {"authorization": basic(), "content-type": "application/json"},
             json.dumps({"status": "inactive"}).encode())
        status, headers, text = call(gate + "/api/apps", headers={"authorization": "Bearer " + token})
        check("ext_authz: a deactivated token -> 401 at the next request", is_401(status, headers, text),
              (status, text))
        call(stack.host_url + f"/api/usertokens/{token_id}", "DELETE", {"authorization": basic()})
        status, headers, text = call(gate + "/api/apps", headers={"authorization": "Bearer " + token})
        check("ext_authz: a deleted token -> 401 at the next request", is_401(status, headers, text),
              (status, text))

        # The token service goes away (the counting proxy in front of it
        # then answers 502 on Envoy's pooled connection, or refuses new
        # ones): fail closed.
        late, _ = make_token(stack, {"preset": "read"})
        tokens.append(late)
        stack.host_process.terminate()
        stack.host_process.wait(timeout=10)
        stack.proxy.stop()
        stack.servers.remove(stack.proxy)
        status, _, text = call(api + "/api/apps", headers={"authorization": "Bearer " + late})
        body = json.loads(text) if text.startswith("{") else {}
        check("token service stopped -> 503 STORE_FAILED (fail closed)",
              status == 503 and body.get("code") == "STORE_FAILED", (status, text))

        stack.stop(envoy)  # flushes Envoy's log file
        log = stack.log("envoy")
        check("the log records precise reasons",
              all(f"deny 401 {c}" in log for c in ("TOKEN_CHECKSUM", "TOKEN_MALFORMED", "TOKEN_PREFIX",
                                                       "TOKEN_UNKNOWN", "TOKEN_INACTIVE", "TOKEN_EXPIRED"))
              and "deny 403 SCOPE_DENIED token=" in log and "token service unavailable" in log, log[-3000:])
        secrets = tokens + [bad_checksum, harness.SECRET]
        check("the log holds no token and no credential", not any(s in log for s in secrets))

        # A bad configuration is refused at load, with its reason logged.
        bad = harness.filter_config({"rules": [{"prefix": "/x", "action": "nope.nope"}]})
        process = stack.start_envoy(bad, name="envoy-bad", wait=False)
        deadline = time.time() + 30
        while time.time() < deadline and "invalid tessera filter configuration" not in stack.log("envoy-bad"):
            time.sleep(0.2)
        bad_log = stack.log("envoy-bad")
        check("an invalid configuration is rejected at load with its reason",
              "invalid tessera filter configuration: rules[0]: action \"nope.nope\" is not in the catalog"
              in bad_log, bad_log[-2000:])
        try:
            process.wait(timeout=30)
        except Exception:
            pass
        check("an Envoy whose filter configuration is invalid exits instead of serving",
              process.poll() not in (None, 0), process.poll())
    except Exception as error:  # a crash is a failure, never a pass
        check("the test ran to the end", False, repr(error))
    finally:
        stack.close()
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
