/**
 * Load+attach time: an object parsed, loaded into the kernel and its program attached (a tracepoint program, or a
 * raw_tp one with CO-RE), then detached and closed, `runs` times; medians of the whole cycle, of the parse and of
 * the time spent inside bpf() and perf_event_open.
 */
import { attachProgram } from "../src/kernel/attach.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import type { KernelProgram } from "../src/kernel/program.js";
import { linuxSys, type Sys } from "../src/kernel/sys.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramSpec } from "../src/object/programs.js";

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
