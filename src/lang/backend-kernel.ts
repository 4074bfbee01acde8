/**
 * The Linux kernel as a tracing backend: the script's collection goes through bpf(); BEGIN and END run once
 * through BPF_PROG_TEST_RUN (raw tracepoint programs, on this thread: comm is ours), interval and profile
 * probes are perf events of the cpu-clock, and events come from the mmap'd ring buffer.
 */
import { NotSupportedError } from "../errors.js";
import { loadKernelCollection } from "../kernel/collection.js";
import { attachPerfEvent } from "../kernel/link.js";
import { supportsMapType } from "../kernel/probe.js";
import { RingBufReader } from "../kernel/ringbuf.js";
import type { CollectionSpec } from "../object/collection.js";
import { EVENTS_MAP } from "./layout.js";
import { periodNs } from "./probes.js";
import type { LoadedTrace, TraceBackend } from "./runtime.js";

const BPF_MAP_TYPE_ARRAY = 2;

export function kernelBackend(): TraceBackend {
  return {
    name: "kernel",
    // bpf_ktime_get_ns is CLOCK_MONOTONIC, as process.hrtime is on Linux
    now: () => process.hrtime.bigint(),
    load(spec: CollectionSpec): LoadedTrace {
      const col = loadKernelCollection(spec);
      let reader: RingBufReader;
      try {
        reader = new RingBufReader(col.maps.get(EVENTS_MAP) as NonNullable<ReturnType<typeof col.maps.get>>);
      } catch (e) {
        col.close();
        throw e;
      }
      const program = (name: string) => {
        const p = col.programs.get(name);
        if (!p) throw new Error(`internal: no program ${name}`);
        return p;
      };
      return {
        maps: col.maps,
        fire(name) {
          // raw_tp test runs refuse repeat, ctx_out and data (bpf_prog_test_run_raw_tp)
          program(name).testRun({ ctx: new Uint8Array(8), repeat: 0, ctxOutSize: 0 });
        },
        attach(name, point) {
          if (point.type === "interval") {
            const link = attachPerfEvent(program(name), { periodNs: periodNs(point), cpu: 0 });
            return () => link.close();
          }
          if (point.type === "profile") {
            const link = attachPerfEvent(program(name), { periodNs: periodNs(point) });
            return () => link.close();
          }
          throw new NotSupportedError(`${point.type} probes in tsbpf trace`, "they are not built yet");
        },
        poll: (onRecord) => reader.poll(onRecord),
        wait: (ms) => reader.wait(ms),
        close() {
          reader.close();
          col.close();
        },
      };
    },
  };
}

/** Whether bpf() works here (root or CAP_BPF): the kernel probe for array maps, false off Linux. */
export function kernelAvailable(): boolean {
  try {
    return supportsMapType(BPF_MAP_TYPE_ARRAY);
  } catch {
    return false;
  }
}
