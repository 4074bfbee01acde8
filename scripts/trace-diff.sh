#!/usr/bin/env bash
# tsbpf trace beside the installed bpftrace (apt-get install bpftrace), on the kernel, as root: every script
# of scripts/trace-diff/*.tsv (SCRIPT<TAB>COMMAND, @ROOT@ = the corpus workloads built into a temporary
# copy of ../shared/bpftrace; an optional third column NAME=VALUE... sets the environment) must print what bpftrace prints (the tracer's name aside) with its exit code;
# every script of errors.txt must fail with bpftrace's exit code at bpftrace's `stdin:L` line, and where the
# message differs it is shown. Differences in the order of equal counts and in addresses named after their
# process exited are timing, not bugs: read them. Usage: scripts/trace-diff.sh [CASE-FILE...]
set -uo pipefail
cd "$(dirname "$0")/.."
command -v bpftrace >/dev/null || { echo "trace-diff: bpftrace is not installed" >&2; exit 2; }
SHARED=${TSBPF_SHARED:-../shared}
ROOT=$(mktemp -d /tmp/tsbpf-trace-diff-XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
cp -r "$SHARED/bpftrace/." "$ROOT/" && sh "$ROOT/build.sh" && mkdir -p "$ROOT/work" && printf 'hello file' > "$ROOT/work/f.txt" || exit 2
touch "$ROOT/work/anchor_file.txt"
TSBPF=(node bin/tsbpf.cjs trace)
n=0
bad=0
run_pair() { # script command environment → sets b, bc, t, tc, be, te
  local script=$1 cmd=$2
  local -a envs stop=()
  read -r -a envs <<<"$3"
  # SIGINT_AFTER=SECONDS: a SIGINT to each tracer then, as from Ctrl-C
  for i in "${!envs[@]}"; do
    if [[ ${envs[$i]} == SIGINT_AFTER=* ]]; then stop=(-s INT --preserve-status "${envs[$i]#SIGINT_AFTER=}"); unset 'envs[i]'; fi
  done
  [ ${#stop[@]} -eq 0 ] && stop=(20)
  if [ -n "$cmd" ]; then
    b=$(env "${envs[@]}" timeout "${stop[@]}" bpftrace -e "$script" -c "$cmd" 2>"$ROOT/be"); bc=$?
    t=$(env "${envs[@]}" timeout "${stop[@]}" "${TSBPF[@]}" -e "$script" -c "$cmd" 2>"$ROOT/te"); tc=$?
  else
    b=$(env "${envs[@]}" timeout "${stop[@]}" bpftrace -e "$script" 2>"$ROOT/be"); bc=$?
    t=$(env "${envs[@]}" timeout "${stop[@]}" "${TSBPF[@]}" -e "$script" 2>"$ROOT/te"); tc=$?
  fi
  be=$(grep -v RLIMIT_MEMLOCK "$ROOT/be" | head -1)
  te=$(head -1 "$ROOT/te")
}
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(scripts/trace-diff/*.tsv scripts/trace-diff/errors.txt)
for f in "${files[@]}"; do
  while IFS=$'\t' read -r script cmd envs; do
    [ -z "$script" ] && continue
    script=${script//@ROOT@/$ROOT}
    cmd=${cmd//@ROOT@/$ROOT}
    n=$((n + 1))
    run_pair "$script" "$cmd" "${envs:-}"
    if [[ $f == *errors.txt ]]; then
      bl=$(grep -o '^stdin:[0-9]*' <<<"$be")
      tl=$(grep -o '^stdin:[0-9]*' <<<"$te")
      if [ "$bc" != "$tc" ] || [ "$bl" != "$tl" ]; then
        bad=$((bad + 1))
        printf '=== %s\n  exit: bpftrace %s, tsbpf %s\n  bpftrace: %s\n  tsbpf:    %s\n' "$script" "$bc" "$tc" "$be" "$te"
      elif [ "$be" != "$te" ]; then
        printf -- '--- message of %s\n  bpftrace: %s\n  tsbpf:    %s\n' "$script" "$be" "$te"
      fi
    elif [ "${b//bpftrace/tsbpf}" != "$t" ] || [ "$bc" != "$tc" ]; then
      bad=$((bad + 1))
      printf '=== %s  (-c %s)\n  exit: bpftrace %s, tsbpf %s\n' "$script" "$cmd" "$bc" "$tc"
      diff <(echo "${b//bpftrace/tsbpf}") <(echo "$t") | head -10 | sed 's/^/  /'
    fi
  done <"$f"
done
echo "trace-diff: $n scripts, $bad differ"
[ "$bad" -eq 0 ]
