#!/usr/bin/env bash
# A real one-node Slurm self-test of scripts/slurm (no systemd, no cgroups).
#
#   scripts/slurm/selftest.sh [--k2] [--shipped] [--strict] [--cluster-only] [--keep]
#                             [--workdir DIR] [--timeout SECS]
#
# Installs Debian's slurm-wlm and munge when missing (apt-get, needs root), writes a
# one-node slurm.conf for this host in a temporary directory, creates a munge key,
# starts munged, slurmctld and slurmd by hand, waits for the node to be idle, runs a
# trivial job array, then submit.sh on certificates/k3-50-500-m100.bin with 8 shards
# (--k2: certificates/default.bin with 4 shards, quick). It waits for the merge job,
# checks that merge and verify succeeded, and compares the merged certificate's
# verdict, radii and trees with a one-machine run's (certify --json; --shipped: the shipped
# certificate's, through verify --json). The verdicts and the sharpest radii must
# agree (--strict, from older versions, is accepted and changes nothing). It reruns the array
# and checks that every shard was skipped, makes shard 1 of a k = 2 run fail and
# checks that the merge does not run and that resubmitting redoes only that shard,
# and prints the per-shard times and the wall times. The daemons it started are
# stopped on exit (--keep: left running).
#
# Binaries: $HVCERT_CERTIFY / $HVCERT_VERIFY, else $CARGO_TARGET_DIR/release, else
# target/release of this repository.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

mode=k3
compare=single
strict=0 # accepted, no effect: the radii must always agree
cluster_only=0
keep=0
work=""
timeout=3600
while [[ $# -gt 0 ]]; do
    case $1 in
        --k2) mode=k2 ;;
        --strict) strict=1 ;;
        --shipped) compare=shipped ;;
        --cluster-only) cluster_only=1 ;;
        --keep) keep=1 ;;
        --workdir) work=$2; shift ;;
        --timeout) timeout=$2; shift ;;
        -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "selftest: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

