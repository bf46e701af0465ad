#!/usr/bin/env bash
# Counterexample campaign: samples small non-expansive networks with
# `certify sample`, runs `certify hunt` and `certify --eps 1/10 --time-limit T`
# on each, and prints one row per configuration: networks, the fraction where
# hunt confirmed a counterexample, the fraction where certify's verdict is
# violated / holds / unknown, and median times (release build). Everything
# goes to a temporary folder.
#   usage: benches/hunt_campaign.sh [SEEDS (default 6)] [T seconds (default 10)]
#   env:   HUNT_FLAGS  extra flags for certify hunt (e.g. "--starts 128")
#          CONFIGS     space-separated k:widths:m (default below)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-6}
limit=${2:-10}
configs=${CONFIGS:-"2:3,8:3 2:4,8:4 2:4,8:6 2:4,12:6 3:6,12:4 3:6,16:6"}
cargo build --release --quiet --bin certify --bin verify
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
C=./target/release/certify
printf '%-14s %8s %10s %14s %10s %10s %10s %10s\n' \
    config networks hunt_found certify_violated holds unknown hunt_med_s cert_med_s
for cfg in $configs; do
    IFS=: read -r k widths m <<< "$cfg"
    rows="$out/rows-$k-$widths-$m"
    : > "$rows"
    for seed in $(seq 1 "$seeds"); do
        net="$out/n-$k-$widths-$m-$seed.bin"
        "$C" sample --latent "$k" --widths "$widths" --measurements "$m" --seed "$seed" --out "$net" > /dev/null
        # shellcheck disable=SC2086
        "$C" hunt --net "$net" --out "$out/h.cert.json" --json ${HUNT_FLAGS:-} > "$out/h.json"
        "$C" --net "$net" --eps 1/10 --time-limit "$limit" --out "$out/c.cert.json" --quiet --json > "$out/c.json"
        jq -r --slurpfile c "$out/c.json" \
            '[(.verdict == "violated"), .hunt_seconds, $c[0].verdict, $c[0].certify_seconds] | @tsv' \
            "$out/h.json" >> "$rows"
    done
    python3 - "$k/${widths/,//}/m$m" "$rows" <<'PY'
import statistics, sys
name, path = sys.argv[1], sys.argv[2]
rows = [l.split("\t") for l in open(path).read().splitlines() if l]
n = len(rows)
frac = lambda p: f"{sum(1 for r in rows if p(r))}/{n}"
print(f"{name:<14} {n:>8} {frac(lambda r: r[0] == 'true'):>10} {frac(lambda r: r[2] == 'violated'):>14} "
      f"{frac(lambda r: r[2] == 'holds'):>10} {frac(lambda r: r[2] == 'unknown'):>10} "
      f"{statistics.median(float(r[1]) for r in rows):>10.2f} {statistics.median(float(r[3]) for r in rows):>10.2f}")
PY
done
