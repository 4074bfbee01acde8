/**
 * The tracing language against bpftrace (issue 24), side by side in one run: the wall time of
 * `BEGIN { exit() }` (best of 5 process runs each), and what `tracepoint:raw_syscalls:sys_enter
 * { @[comm] = count(); }` costs a syscall-heavy loop (dd moving 1-byte blocks: a read and a write each),
 * as ns per syscall over the loop's untraced time (best of 3, the tracer started and attached first).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";

const BLOCKS = 1_000_000;
const DD = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", `count=${BLOCKS}`];
const COUNT_SYSCALLS = "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }";

function wallSeconds(cmd: string, args: readonly string[], runs: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

/** Starts a tracer and resolves once it has printed its Attaching line and had time to attach. */
function startTracer(cmd: string, args: readonly string[]): Promise<ChildProcess> {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    p.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Attaching")) setTimeout(() => resolve(p), 500);
    });
    p.once("exit", (code) => reject(new Error(`${cmd} exited (${code}) before attaching: ${out}`)));
  });
}

async function stopTracer(p: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => p.once("exit", resolve));
  p.kill("SIGINT");
  await exited;
}

/** ns per syscall that the tracer adds to the dd loop. */
async function syscallCostNs(cmd: string, args: readonly string[], baseline: number): Promise<number> {
  const tracer = await startTracer(cmd, [...args, "-e", COUNT_SYSCALLS]);
  try {
    const traced = wallSeconds(DD[0] as string, DD.slice(1), 3);
    return ((traced - baseline) * 1e9) / (2 * BLOCKS);
  } finally {
    await stopTracer(tracer);
  }
}

export async function traceBench(bin: string): Promise<string[]> {
  const lines: string[] = [];
  const ours = [bin, "trace", "--backend", "kernel"];
  const bpftrace = spawnSync("bpftrace", ["--version"], { encoding: "utf8" });
  const have = bpftrace.status === 0;
  const t = wallSeconds(process.execPath, [...ours, "-e", "BEGIN { exit() }"], 5);
  const b = have ? wallSeconds("bpftrace", ["-e", "BEGIN { exit() }"], 5) : undefined;
  lines.push(
    `trace 'BEGIN { exit() }' wall time: tsbpf ${(t * 1e3).toFixed(0)} ms` +
      (b !== undefined ? `, bpftrace ${(b * 1e3).toFixed(0)} ms (${(t / b).toFixed(2)}x)` : ""),
  );
  const baseline = wallSeconds(DD[0] as string, DD.slice(1), 3);
  const tc = await syscallCostNs(process.execPath, ours, baseline);
  const bc = have ? await syscallCostNs("bpftrace", [], baseline) : undefined;
  lines.push(
    `trace syscall counting by comm, cost per syscall (dd, ${2 * BLOCKS} syscalls, ${(baseline * 1e3).toFixed(0)} ms untraced): ` +
      `tsbpf ${tc.toFixed(0)} ns` +
      (bc !== undefined ? `, bpftrace ${bc.toFixed(0)} ns (${(tc / bc).toFixed(2)}x)` : ""),
  );
  if (!have) lines.push("bpftrace side skipped: bpftrace is not installed (apt-get install bpftrace)");
  return lines;
}
