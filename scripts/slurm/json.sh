# shellcheck shell=bash
# json_get FILE FIELD: a JSON field by dotted path (empty when absent); jq
# when present, else python3. Sourced by submit.sh and selftest.sh; the
# .sbatch scripts carry their own copy, since Slurm runs a copy of the batch
# script from its spool directory, away from this folder.
json_get() { # FILE FIELD (dotted path)
    if command -v jq >/dev/null 2>&1; then
        jq -r ".$2 // empty" "$1"
    else
        python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v.get(k) if isinstance(v, dict) else None
print('' if v is None else v)
PY
    fi
}
