#!/usr/bin/env bash
# Certify a network on a Slurm cluster, one array task per shard, then merge:
#
#   scripts/slurm/submit.sh NET.bin SHARDS OUTDIR [--max-parallel M] [--cpus-per-task T]
#       [--eps E | --eps1 A --eps2 B] [--resolution R] [--max-depth D]
#       [--time-limit SECS] [--no-merge] [--merge-no-self-check] [extra sbatch arguments ...]
#
# 1. `certify plan` here (a pilot search: seconds at k = 2, a minute or two at k = 3)
#    into OUTDIR/plan.json, unless that plan exists
#    for the same network, shard count and options (then it is reused: resubmitting
#    redoes only the shards that have no verified certificate).
# 2. sbatch --array=0-(S-1)%M shard.sbatch: OUTDIR/shard-I.cert.json, logs in
#    OUTDIR/logs/shard-I.log; certify gets --threads T (default 1).
# 3. sbatch --dependency=afterok:ARRAY merge.sbatch: OUTDIR/cert.json, checked by
#    certify merge and by verify (OUTDIR/cert.verify.json), log OUTDIR/logs/merge.log.
#    It gets T cpus too (the merge's self-check and verify use the cores they see).
#    (--no-merge: only the array. --merge-no-self-check: certify merge --no-verify, so
#    that verify is the one full check of the merged certificate: half the time.)
# Any other argument goes to both sbatch calls (e.g. --partition=P --time=2:00:00).
# Binaries: $HVCERT_CERTIFY and $HVCERT_VERIFY, else certify and verify on PATH, else
# target/release of this repository.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "submit.sh: $*" >&2; exit 2; }

if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage; exit 0; fi
[[ $# -ge 3 ]] || { usage >&2; exit 2; }
net=$1 shards=$2 outdir=$3
shift 3
[[ -r $net ]] || die "no network $net"
[[ $shards =~ ^[1-9][0-9]*$ ]] || die "SHARDS must be a positive integer, not '$shards'"

max_parallel=$shards
cpus=1
plan_opts=()
time_limit=""
merge=1
sbatch_extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --max-parallel) max_parallel=$2; shift ;;
        --max-parallel=*) max_parallel=${1#*=} ;;
        --cpus-per-task) cpus=$2; shift ;;
        --cpus-per-task=*) cpus=${1#*=} ;;
        --eps|--eps1|--eps2|--resolution|--max-depth) plan_opts+=("$1" "$2"); shift ;;
        --eps=*|--eps1=*|--eps2=*|--resolution=*|--max-depth=*) plan_opts+=("${1%%=*}" "${1#*=}") ;;
        --time-limit) time_limit=$2; shift ;;
        --time-limit=*) time_limit=${1#*=} ;;
        --no-merge) merge=0 ;;
        --merge-no-self-check) export HVCERT_MERGE_NO_SELF_CHECK=1 ;;
        *) sbatch_extra+=("$1") ;;
    esac
    shift
done
[[ $max_parallel =~ ^[1-9][0-9]*$ ]] || die "--max-parallel must be a positive integer"
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus-per-task must be a positive integer"

# Binaries, as absolute paths for the jobs.
find_bin() { # NAME ENV_VALUE
    local b=$2
    if [[ -z $b ]]; then
        b=$(command -v "$1" || true)
        [[ -n $b ]] || b=${CARGO_TARGET_DIR:-$here/../../target}/release/$1
    fi
    [[ -x $b ]] || die "no $1 binary ($b); set HVCERT_${1^^} or put $1 on PATH"
    echo "$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"
}
HVCERT_CERTIFY=$(find_bin certify "${HVCERT_CERTIFY:-}")
HVCERT_VERIFY=$(find_bin verify "${HVCERT_VERIFY:-}")
export HVCERT_CERTIFY HVCERT_VERIFY
if [[ -n $time_limit ]]; then export HVCERT_TIME_LIMIT=$time_limit; else unset HVCERT_TIME_LIMIT; fi
command -v sbatch >/dev/null 2>&1 || die "no sbatch on PATH"

mkdir -p "$outdir/logs"
outdir=$(cd "$outdir" && pwd)
net=$(cd "$(dirname "$net")" && pwd)/$(basename "$net")
plan=$outdir/plan.json

# shellcheck source=scripts/slurm/json.sh
source "$here/json.sh"

# The plan: reuse one made for this network, shard count and options, else make it.
net_sha=$(sha256sum "$net" | cut -d' ' -f1)
opts_line="shards=$shards${plan_opts[*]:+ ${plan_opts[*]}}"
if [[ -e $plan ]]; then
    have_sha=$(json_get "$plan" network.sha256)
    have_shards=$(json_get "$plan" shards)
    have_opts=$(cat "$outdir/plan.options" 2>/dev/null || true)
    if [[ $have_sha != "$net_sha" ]]; then
        die "$plan is for network $have_sha, not $net ($net_sha): use another OUTDIR"
    elif [[ $have_shards != "$shards" ]]; then
        die "$plan has $have_shards shards, not $shards: use another OUTDIR (or SHARDS=$have_shards)"
    elif [[ -n $have_opts && $have_opts != "$opts_line" ]]; then
        die "$plan was made with '$have_opts', not '$opts_line': use another OUTDIR"
    fi
    how="reused"
else
    "$HVCERT_CERTIFY" plan --net "$net" --shards "$shards" --out "$plan" --quiet "${plan_opts[@]}"
    echo "$opts_line" >"$outdir/plan.options"
    how="made"
fi
plan_sha=$(sha256sum "$plan" | cut -d' ' -f1)

array_id=$(sbatch --parsable --array="0-$((shards - 1))%$max_parallel" --cpus-per-task="$cpus" \
    --output="$outdir/logs/shard-%a.log" --open-mode=append "${sbatch_extra[@]}" \
    "$here/shard.sbatch" "$net" "$plan" "$outdir")
array_id=${array_id%%;*}
echo "plan       $plan ($how; $shards shards, sha256 $plan_sha)"
echo "array job  $array_id ($shards tasks, at most $max_parallel at a time, $cpus cpu(s) each)"
jobs=$array_id
if [[ $merge -eq 1 ]]; then
    merge_id=$(sbatch --parsable --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
        --cpus-per-task="$cpus" --output="$outdir/logs/merge.log" --open-mode=append "${sbatch_extra[@]}" \
        "$here/merge.sbatch" "$net" "$plan" "$outdir")
    merge_id=${merge_id%%;*}
    echo "merge job  $merge_id (afterok:$array_id) -> $outdir/cert.json"
    jobs=$array_id,$merge_id
fi
cat <<EOF
watch      squeue -j $jobs
           sacct -j $jobs --format=JobID,JobName,State,Elapsed,ExitCode   (needs accounting)
           tail -f $outdir/logs/shard-*.log      ($outdir/logs/shard-%a.log per shard)
           grep -h '^shard: \(certified\|skipped\|FAILED\)' $outdir/logs/shard-*.log
EOF
if [[ $merge -eq 1 ]]; then
    echo "           cat $outdir/logs/merge.log"
fi
