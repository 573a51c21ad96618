#!/usr/bin/env bash
# PostgreSQL as the system of record: installs PostgreSQL from Debian's
# packages when it is missing, then runs the tests that need it (the storage
# conformance suite, two hosts on one database, an outage mid-run, TLS with
# each sslmode against a server holding a certificate the test makes). Each
# test starts and stops its own throwaway cluster on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== postgres: %s\n' "$*"; }

step "PostgreSQL server"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
ls -d /usr/lib/postgresql/*/bin

step "cargo test --test postgres --test postgres_tls --test enablement --test audit --test issuing --test webhooks -- --ignored"
cargo test -p tessera-host --test postgres --test postgres_tls --test enablement --test audit --test issuing --test webhooks -- --ignored
