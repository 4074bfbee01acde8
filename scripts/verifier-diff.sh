#!/usr/bin/env bash
# The verifier's long differential run against the live kernel (root, bpf()): RUNS generated programs
# (default 100000) from seed FIRST (default 1) through both verifiers; prints the agreement and the first
# disagreements, and writes all of them (one JSON object per line) to OUT (default verifier-diff.jsonl).
# The suite runs the first 3000 seeds of the same generator. Usage: scripts/verifier-diff.sh [RUNS] [FIRST] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
export VERIFIER_DIFF_RUNS="${1:-100000}"
export VERIFIER_DIFF_FIRST="${2:-1}"
export VERIFIER_DIFF_OUT="${3:-verifier-diff.jsonl}"
rm -f "$VERIFIER_DIFF_OUT"
npm run build >/dev/null
node --test --test-reporter=spec --test-name-pattern="generated programs" dist/test/verifier-differential.test.js
