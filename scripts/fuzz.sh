#!/usr/bin/env bash
# Long fuzz campaigns (the suite runs short fixed-seed slices of the same tests): every parser's mutation
# fuzzer — ELF/BTF/BTF.ext objects through the loader, BTF through both dumps, capture files, pcap-filter
# text — with FUZZ_RUNS cases each (default 100000). Usage: scripts/fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_RUNS="${1:-100000}"
npm run build >/dev/null
node --test --test-reporter=spec dist/test/parser-fuzz.test.js dist/test/loader-fuzz.test.js dist/test/btf.test.js dist/test/robustness.test.js
