// Seed (a): count sched_switch events per process in the kernel for a while, then print the top processes.
// Run as root: `npm run build && node dist/examples/sched-top.js [SECONDS]`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { attachProgram } from "../src/kernel/attach.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { loadCollectionSpec } from "../src/object/collection.js";

export interface SchedCount {
  pid: number;
  comm: string;
  switches: bigint;
}

/** Loads testdata/sched_count.o, attaches it to sched/sched_switch for `ms` milliseconds, returns the counts. */
export async function schedTop(ms: number): Promise<SchedCount[]> {
  const object = fileURLToPath(new URL("../../testdata/sched_count.o", import.meta.url));
  const spec = loadCollectionSpec(readFileSync(object));
  using collection = loadKernelCollection(spec);
  const program = collection.programs.get("count_switches");
  const map = collection.maps.get("switches");
  if (!program || !map) throw new Error("sched_count.o lacks count_switches or switches");
  {
    using _link = attachProgram(program, spec.programs.get("count_switches") as never);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
  const rows: SchedCount[] = [];
  for (const [k, v] of map.entries()) {
    const pid = new DataView(k.buffer).getUint32(0, true);
    let comm = "?";
    try {
      comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      // the process is gone
    }
    rows.push({ pid, comm, switches: new DataView(v.buffer).getBigUint64(0, true) });
  }
  return rows.sort((a, b) => (b.switches > a.switches ? 1 : b.switches < a.switches ? -1 : 0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 1);
  for (const r of (await schedTop(seconds * 1000)).slice(0, 10))
    console.log(`${String(r.pid).padStart(8)}  ${r.comm.padEnd(16)} ${r.switches}`);
}
