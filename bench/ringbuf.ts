/**
 * Ring buffer drain rate: a kernel program writes fixed-size records with bpf_ringbuf_output (driven by
 * BPF_PROG_TEST_RUN with repeat), and RingBufReader.pollRaw hands each to a TS callback. Best of 5 rounds.
 */
import { assemble } from "../src/isa/index.js";
import { attachProgram } from "../src/kernel/attach.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { KernelMap } from "../src/kernel/map.js";
import { KernelProgram } from "../src/kernel/program.js";
import { RingBufReader } from "../src/kernel/ringbuf.js";
import { linuxSys, type Sys } from "../src/kernel/sys.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramSpec } from "../src/object/programs.js";

const RING = 1 << 26;

export function ringbufEventsPerSecond(recordSize: number): number {
  const map = KernelMap.create({
    name: "tsbpf_bench_rb",
    type: 27,
    typeName: "ringbuf",
    keySize: 0,
    valueSize: 0,
    maxEntries: RING,
    flags: 0,
    pinning: 0,
    section: "bench",
  });
  try {
    const stores = Array.from({ length: recordSize / 8 }, (_, i) => `stdw [%r10-${recordSize - i * 8}], ${i + 1}`).join("\n");
    const source = `${stores}\nlddw %r1, map_fd(${map.fd})\nmov %r2, %r10\nadd %r2, -${recordSize}\nmov %r3, ${recordSize}\nmov %r4, 0\ncall 130\nmov %r0, 0\nexit`;
    const program = KernelProgram.load(assemble(source), { type: "socket_filter", name: "tsbpf_bench_rb" });
    const reader = new RingBufReader(map);
    try {
      let best = 0;
      for (let round = 0; round < 5; round++) {
        program.testRun({ data: new Uint8Array(64), repeat: Math.floor(RING / (recordSize + 8)) - 16 });
        let seen = 0;
        const t0 = process.hrtime.bigint();
        const n = reader.pollRaw((data, offset) => {
          seen += data[offset] as number;
        });
        const ns = Number(process.hrtime.bigint() - t0);
        if (seen !== n) throw new Error("ring buffer bench: records were not delivered intact");
        best = Math.max(best, n / (ns / 1e9));
      }
      return best;
    } finally {
      reader.close();
      program.close();
    }
  } finally {
    map.close();
  }
}

/** bpf() and perf_event_open through Linux's system calls, with the time spent inside them added up. */
function timedSys(): { sys: Sys; spent: { ns: number } } {
  const real = linuxSys();
  const spent = { ns: 0 };
  const timed =
    <A extends unknown[], R>(call: (...args: A) => R) =>
    (...args: A): R => {
      const t0 = process.hrtime.bigint();
      try {
        return call(...args);
      } finally {
        spent.ns += Number(process.hrtime.bigint() - t0);
      }
    };
  return { sys: { ...real, bpf: timed(real.bpf), perfEventOpen: timed(real.perfEventOpen), ioctl: timed(real.ioctl) }, spent };
}

export interface LoadAttachTimes {
  /** Medians in ms over the runs: the whole cycle, the parse (loadCollectionSpec) and the system calls in it. */
  total: number;
  parse: number;
  syscalls: number;
}

/** Loading an object and attaching its program (e.g. a tracepoint program), `runs` times: medians. */
export function loadAttachMs(object: Uint8Array, program: string, runs: number): LoadAttachTimes {
  const { sys, spent } = timedSys();
  const rows: LoadAttachTimes[] = [];
  for (let i = 0; i < runs; i++) {
    spent.ns = 0;
    const t0 = process.hrtime.bigint();
    const spec = loadCollectionSpec(object);
    const t1 = process.hrtime.bigint();
    const collection = loadKernelCollection(spec, { sys });
    const link = attachProgram(collection.programs.get(program) as KernelProgram, spec.programs.get(program) as ProgramSpec, { sys });
    const t2 = process.hrtime.bigint();
    rows.push({ total: Number(t2 - t0) / 1e6, parse: Number(t1 - t0) / 1e6, syscalls: spent.ns / 1e6 });
    link.close();
    collection.close();
  }
  const median = (k: keyof LoadAttachTimes): number => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)] as number;
  return { total: median("total"), parse: median("parse"), syscalls: median("syscalls") };
}
