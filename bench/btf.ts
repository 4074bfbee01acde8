/**
 * BTF against libbpf and bpftool, side by side in one run: parsing the kernel's vmlinux BTF (file read
 * included, best of 7: btfFromFile against libbpf's btf__parse, bench/libbpf/btf_parse.c), and
 * `tsbpf btf dump file vmlinux --format c` against `bpftool btf dump file vmlinux format c` as whole commands
 * (output to /dev/null, best of 5 each, interleaved).
 */
import { spawnSync } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { btfFromFile } from "../src/object/btf/index.js";
import { withLibbpfProgram } from "./libbpf.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";

function bestMs(runs: number, f: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

export function btfBench(bin: string): string[] {
  if (!existsSync(VMLINUX)) return [`BTF bench skipped: ${VMLINUX} not present`];
  const lines: string[] = [];
  const ours = bestMs(7, () => btfFromFile(readFileSync(VMLINUX), VMLINUX));
  const libbpf = withLibbpfProgram("btf_parse", (exec) => Number(exec([VMLINUX, "7"])));
  lines.push(
    `parse vmlinux BTF (file read included, best of 7): tsbpf ${ours.toFixed(2)} ms` +
      (typeof libbpf === "string"
        ? ` (libbpf skipped: ${libbpf})`
        : `, libbpf btf__parse ${libbpf.toFixed(2)} ms: ratio ${(ours / libbpf).toFixed(2)}x`),
  );
  const devnull = openSync("/dev/null", "w");
  const command = (cmd: string, args: string[]) => () => {
    const r = spawnSync(cmd, args, { stdio: ["ignore", devnull, "pipe"] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  };
  const tsbpfDump = command(process.execPath, [bin, "btf", "dump", "file", VMLINUX, "--format", "c"]);
  const bpftoolDump = command("bpftool", ["btf", "dump", "file", VMLINUX, "format", "c"]);
  if (spawnSync("bpftool", ["version"]).status !== 0) {
    lines.push(`btf dump format c: tsbpf ${bestMs(5, tsbpfDump).toFixed(0)} ms (bpftool not installed)`);
    return lines;
  }
  let a = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    a = Math.min(a, bestMs(1, tsbpfDump));
    b = Math.min(b, bestMs(1, bpftoolDump));
  }
  lines.push(
    `btf dump file vmlinux format c (whole command, best of 5): tsbpf ${a.toFixed(0)} ms, bpftool ${b.toFixed(0)} ms: ratio ${(a / b).toFixed(2)}x`,
  );
  return lines;
}
