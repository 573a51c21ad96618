#!/usr/bin/env python3
"""An independent oracle for the shared vectors.

Recomputes, with nothing but Python's standard library (hashlib, hmac,
zlib), every value the Rust generator derived from entropy: token bodies in
base62, CRC32 checksums, SHA-256 and HMAC-SHA-256 hashes, token ids, hints
and day-based expiries. A bug shared by the core and its own vectors would
still be caught here.

Run: python3 tests/check_vectors.py
"""

import hashlib
import hmac
import ipaddress
import json
import pathlib
import re
import sys
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_CONTEXT = b"tessera.token-id.v1\0"
DAY_MS = 86_400_000
VECTORS = pathlib.Path(__file__).resolve().parent / "vectors"

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def base62(value, width):
    digits = ""
    while value:
        value, digit = divmod(value, 62)
        digits = ALPHABET[digit] + digits
    return digits.rjust(width, "0")


def token_from(prefix, entropy_hex):
    head = f"{prefix}_{base62(int(entropy_hex, 16), 43)}"
    return head + base62(zlib.crc32(head.encode()), 6)


def token_id(token):
    return hashlib.sha256(ID_CONTEXT + token.encode()).hexdigest()[:32]


def hint(token):
    prefix, body = token.split("_", 1)
    return f"{prefix}_{body[:4]}\u2026"


def stored_hash(token, pepper_hex):
    if pepper_hex is None:
        return hashlib.sha256(token.encode()).hexdigest()
    return hmac.new(bytes.fromhex(pepper_hex), token.encode(), hashlib.sha256).hexdigest()


def load(name):
    return json.loads((VECTORS / name).read_text())


def check_format():
    v = load("format.json")
    pattern = re.compile(f"^{v['pattern']}$")
    for case in v["issued"]:
        token = token_from(v["prefix"], case["entropy"])
        check(token == case["token"], f"token from entropy {case['entropy']}")
        check(len(token) == v["length"], "token length")
        check(pattern.match(token) is not None, "pattern matches")
        check(token_id(token) == case["id"], f"id of {case['id']}")
        check(hint(token) == case["hint"], "hint")
    for case in v["parse"]:
        if "token" in case["expect"]:
            token = case["expect"]["token"]
            head, checksum = token[:-6], token[-6:]
            check(base62(zlib.crc32(head.encode()), 6) == checksum, f"checksum in {case['name']}")


def check_hash():
    for case in load("hash.json")["cases"]:
        check(stored_hash(case["token"], case["pepper"]) == case["hash"], "stored hash")


def check_issue():
    v = load("issue.json")
    for case in v["cases"]:
        expect = case["expect"]
        if "record" not in expect:
            continue
        config = v["deployments"][case["deployment"]]
        token = token_from(config["prefix"], case["entropy"])
        record = expect["record"]
        name = case["name"]
        check(token == expect["token"], f"issued token in {name}")
        check(record["hash"] == stored_hash(token, config.get("pepper")), f"hash in {name}")
        check(record["id"] == token_id(token), f"id in {name}")
        check(record["hint"] == hint(token), f"hint in {name}")
        check(record["createdAt"] == case["now"], f"createdAt in {name}")
        expires = case["request"].get("expires", "never")
        if isinstance(expires, dict) and expires.get("days", -1) > 0:
            want = case["now"] + expires["days"] * DAY_MS
            check(record["expiresAt"] == want, f"expiresAt in {name}")
        if expires == "never" or expires == {"days": -1}:
            check(record["expiresAt"] is None, f"never expires in {name}")


def check_rotate():
    v = load("rotate.json")
    for case in v["cases"]:
        expect = case["expect"]
        if "record" not in expect:
            continue
        old, new = case["record"], expect["record"]
        token = token_from("tsr", case["entropy"])
        check(token == expect["token"], f"rotated token in {case['name']}")
        check(new["rotatedFrom"] == old["id"], "rotatedFrom")
        if old["expiresAt"] is not None:
            lifetime = old["expiresAt"] - old["createdAt"]
            check(new["expiresAt"] == case["now"] + lifetime, "lifetime kept")
        sunset = case["now"] + case["graceMs"]
        want = sunset if old["expiresAt"] is None else min(old["expiresAt"], sunset)
        check(expect["retired"]["expiresAt"] == want, "retired expiry")


def tokens_enabled(standing):
    """Tokens are enabled for administrators always; for a member, by their
    own setting, or by the deployment's default when it is `inherit`."""
    if standing["admin"]:
        return True
    return {"on": True, "off": False, "inherit": standing["membersEnabled"]}[standing["tokens"]]


