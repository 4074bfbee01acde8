#!/usr/bin/env bash
# The kernel's own verifier selftests beyond ../shared's 17: every tools/testing/selftests/bpf/progs/verifier_*.c
# of Debian's linux-source-6.12 that builds without vmlinux.h, built as ../shared/verifier-selftests/README.md
# says, each program loaded alone into the running kernel (root, bpf()) and verified by us; prints each
# disagreement and the totals. Kernel refusals outside the verifier (EPERM for fentry/lsm here) are listed too.
# Usage: scripts/verifier-selftests.sh [WORKDIR]   (default /tmp/tsbpf-selftests; the .deb is cached there)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
work="${1:-/tmp/tsbpf-selftests}"
shared="${TSBPF_SHARED:-$repo/../shared}/verifier-selftests/src"
mkdir -p "$work" && cd "$work"
if ! ls linux-source-6.12_*.deb >/dev/null 2>&1; then apt-get download linux-source-6.12; fi
if [ ! -d src/linux-source-6.12 ]; then
  mkdir -p src && dpkg-deb --fsys-tarfile linux-source-6.12_*.deb | tar -x -C src --wildcards './usr/src/linux-source-6.12.tar.xz'
  tar -xf src/usr/src/linux-source-6.12.tar.xz -C src --wildcards \
    'linux-source-6.12/tools/testing/selftests/bpf/progs/verifier_*' \
    'linux-source-6.12/tools/testing/selftests/bpf/progs/bpf_misc.h' 'linux-source-6.12/tools/include/linux/filter.h'
fi
progs=src/linux-source-6.12/tools/testing/selftests/bpf/progs
# Two include trees: ../shared's stubs and bpf_misc.h first, 6.12's bpf_misc.h and filter.h for what needs them.
rm -rf inc obj && mkdir -p inc/old inc/new/tools/include/linux inc/new/x/y/z obj
cp -r "$shared/bpf_misc.h" "$shared/stub-headers" inc/old/
cp "$progs/bpf_misc.h" inc/new/ && cp src/linux-source-6.12/tools/include/linux/filter.h inc/new/tools/include/linux/
built=0
for f in $(cd "$progs" && grep -L 'vmlinux.h\|bpf_kfuncs\|bpf_experimental' verifier_*.c); do
  b="${f%.c}"
  for tree in old new; do
    cp "$progs/$f" "inc/$tree/"
    if clang-19 -O2 -g -target bpf -mcpu=v4 -D__TARGET_ARCH_x86 -I"inc/$tree" -I/usr/include/x86_64-linux-gnu \
      -Iinc/old/stub-headers/a/b/c -Iinc/new/x/y/z -c "inc/$tree/$f" -o "obj/$b.o" 2>/dev/null; then
      built=$((built + 1))
      break
    fi
  done
done
echo "# built $built objects into $work/obj"
cd "$repo" && npm run build >/dev/null
node scripts/verifier-selftests.mjs "$work/obj"
