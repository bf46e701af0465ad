#!/usr/bin/env bash
# Re-certifies every shipped network in certificates/ with this build and
# replaces its certificate (each with the flags in certificates/NAME.flags,
# if any). The search is deterministic (the same trees with any number of
# threads or shards), so the shipped certificates are exactly what `certify`
# makes; tests/shard.rs checks that for k2-20-100-m50. Run it after a change
# to the search, then commit the certificates with the change.
#   usage: scripts/regenerate-certificates.sh [NAME ...]   (default: all)
# The large networks (certificates/large/, minutes each) are regenerated
# only when named: scripts/regenerate-certificates.sh large/k4-50-500
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin certify
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
    for net in certificates/*.bin; do names+=("$(basename "$net" .bin)"); done
fi
tmp=""
trap 'rm -f "$tmp"' EXIT # a run stopped midway leaves no temporary file
for name in "${names[@]}"; do
    net=certificates/$name.bin
    [[ -f $net ]] || { echo "regenerate: no network $net" >&2; exit 2; }
    extra=()
    [[ -f certificates/$name.flags ]] && read -r -a extra <"certificates/$name.flags"
    tmp=$(mktemp "certificates/$(dirname "$name")/.$(basename "$name").XXXXXX.cert.json")
    chmod 644 "$tmp"
    # certify self-checks the certificate with the independent checker.
    if ./target/release/certify --net "$net" --out "$tmp" --quiet "${extra[@]}"; then
        mv "$tmp" "certificates/$name.cert.json"
        tmp=""
        echo "regenerate: certificates/$name.cert.json"
    else
        rc=$?
        rm -f "$tmp"
        echo "regenerate: certify failed on $net (exit $rc)" >&2
        exit "$rc"
    fi
done