def check_verify_owner():
    """A known token of a user whose tokens are not enabled is refused with
    TOKENS_DISABLED, and never otherwise."""
    v = load("verify.json")
    for case in v["cases"]:
        enabled = tokens_enabled(case["owner"])
        disabled = case["expect"].get("error") == "TOKENS_DISABLED"
        check(not (enabled and disabled), f"{case['name']}: an enabled owner's token is not TOKENS_DISABLED")
        if not enabled:
            check(disabled or case["expect"].get("error") == "TOKEN_UNKNOWN",
                  f"{case['name']}: a disabled owner's known token is TOKENS_DISABLED")


def check_issuer(name, actor, op, expect):
    """An issuer (an administrator or a service key) only creates, only when
    the deployment allows it, for a user who exists with tokens enabled; the
    record names the issuer and belongs to the user."""
    by = actor["issuer"]
    admin = "serviceKey" in by or by["administrator"]["standing"]["admin"]
    if op["op"] != "create" or not actor["allowed"] or not admin:
        check(expect.get("error") == "FORBIDDEN", f"{name}: an issuer only creates, when allowed")
        return
    if actor["owner"] is None:
        check(expect.get("error") == "NOT_FOUND", f"{name}: no token for a user the host lacks")
        return
    if not tokens_enabled(actor["owner"]):
        check(expect.get("error") == "FORBIDDEN", f"{name}: no token for a disabled user")
        return
    if "error" in expect:
        return
    record = expect["writes"][0]["put"]
    want = ({"kind": "service", "keyId": by["serviceKey"]} if "serviceKey" in by
            else {"kind": "admin", "userId": by["administrator"]["adminId"]})
    check(record["createdBy"] == want, f"{name}: the record names its issuer")
    check(record["userId"] == actor["userId"], f"{name}: the token is the user's")


def check_lifecycle():
    """The actor rule, recomputed from the records alone: ownership, the
    cascade's reach, a token actor's limits on what it obtains."""
    v = load("lifecycle.json")
    records = {r["id"]: r for r in v["records"]}
    by_hash = {r["hash"]: r for r in v["records"]}
    now = v["now"]

    def descendants(root):
        found, frontier = [], [root]
        while frontier:
            parent = frontier.pop(0)
            for r in v["records"]:
                made = r["createdBy"]
                if made.get("tokenId") == parent and r["id"] not in found:
                    found.append(r["id"])
                    frontier.append(r["id"])
        return found

    for case in v["cases"]:
        name, actor, op, expect = case["name"], case["actor"], case["operation"], case["expect"]
        acting = None
        if actor["kind"] == "issuer":
            check_issuer(name, actor, op, expect)
            continue
        enabled = tokens_enabled(actor["standing"])
        if actor["kind"] == "administrator":
            edits_text = op["op"] == "update" and ("name" in op["edit"] or "description" in op["edit"])
            if not actor["standing"]["admin"] or op["op"] in ("create", "rotate") or edits_text:
                check(expect.get("error") == "FORBIDDEN",
                      f"{name}: the console is for administrators, and only sees, (de)activates and deletes")
                continue
        if op["op"] == "deactivateAll" and actor["kind"] == "token":
            check(expect.get("error") == "FORBIDDEN", f"{name}: a token cannot deactivate all")
            continue
        if actor["kind"] == "token" and not enabled:
            check(expect.get("error") == "TOKENS_DISABLED", f"{name}: a disabled user's token does nothing")
            continue
        if actor["kind"] == "token":
            acting = by_hash[stored_hash(actor["token"], None)]
            user = acting["userId"]
        else:
            user = actor["userId"]
        target = records.get(op.get("id"))
        if "id" in op and (target is None or target["userId"] != user):
            check(expect.get("error") == "NOT_FOUND", f"{name}: another user's or no token is NOT_FOUND")
            continue
        if op["op"] == "deactivateAll":
            want = sorted(r["id"] for r in v["records"] if r["userId"] == user and r["status"] == "active")
            got = sorted(w["put"]["id"] for w in expect["writes"])
            check(got == want and all(w["put"]["status"] == "inactive" for w in expect["writes"]),
                  f"{name}: every active token of the user, and only those, deactivated")
            continue
        if op["op"] in ("create", "rotate") and not enabled:
            check(expect.get("error") == "FORBIDDEN", f"{name}: a disabled user creates nothing")
            continue
        if "error" in expect:
            continue
        for write in expect.get("writes", []):
            record = write.get("put") or records[write["delete"]]
            check(record["userId"] == user, f"{name}: writes only the actor's user's tokens")
        cascade = op.get("cascade") and (op["op"] == "delete" or op["edit"].get("status") == "inactive")
        if op["op"] in ("delete", "update"):
            ids = [w.get("delete") or w["put"]["id"] for w in expect["writes"]]
            if op["op"] == "delete":
                want = [op["id"]] + (descendants(op["id"]) if cascade else [])
                check(ids == want, f"{name}: deletes the target and, with cascade, its descendants")
            elif cascade:
                want = [op["id"]] + [d for d in descendants(op["id"]) if records[d]["status"] == "active"]
                check(ids == want, f"{name}: deactivates the target and its active descendants")
            else:
                check(ids == [op["id"]], f"{name}: touches the target only")
        if op["op"] in ("create", "rotate") and acting is not None:
            new = expect["writes"][0]["put"]
            limit = acting["expiresAt"]
            ok = limit is None or (new["expiresAt"] is not None and new["expiresAt"] <= limit)
            check(ok, f"{name}: a token actor's new token never outlives it")
        if op["op"] == "rotate":
            new, retired = expect["writes"][0]["put"], expect["writes"][1]["put"]
            check(new["rotatedFrom"] == op["id"] and retired["id"] == op["id"], f"{name}: rotation")
            check(retired["expiresAt"] <= now + op["graceMs"], f"{name}: the old token's grace")


