/**
 * Detaching tracepoint links: 8 links of one program on 8 sched tracepoints, closed one by one with close()
 * (each blocks Node's event loop while the kernel waits for RCU grace periods) and together with closeAsync()
 * (on worker threads); ms for all 8, median of `rounds`.
 */
import { assemble } from "../src/isa/index.js";
import { attachTracepoint } from "../src/kernel/link.js";
import { KernelProgram } from "../src/kernel/program.js";

const TRACEPOINTS = [
  "sched_switch",
  "sched_wakeup",
  "sched_wakeup_new",
  "sched_waking",
  "sched_process_fork",
  "sched_process_exec",
  "sched_process_exit",
  "sched_migrate_task",
];

export async function detachMs(rounds: number): Promise<{ links: number; oneByOne: number; together: number }> {
  const program = KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "tracepoint", name: "tsbpf_bench_dt" });
  try {
    const attachAll = () => TRACEPOINTS.map((t) => attachTracepoint(program, "sched", t));
    const oneByOne: number[] = [];
    const together: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let links = attachAll();
      let t0 = process.hrtime.bigint();
      for (const l of links) l.close();
      oneByOne.push(Number(process.hrtime.bigint() - t0) / 1e6);
      links = attachAll();
      t0 = process.hrtime.bigint();
      await Promise.all(links.map((l) => l.closeAsync()));
      together.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1] as number;
    return { links: TRACEPOINTS.length, oneByOne: median(oneByOne), together: median(together) };
  } finally {
    program.close();
  }
}