t_start=$(date +%s)
log() { printf '[selftest %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "FAILED: $*" >&2; exit 1; }
elapsed() { echo $(( $(date +%s) - $1 )); }

target=${CARGO_TARGET_DIR:-$repo/target}
certify=${HVCERT_CERTIFY:-$target/release/certify}
verify=${HVCERT_VERIFY:-$target/release/verify}
if [[ $cluster_only -eq 0 ]]; then
    for b in "$certify" "$verify"; do
        [[ -x $b ]] || die "no binary $b (cargo build --release --bins, or set HVCERT_CERTIFY/HVCERT_VERIFY)"
    done
    certify=$(cd "$(dirname "$certify")" && pwd)/$(basename "$certify")
    verify=$(cd "$(dirname "$verify")" && pwd)/$(basename "$verify")
fi

if [[ $mode == k3 ]]; then
    net=$repo/certificates/k3-50-500-m100.bin
    shipped=$repo/certificates/k3-50-500-m100.cert.json
    shards=8
else
    net=$repo/certificates/default.bin
    shipped=$repo/certificates/default.cert.json
    shards=4
fi

# shellcheck source=scripts/slurm/json.sh
source "$here/json.sh"

ratio() { # "p/q" -> decimal
    awk -v r="$1" 'BEGIN { n = split(r, a, "/"); printf "%.6g", (n == 2 ? a[1] / a[2] : a[1]) }'
}

# ---- 1. installation --------------------------------------------------------
t0=$(date +%s)
missing=()
for cmd in slurmctld slurmd sbatch munged; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; run as root to apt-get install slurm-wlm munge"
    log "installing slurm-wlm munge (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
t_install=$(elapsed "$t0")
log "installation: ${t_install} s ($(slurmctld -V))"

# ---- 2. a one-node cluster --------------------------------------------------
t0=$(date +%s)
[[ $(id -u) -eq 0 ]] || die "the self-test starts munged and slurmd as root (SlurmUser=root); run as root"
if [[ -z $work ]]; then
    work=$(mktemp -d /tmp/hvcert-slurm.XXXXXX)
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
mkdir -p "$work/etc" "$work/state" "$work/spool" "$work/log" "$work/munge"
chmod 700 "$work/munge"
log "work directory $work"

pids=()
cleanup() {
    local rc=$?
    if [[ $keep -eq 1 ]]; then
        log "daemons left running (--keep): kill ${pids[*]:-}; SLURM_CONF=$work/etc/slurm.conf"
    else
        for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
            kill "${pids[i]}" 2>/dev/null || true
        done
        for p in "${pids[@]}"; do
            for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        done
        [[ ${#pids[@]} -eq 0 ]] || log "stopped the daemons (${pids[*]})"
    fi
    log "total wall time $(elapsed "$t_start") s"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge: our own key, socket and pid file in the work directory.
key=$work/munge/munge.key
dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
chmod 400 "$key"
socket=$work/munge/munge.socket
munged --foreground --force --key-file="$key" --socket="$socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" \
    --seed-file="$work/munge/munged.seed" >"$work/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -S $socket ]] && break; sleep 0.1; done
[[ -S $socket ]] || { cat "$work/log/munged.out" "$work/log/munged.log" >&2 || true; die "munged did not start"; }
munge --socket="$socket" -n | unmunge --socket="$socket" >/dev/null || die "munge/unmunge round trip"

host=$(hostname -s)
cpus=$(nproc)
ctld_port=${HVCERT_SLURMCTLD_PORT:-6817}
slurmd_port=${HVCERT_SLURMD_PORT:-6818}
export SLURM_CONF=$work/etc/slurm.conf
cat >"$SLURM_CONF" <<EOF
# one-node self-test cluster written by scripts/slurm/selftest.sh
ClusterName=hvselftest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/slurmd-%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd-%n.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
MaxArraySize=10001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=selftest Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.2; done
scontrol ping >/dev/null 2>&1 || { tail -20 "$work/log/slurmctld.log" "$work/log/slurmctld.out" >&2 || true; die "slurmctld does not answer"; }
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)

state=""
for _ in $(seq 150); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 0.2
done
[[ $state == idle ]] || { tail -20 "$work/log/slurmd.log" "$work/log/slurmd.out" >&2 || true; die "node $host is '$state', not idle"; }
t_cluster=$(elapsed "$t0")
log "cluster up: node $host idle, $cpus CPUs (${t_cluster} s); SLURM_CONF=$SLURM_CONF"

# Wait until job JOBID (and all its array tasks) left the queue; print its final states.
wait_job() { # JOBID TIMEOUT
    local id=$1 limit=$2 t=0
    while [[ -n $(squeue -h -j "$id" -o %i 2>/dev/null) ]]; do
        sleep 2
        t=$((t + 2))
        [[ $t -lt $limit ]] || { squeue -j "$id" >&2; return 1; }
    done
}
job_states() { # JOBID: one "JOBID[_TASK] STATE EXITCODE" line per job or array task
    scontrol -o show job "$1" 2>/dev/null | sed -E \
        -e 's/^JobId=[0-9]+ ArrayJobId=([0-9]+) ArrayTaskId=([0-9]+) .* JobState=([A-Z_]+) .* ExitCode=([0-9:]+) .*/\1_\2 \3 \4/; t' \
        -e 's/^JobId=([0-9]+) .* JobState=([A-Z_]+) .* ExitCode=([0-9:]+) .*/\1 \2 \3/; t' -e d
}
all_completed() { # JOBID
    local states
    states=$(job_states "$1")
    [[ -n $states ]] && ! grep -qv ' COMPLETED 0:0$' <<<"$states"
}

# ---- 3. a trivial job array -------------------------------------------------
t0=$(date +%s)
mkdir -p "$work/trivial"
# shellcheck disable=SC2016 # expanded by the job, not here
tid=$(sbatch --parsable --array=0-3%2 --output="$work/trivial/task-%a.log" \
    --wrap 'echo "task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on $(hostname), $SLURM_CPUS_ON_NODE cpus"')
log "trivial job array $tid submitted"
wait_job "$tid" 120 || die "trivial array did not finish in 120 s"
all_completed "$tid" || { job_states "$tid" >&2; die "trivial array did not complete"; }
for a in 0 1 2 3; do grep -q "^task $a of job $tid" "$work/trivial/task-$a.log" || die "trivial task $a log"; done
log "trivial job array: 4 tasks COMPLETED ($(elapsed "$t0") s)"
if [[ $cluster_only -eq 1 ]]; then
    log "cluster-only: done"
    exit 0
fi

# ---- 4. a sharded certification through submit.sh ---------------------------
out=$work/run-$mode
t0=$(date +%s)
log "submit.sh $(basename "$net") $shards $out"
submit_out=$(HVCERT_CERTIFY=$certify HVCERT_VERIFY=$verify \
    "$here/submit.sh" "$net" "$shards" "$out" --max-parallel "$cpus")
printf '%s\n' "$submit_out"
array_id=$(sed -n 's/^array job  *\([0-9][0-9]*\).*/\1/p' <<<"$submit_out")
merge_id=$(sed -n 's/^merge job  *\([0-9][0-9]*\).*/\1/p' <<<"$submit_out")
[[ -n $array_id && -n $merge_id ]] || die "submit.sh printed no job ids"
wait_job "$merge_id" "$timeout" || die "merge job $merge_id did not finish in $timeout s"
t_sharded=$(elapsed "$t0")
if ! all_completed "$array_id"; then job_states "$array_id" >&2; die "array job $array_id did not complete"; fi
if ! all_completed "$merge_id"; then
    job_states "$merge_id" >&2; cat "$out/logs/merge.log" >&2 || true
    die "merge job $merge_id did not complete"
fi
log "array $array_id and merge $merge_id COMPLETED; plan + $shards shards + merge + verify: ${t_sharded} s"
echo "---- merge log ----"
cat "$out/logs/merge.log"
echo "-------------------"
[[ $(json_get "$out/cert.verify.json" status) == verified ]] || die "merged certificate not verified"
for a in $(seq 0 $((shards - 1))); do
    grep -q '^shard: certified' "$out/logs/shard-$a.log" || die "shard $a log does not say certified"
done

# ---- 5. the same radii (and trees) as one machine -----------------------------
t0=$(date +%s)
ref=$work/reference.json
if [[ $compare == single ]]; then
    log "one-machine run: certify --net $(basename "$net") --json (self-checked by the independent checker)"
    "$certify" --net "$net" --out "$work/single.cert.json" --quiet --json >"$ref"
    [[ $(json_get "$ref" self_check) == verified ]] || die "the one-machine certificate was not self-checked"
    what="a one-machine run (certify --json, self-check verified)"
else
    log "reference: the shipped $(basename "$shipped") through verify --json"
    "$verify" "$shipped" --net "$net" --json >"$ref" || die "verify rejects the shipped certificate"
    what="the shipped $(basename "$shipped") (verify --json)"
fi
t_reference=$(elapsed "$t0")
a=$(json_get "$out/cert.verify.json" verdict)
b=$(json_get "$ref" verdict)
[[ $a == "$b" ]] || die "verdict: merged $a, $what $b"
log "verdict: merged $a = $b"
radii_differ=0
for f in eps_x_star eps_rho; do
    a=$(json_get "$out/cert.verify.json" "$f")
    b=$(json_get "$ref" "$f")
    if [[ $a == "$b" ]]; then
        log "$f: merged $a = $b"
    else
        radii_differ=1
        log "$f: merged $a ($(ratio "$a")), $what $b ($(ratio "$b")): DIFFERENT"
    fi
done
if [[ $radii_differ -eq 0 && $compare == single ]]; then
    # Not only the radii: the very trees of the one-machine run.
    python3 - "$out/cert.json" "$work/single.cert.json" <<'PY' || die "the merged trees differ from $what"
import json, sys
a, b = (json.load(open(f))["cover"] for f in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
    log "merged cover (every tree) = the one-machine cover"
fi
if [[ $radii_differ -eq 0 ]]; then
    log "merged certificate agrees with $what (${t_reference} s)"
else
    # The search makes the same trees, so the same radii, however the faces are
    # dealt out (README, 'Sharded runs'): a difference is a bug.
    die "the merged radii differ from $what"
fi

# ---- 6. resumability: rerun the array, every shard is skipped ------------------
t0=$(date +%s)
resume_out=$(HVCERT_CERTIFY=$certify HVCERT_VERIFY=$verify \
    "$here/submit.sh" "$net" "$shards" "$out" --max-parallel "$cpus" --no-merge)
printf '%s\n' "$resume_out"
rid=$(sed -n 's/^array job  *\([0-9][0-9]*\).*/\1/p' <<<"$resume_out")
[[ -n $rid ]] || die "submit.sh printed no array job id"
wait_job "$rid" "$timeout" || die "rerun $rid did not finish"
all_completed "$rid" || { job_states "$rid" >&2; die "rerun array $rid did not complete"; }
for a in $(seq 0 $((shards - 1))); do
    line=$(grep '^shard: ' "$out/logs/shard-$a.log" | tail -n 1)
    [[ $line == "shard: skipped"* ]] || die "shard $a was not skipped on the rerun: $line"
done
log "rerun $rid: all $shards shards skipped ($(elapsed "$t0") s)"

# ---- 7. a failed shard: the merge never runs; resubmitting redoes only that shard ----
# (on the quick k = 2 network whatever the mode; certify is wrapped to fail on shard 1)
t0=$(date +%s)
fnet=$repo/certificates/default.bin
fout=$work/run-failing
wrapper=$work/failing-certify
# shellcheck disable=SC2016 # the wrapper expands these
printf '%s\n' '#!/usr/bin/env bash' \
    'for a in "$@"; do [[ $a == 1/* ]] && { echo "injected failure on shard $a" >&2; exit 7; }; done' \
    "exec '$certify' \"\$@\"" >"$wrapper"
chmod +x "$wrapper"
fail_out=$(HVCERT_CERTIFY=$wrapper HVCERT_VERIFY=$verify "$here/submit.sh" "$fnet" 4 "$fout" --max-parallel "$cpus")
fa=$(sed -n 's/^array job  *\([0-9][0-9]*\).*/\1/p' <<<"$fail_out")
fm=$(sed -n 's/^merge job  *\([0-9][0-9]*\).*/\1/p' <<<"$fail_out")
[[ -n $fa && -n $fm ]] || die "submit.sh printed no job ids"
wait_job "$fa" 300 || die "failing array $fa did not finish"
wait_job "$fm" 60 || die "merge $fm still queued after its dependency failed"
log "failing run: array $fa: $(job_states "$fa" | tr '\n' ';') merge $fm: $(job_states "$fm")"
job_states "$fa" | grep -q ' FAILED 7:0$' || die "shard 1 of $fa did not fail with exit 7"
if job_states "$fm" | grep -q ' COMPLETED '; then die "merge $fm ran after a failed shard"; fi
[[ ! -e $fout/cert.json ]] || die "a merged certificate after a failed shard"
grep -q 'FAILED: certify exit 7' "$fout/logs/shard-1.log" || die "shard 1 log does not name the failure"
fail_out=$(HVCERT_CERTIFY=$certify HVCERT_VERIFY=$verify "$here/submit.sh" "$fnet" 4 "$fout" --max-parallel "$cpus")
fa=$(sed -n 's/^array job  *\([0-9][0-9]*\).*/\1/p' <<<"$fail_out")
fm=$(sed -n 's/^merge job  *\([0-9][0-9]*\).*/\1/p' <<<"$fail_out")
wait_job "$fm" 300 || die "resubmitted merge $fm did not finish"
if ! all_completed "$fa" || ! all_completed "$fm"; then
    job_states "$fa" >&2; job_states "$fm" >&2; die "resubmission did not complete"
fi
for a in 0 2 3; do
    [[ $(grep '^shard: ' "$fout/logs/shard-$a.log" | tail -n 1) == "shard: skipped"* ]] || die "shard $a not skipped on resubmission"
done
[[ $(grep '^shard: ' "$fout/logs/shard-1.log" | tail -n 1) == "shard: certified"* ]] || die "shard 1 not certified on resubmission"
[[ $(json_get "$fout/cert.verify.json" status) == verified ]] || die "resubmitted merge not verified"
t_failing=$(elapsed "$t0")
log "failed shard: the merge did not run; resubmitting skipped shards 0 2 3, redid 1, merged and verified (${t_failing} s)"

# ---- 8. summary -------------------------------------------------------------------
echo "---- per-shard times (certify merge) ----"
sed -n '/^shard [0-9]/p; /^shard times/p' "$out/logs/merge.log"
echo "-------------------"
log "installation ${t_install} s, cluster start ${t_cluster} s, sharded run ${t_sharded} s, reference ${t_reference} s, failed-shard test ${t_failing} s"
log "PASSED ($mode, $shards shards)"