def parse_ranges(entries):
    """Parses an allowlist as the README says, with Python's ipaddress: an
    address or CIDR range, no host bits, no leading zero in the prefix;
    normalised (sorted IPv4 first, no duplicates or covered ranges). Returns
    the networks, or the index of the first bad entry."""
    nets = []
    for index, entry in enumerate(entries):
        address, _, prefix = entry.partition("/")
        if "/" in entry and not re.fullmatch(r"0|[1-9][0-9]{0,2}", prefix):
            return index
        try:
            ip = ipaddress.ip_address(address)
            net = ipaddress.ip_network(entry if "/" in entry else f"{address}/{ip.max_prefixlen}", strict=True)
        except ValueError:
            return index
        nets.append(net)
    nets = sorted(set(nets), key=lambda n: (n.version, int(n.network_address), n.prefixlen))
    return [n for n in nets if not any(o != n and o.version == n.version and n.subnet_of(o) for o in nets)]


def allows(nets, address):
    if not nets:
        return True
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in nets)


def check_network():
    """Allowlists recomputed with Python's ipaddress module."""
    v = load("network.json")
    for case in v["parse"]:
        got = parse_ranges(case["entries"])
        if isinstance(got, int):
            check(case["expect"] == {"error": "IPS_INVALID", "index": got}, f"{case['name']}: refused at {got}")
        else:
            # Compared as networks: Python writes an IPv4-mapped address in hex
            # (::ffff:a00:0), the core in RFC 5952's dotted form (::ffff:10.0.0.0).
            want = [ipaddress.ip_network(r) for r in case["expect"].get("ranges", ["not a list"])]
            check(want == got, f"{case['name']}: normal form")
    for case in v["match"]:
        ok = allows(parse_ranges(case["ranges"]), case["address"])
        want = {"allowed": True} if ok else {"error": "IP_DENIED"}
        check(case["expect"] == want, f"{case['name']}: match")
    for case in v["within"]:
        parent, child = parse_ranges(case["parent"]), parse_ranges(case["child"])
        ok = not parent or (bool(child) and all(
            any(c.version == p.version and c.subnet_of(p) for p in parent) for c in child))
        want = {"within": True} if ok else {"error": "IPS_EXCEED_PARENT"}
        check(case["expect"] == want, f"{case['name']}: within")


def same_ranges(stored, wanted):
    """Whether a record's `allowedIps` is the normal form of `wanted`."""
    normal = parse_ranges(wanted)
    return not isinstance(normal, int) and [ipaddress.ip_network(r) for r in stored] == normal


def within(child, parent):
    """The attenuation rule: anything under an unrestricted parent; else
    named ranges, each inside one of the parent's."""
    child, parent = parse_ranges(child), parse_ranges(parent)
    return not parent or (bool(child) and all(
        any(c.version == p.version and c.subnet_of(p) for p in parent) for c in child))


