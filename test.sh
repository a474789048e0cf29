#!/usr/bin/env bash
# Runs every test of VoicePipeline: installs what is missing, restores, builds, tests,
# and ends with the totals on a line of their own: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh || exit 1
dotnet build VoicePipeline.sln -c Release -nologo -clp:ErrorsOnly || exit 1

log=$(mktemp)
# One test assembly at a time: on 2 cores, parallel assemblies only fight over the CPU.
dotnet test VoicePipeline.sln -c Release --no-build -nologo -m:1 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries: "Passed!  - Failed: 0, Passed: 12, Skipped: 1, Total: 13, ..."
read -r passed failed skipped < <(sed -n 's/.*Failed: *\([0-9]*\), Passed: *\([0-9]*\), Skipped: *\([0-9]*\).*/\2 \1 \3/p' "$log" \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
[ "$skipped" -eq 0 ] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
exit "$status"
