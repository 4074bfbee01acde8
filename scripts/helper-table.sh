#!/usr/bin/env bash
# Rewrites src/verifier/helper-table.ts from the live kernel's answers (root, bpf()): which helpers each
# program type may call. The suite checks the committed table against the kernel it runs on.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
REGENERATE_HELPER_TABLE=1 node --test --test-reporter=spec dist/test/verifier-helpers.test.js
npx biome check --write src/verifier/helper-table.ts >/dev/null