def check_issue_ips():
    """Issuing: the record keeps the normal form of the ranges asked for; a
    malformed list is IPS_INVALID; a parent presented from outside its
    ranges is IP_DENIED; a child's ranges lie within its parent's."""
    v = load("issue.json")
    for case in v["cases"]:
        name, expect = case["name"], case["expect"]
        asked = case["request"].get("allowedIps", [])
        if isinstance(parse_ranges(asked), int):
            check(expect.get("error") in ("IPS_INVALID", "IP_DENIED", "PARENT_INVALID", "TOKEN_INACTIVE",
                                          "TOKEN_EXPIRED"), f"{name}: a malformed list is refused")
            continue
        parent = v["parents"][case["parent"]]["record"] if case.get("parent") else None
        if parent is not None and parent["status"] == "active" and (parent["expiresAt"] or case["now"] + 1) > case["now"]:
            if not allows(parse_ranges(parent.get("allowedIps", [])), case.get("ip")):
                check(expect.get("error") == "IP_DENIED", f"{name}: a parent outside its ranges is refused")
                continue
        if "record" in expect:
            check(same_ranges(expect["record"]["allowedIps"], asked), f"{name}: the ranges in normal form")
            if parent is not None:
                check(within(asked, parent.get("allowedIps", [])), f"{name}: a child within its parent's ranges")
        elif parent is not None and not within(asked, parent.get("allowedIps", [])):
            check(expect.get("error") in ("IPS_EXCEED_PARENT", "SCOPE_EXCEEDS_PARENT", "PARENT_INVALID",
                                          "EXPIRY_EXCEEDS_PARENT"), f"{name}: a child beyond its parent's ranges")


EARLIER_DENIALS = ("TOKEN_UNKNOWN", "TOKEN_INACTIVE", "TOKEN_EXPIRED", "TOKENS_DISABLED", "TOKEN_MALFORMED",
                   "TOKEN_CHECKSUM", "TOKEN_PREFIX")


def check_verify_ips():
    """Verification: a record's ranges decide after the earlier steps and
    before scope; an unrestricted record allows any address."""
    v = load("verify.json")
    by_id = {r["id"]: r for r in v["records"]}
    for case in v["cases"]:
        expect = case["expect"]
        if expect.get("error") in EARLIER_DENIALS:
            continue
        token = case["input"].split(" ")[-1]
        record = by_id.get(token_id(token))
        if record is None:
            continue
        ok = allows(parse_ranges(record.get("allowedIps", [])), case.get("ip"))
        check(ok == (expect.get("error") != "IP_DENIED"), f"{case['name']}: the address decides")


def check_lifecycle_ips():
    """A token actor acts only from its ranges, and what it makes or
    touches stays within them."""
    v = load("lifecycle.json")
    by_hash = {r["hash"]: r for r in v["records"]}
    by_id = {r["id"]: r for r in v["records"]}
    for case in v["cases"]:
        name, actor, op, expect = case["name"], case["actor"], case["operation"], case["expect"]
        if actor["kind"] != "token" or expect.get("error") == "TOKENS_DISABLED":
            continue
        acting = by_hash[stored_hash(actor["token"], None)]
        mine = acting.get("allowedIps", [])
        if not allows(parse_ranges(mine), actor.get("ip")):
            check(expect.get("error") == "IP_DENIED", f"{name}: a token outside its ranges does nothing")
            continue
        check(expect.get("error") != "IP_DENIED", f"{name}: a token inside its ranges is not IP_DENIED")
        if op["op"] == "create" and "writes" in expect:
            new = expect["writes"][0]["put"]
            check(within(new["allowedIps"], mine), f"{name}: a new token within the actor's ranges")
        target = by_id.get(op.get("id"))
        if target is not None and target["id"] != acting["id"] and target["userId"] == acting["userId"]:
            if not within(target.get("allowedIps", []), mine):
                check(expect.get("error") in ("IPS_EXCEED_PARENT", "SCOPE_EXCEEDS_PARENT", "SCOPE_DENIED",
                                              "PARENT_INVALID", "EXPIRY_EXCEEDS_PARENT"),
                      f"{name}: a target beyond the actor's ranges is out of reach")
        if op["op"] == "rotate" and "writes" in expect:
            check(expect["writes"][0]["put"]["allowedIps"] == target["allowedIps"],
                  f"{name}: a rotated token keeps its ranges")


for step in (check_format, check_hash, check_issue, check_rotate, check_verify_owner, check_lifecycle,
             check_network, check_issue_ips, check_verify_ips, check_lifecycle_ips):
    step()
print(f"vectors: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
