/**
 * The userspace machine as a tracing backend: BEGIN/END run once through testRun, interval and profile
 * probes fire from timers, events come out of the machine's ring buffer. Runs anywhere, without privileges.
 */

import { NotSupportedError } from "../errors.js";
import type { RingBufMap } from "../maps/ringbuf.js";
import type { CollectionSpec } from "../object/collection.js";
import { loadVmCollection, type VmLoadOptions } from "../vm/collection.js";
import { EVENTS_MAP } from "./layout.js";
import { periodNs } from "./probes.js";
import type { LoadedTrace, TraceBackend } from "./runtime.js";

/** Context bytes for each program type the tracer loads (zeroed: BEGIN/END/interval read no ctx field). */
const CTX_BYTES: Record<string, number> = { raw_tracepoint: 96, perf_event: 184, kprobe: 168, tracepoint: 64 };

export function vmBackend(opts: Pick<VmLoadOptions, "task" | "cpus" | "engine"> = {}): TraceBackend {
  // a browser has no process.hrtime; performance.now() is the same monotonic clock, coarser
  const clock = (): bigint => (typeof process !== "undefined" ? process.hrtime.bigint() : BigInt(Math.round(performance.now() * 1e6)));
  return {
    name: "vm",
    now: clock,
    load(spec: CollectionSpec): LoadedTrace {
      const col = loadVmCollection(spec, { task: { comm: "tsbpf", ...opts.task }, clock, ...opts });
      const ring = col.maps.get(EVENTS_MAP) as unknown as RingBufMap;
      const fire = (name: string): void => {
        const p = col.programs.get(name);
        if (!p) throw new Error(`internal: no program ${name}`);
        p.testRun({ ctx: new Uint8Array(CTX_BYTES[p.type] ?? 64) });
      };
      let wake: (() => void) | undefined;
      return {
        maps: col.maps,
        fire,
        attach(program, point) {
          if (point.type !== "interval" && point.type !== "profile")
            throw new NotSupportedError(
              `${point.type} probes on the userspace machine`,
              "only BEGIN, END, interval and profile exist there",
            );
          const timer = setInterval(
            () => {
              fire(program);
              wake?.();
            },
            Math.max(1, periodNs(point as { unit: string; value: number }) / 1e6),
          );
          return () => clearInterval(timer);
        },
        poll: (onRecord) => ring.poll(onRecord),
        wait: (ms) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(done, ms);
            function done(): void {
              clearTimeout(t);
              wake = undefined;
              resolve();
            }
            wake = done;
          }),
        close() {},
      };
    },
  };
}
