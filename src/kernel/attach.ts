/** Attaching a loaded program where its section says (libbpf's bpf_program__attach). */
import { existsSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import type { ProgramSpec } from "../object/programs.js";
import { attachRawTracepoint, attachTracepoint, type KernelLink } from "./link.js";
import type { KernelProgram } from "./program.js";

export function attachProgram(program: KernelProgram, spec: ProgramSpec): KernelLink {
  const target = spec.attachTo ?? "";
  switch (spec.type) {
    case "tracepoint": {
      const [category, name] = target.split("/");
      if (!category || !name) throw new NotSupportedError(`attaching ${spec.section}`, "a tracepoint section names CATEGORY/NAME");
      return attachTracepoint(program, category, name);
    }
    case "raw_tracepoint":
    case "raw_tracepoint_writable":
      return attachRawTracepoint(program, target);
    case "tracing":
      if (spec.attachType === "trace_raw_tp") return attachRawTracepoint(program, undefined);
      break;
    case "kprobe":
      if (/^k(ret)?probe/.test(spec.section) && !existsSync("/sys/bus/event_source/devices/kprobe")) {
        throw new NotSupportedError(`attaching ${spec.section}`, "this kernel lacks kprobe support (CONFIG_KPROBES is off: no kprobe PMU)");
      }
      break;
    default:
      break;
  }
  throw new NotSupportedError(`attaching ${spec.section} (${spec.type})`, "this attach type is not built yet");
}
