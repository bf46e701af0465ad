#!/usr/bin/env bash
# End-to-end benchmark over the reference suite: certify and verify every
# network in certificates/ (release build) and print one row per network:
# verdict, sharpest radii, cells by rule, deepest level, certify time, verify
# time and certificate size. Certificates go to a temporary folder; the
# shipped ones are left alone. Besides the shipped networks, the compressive
# k = 2, 50/500, m = 100 network of issue 14 (`certify sample ... --seed
# 9002`, 600 KB, so sampled here rather than shipped) is measured too.
#   usage: benches/reference.sh [extra certify flags...]
# With HVCERT_BIN=DIR the binaries in DIR (certify, verify) are measured
# instead of a fresh release build (an older build, for A/B runs). With
# HVCERT_LARGE=1 the networks of certificates/large/ are measured too (the
# k = 4 one: about 5.5 minutes to certify and 5 to verify on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${HVCERT_BIN:-./target/release}
[ -n "${HVCERT_BIN:-}" ] || cargo build --release --quiet --bin certify --bin verify
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-22s %-8s %-9s %-9s %7s %7s %6s %6s %6s %7s %5s %5s %9s %9s %6s %10s %s\n' \
    network verdict eps1 eps2 region crease cone pairs excl undec zero depth certify_s verify_s v/c cert_bytes \
    'cone_tiers(b64 proved+failed/mpfr/exact)'
"$bin/certify" sample --latent 2 --widths 50,500 --measurements 100 --seed 9002 \
    --out "$out/k2-50-500-m100-s9002.bin" > /dev/null
large=()
[ -n "${HVCERT_LARGE:-}" ] && large=(certificates/large/*.bin)
for net in certificates/*.bin "$out/k2-50-500-m100-s9002.bin" "${large[@]}"; do
    name=$(basename "$net" .bin)
    cert="$out/$name.cert.json"
    extra=()
    flags="${net%.bin}.flags"
    [ -f "$flags" ] && read -r -a extra < "$flags"
    "$bin/certify" --net "$net" --out "$cert" --quiet --json --no-verify "${extra[@]}" "$@" > "$out/c.json"
    "$bin/verify" "$cert" --json > "$out/v.json" || true
    python3 - "$name" "$out/c.json" "$out/v.json" "$cert" <<'PY'
import json, os, sys
name, cert = sys.argv[1], sys.argv[4]
c, v = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def dec(s):
    if "/" in s:
        n, d = s.split("/")
        return f"{int(n) / int(d):.4f}"
    return f"{float(s):.4f}"
cells = v.get("cells", {})
print(f"{name:<22} {v.get('verdict', v['status']):<8} {dec(c['eps_x_star']):<9} {dec(c['eps_rho']):<9} "
      f"{cells.get('region', 0):>7} {cells.get('crease', 0):>7} {cells.get('cone', 0):>6} {cells.get('pairs', 0):>6} {cells.get('excluded', 0):>6} "
      f"{cells.get('undecided', 0):>7} {cells.get('zero', 0):>5} {c['max_depth']:>5} {c['certify_seconds']:>9.2f} "
      f"{v.get('seconds', float('nan')):>9.2f} {v.get('seconds', float('nan')) / c['certify_seconds']:>6.2f} {os.path.getsize(cert):>10} "
      + "/".join(f"{t['proved']}+{t['failed']}" for t in (c['cone_tiers'][k] for k in ('binary64', 'mpfr', 'exact'))))
PY
done
