/**
 * The Linux kernel as a tracing backend: the script's collection goes through bpf(); BEGIN and END run once
 * through BPF_PROG_TEST_RUN (raw tracepoint programs, on this thread: comm is ours), interval and profile
 * probes are perf events of the cpu-clock, and events come from the mmap'd ring buffer.
 */
import { NotSupportedError } from "../errors.js";
import {
  attachKprobe,
  attachPerfEvent,
  attachRawTracepoint,
  attachTracepoint,
  attachUprobe,
  type KernelLink,
  type KernelProgram,
  loadKernelCollection,
  RingBufReader,
  supportsMapType,
} from "../kernel/index.js";
import type { CollectionSpec } from "../object/collection.js";
import { mapTypeNumber } from "../object/map-types.js";
import { ProbeAttachError } from "./errors.js";
import { EVENTS_MAP } from "./layout.js";
import { type AttachPoint, periodNs, SOFTWARE_EVENTS } from "./probes.js";
import type { LoadedTrace, TraceBackend } from "./runtime.js";

const BPF_MAP_TYPE_ARRAY = mapTypeNumber("array");

/**
 * How to attach one program to a kernel probe (`pid` limits uprobes, USDT and software events to one
 * process); probe kinds not built yet throw here, before anything is tried.
 */
function attacher(program: KernelProgram, point: AttachPoint, pid: number | undefined): () => KernelLink {
  const only = pid !== undefined ? { pid } : {};
  switch (point.type) {
    case "interval":
      return () => attachPerfEvent(program, { periodNs: periodNs(point), cpu: 0 });
    case "profile":
      return () => attachPerfEvent(program, point.unit === "hz" ? { frequency: point.value } : { periodNs: periodNs(point) });
    case "software": {
      const ev = SOFTWARE_EVENTS[point.event];
      if (!ev) throw new NotSupportedError(`software:${point.event}`, "it is not one of perf's software events");
      return () => attachPerfEvent(program, { clock: ev.config, period: point.count || ev.period, ...only });
    }
    case "tracepoint":
      return () => attachTracepoint(program, point.category, point.event);
    case "rawtracepoint":
      return () => attachRawTracepoint(program, point.event);
    case "uprobe":
    case "uretprobe": {
      const offset = point.offset;
      if (offset === undefined) throw new NotSupportedError(point.name, "the probe was not resolved to a file offset");
      return () => attachUprobe(program, point.binary, offset, { retprobe: point.type === "uretprobe", ...only });
    }
    case "usdt": {
      const offset = point.offset;
      if (offset === undefined) throw new NotSupportedError(point.name, "the probe was not resolved to a file offset");
      return () => attachUprobe(program, point.binary, offset, { refCtrOffset: point.semaphoreOffset ?? 0, ...only });
    }
    case "kprobe":
    case "kretprobe":
      return () => attachKprobe(program, point.func, { retprobe: point.type === "kretprobe" });
    default:
      throw new NotSupportedError(`${point.type} probes in tsbpf trace`, "they are not built yet");
  }
}

export function kernelBackend(opts: { pid?: number } = {}): TraceBackend {
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
          const attach = attacher(program(name), point, opts.pid);
          let link: KernelLink;
          try {
            link = attach();
          } catch (e) {
            throw new ProbeAttachError(e instanceof Error ? e.message : String(e));
          }
          return () => link.close();
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
