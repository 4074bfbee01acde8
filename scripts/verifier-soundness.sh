#!/usr/bin/env bash
# The verifier's soundness fuzz, long: generated programs (seeds from 1) until ACCEPTED (default 1000000) of them
# were accepted by our verifier and ran in the checked interpreter on random inputs without a fault, on JOBS
# worker threads (default: one per CPU). Prints programs/s and the faults found (each also in OUT, default
# verifier-soundness.jsonl); exits 1 if there was any. The suite runs the first 10000 seeds of the same generator.
# Usage: scripts/verifier-soundness.sh [ACCEPTED] [JOBS] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
exec node scripts/verifier-soundness.mjs "${1:-1000000}" "${2:-$(nproc)}" "${3:-verifier-soundness.jsonl}"
