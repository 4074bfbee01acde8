/** Attaching a loaded program where its section says (libbpf's bpf_program__attach). */
import { existsSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import type { ProgramSpec } from "../object/programs.js";
import { attachIterator, attachRawTracepoint, attachTracepoint, attachUprobe, type KernelLink } from "./link.js";
import type { KernelProgram } from "./program.js";
import { symbolFileOffset } from "./symbols.js";
import { linuxSys, type Sys } from "./sys.js";

export interface AttachOptions {
  /** uprobes: only this process (default: every process). */
  pid?: number;
  /** The system calls to attach through (default: Linux's; the one the program was loaded with, normally). */
  sys?: Sys;
}

export function attachProgram(program: KernelProgram, spec: ProgramSpec, opts: AttachOptions = {}): KernelLink {
  const target = spec.attachTo ?? "";
  const sys = opts.sys ?? linuxSys();
  switch (spec.type) {
    case "tracepoint": {
      const [category, name] = target.split("/");
      if (!category || !name) throw new NotSupportedError(`attaching ${spec.section}`, "a tracepoint section names CATEGORY/NAME");
      return attachTracepoint(program, category, name, sys);
    }
    case "raw_tracepoint":
    case "raw_tracepoint_writable":
      return attachRawTracepoint(program, target, sys);
    case "tracing":
      if (spec.attachType === "trace_raw_tp") return attachRawTracepoint(program, undefined, sys);
      if (spec.attachType === "trace_iter") return attachIterator(program, sys);
      break;
    case "kprobe":
      if (/^u(ret)?probe/.test(spec.section)) {
        // libbpf's form: uprobe/PATH:FUNCTION[+OFFSET]
        const m = /^(.+):([A-Za-z_.$][\w.$@]*)(?:\+(0x[0-9a-f]+|\d+))?$/.exec(target);
        if (!m)
          throw new NotSupportedError(
            `attaching ${spec.section}`,
            "uprobe sections name PATH:FUNCTION (use attachUprobe for a bare section)",
          );
        const offset = symbolFileOffset(m[1] as string, m[2] as string) + Number(m[3] ?? 0);
        return attachUprobe(
          program,
          m[1] as string,
          offset,
          { retprobe: spec.section.startsWith("uretprobe"), ...(opts.pid !== undefined ? { pid: opts.pid } : {}) },
          sys,
        );
      }
      if (/^k(ret)?probe/.test(spec.section) && !existsSync("/sys/bus/event_source/devices/kprobe")) {
        throw new NotSupportedError(`attaching ${spec.section}`, "this kernel lacks kprobe support (CONFIG_KPROBES is off: no kprobe PMU)");
      }
      break;
    default:
      break;
  }
  throw new NotSupportedError(`attaching ${spec.section} (${spec.type})`, "this attach type is not built yet");
}
