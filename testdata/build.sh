#!/usr/bin/env bash
# Rebuilds the committed test objects. The output is reproducible: same clang, same flags, and paths
# relative to this folder (DWARF records "." as the compilation directory).
# Usage: testdata/build.sh [OUTDIR]   (default: this folder)
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-.}"
CLANG="${CLANG:-clang-19}"
for src in *.c; do
  "$CLANG" -O2 -g -target bpf -mcpu=v3 -Iinclude -fdebug-compilation-dir=. -c "$src" -o "$out/${src%.c}.o"
done
# One big-endian object, so both byte orders are exercised against llvm-objdump and bpftool.
"$CLANG" -O2 -g -target bpfeb -mcpu=v3 -Iinclude -fdebug-compilation-dir=. -c globals.c -o "$out/globals_bpfeb.o"
# The form old LLVM wrote (EM_NONE, SHT_RELA relocations of type 0, 28-byte map definitions), which clang
# no longer emits: written byte by byte by a script.
node old_form.mjs "$out/old_form.o"
# Assembly sources (objdump's label cases), assembled as they are.
for src in *.s; do
  "$CLANG" -target bpf -c "$src" -o "$out/${src%.s}.o"
done
