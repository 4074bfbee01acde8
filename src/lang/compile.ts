/**
 * Script → CollectionSpec: parse, analyse, one program per attach point, the script's maps plus a per-CPU
 * scratch array and the events ring buffer. The spec loads through the ordinary loading API on either
 * backend (and goes through the verifier there like any object's programs).
 */

import type { CollectionSpec } from "../object/collection.js";
import { mapTypeName, mapTypeNumber } from "../object/map-types.js";
import type { MapSpec } from "../object/maps.js";
import type { ProgramSpec } from "../object/programs.js";
import type { ProgramType } from "../object/section-types.js";
import { type Analysis, analyse } from "./analyse.js";
import { ProgramGen } from "./codegen.js";
import type { Diagnostic } from "./errors.js";
import { type CompiledMap, EVENTS_MAP, type EventDesc, SCRATCH_MAP, ScriptLayout } from "./layout.js";
import { parseScript } from "./parser.js";
import type { AttachPoint, ProbeResolver } from "./probes.js";

export interface CompileOptions {
  /** Positional parameters $1..$N. */
  readonly params?: readonly string[];
  /** BPFTRACE_STRLEN (default 64). */
  readonly strlen?: number;
  readonly unsafe?: boolean;
  /** Whether a child command (-c) runs; its pid is `cpid`. */
  readonly cpid?: number;
  /** ktime at the tracer's start, for `elapsed`. */
  readonly startNs?: bigint;
  /** Ring buffer bytes for events (a power of 2; default 1 MiB). */
  readonly ringBytes?: number;
  /** Finds what the script's probes name on this system (wildcards, binaries, tracepoint formats). */
  readonly resolver?: ProbeResolver;
}

export interface CompiledProbe {
  /** The program's name in the spec. */
  readonly program: string;
  readonly point: AttachPoint;
}

export interface CompiledScript {
  readonly spec: CollectionSpec;
  readonly probes: readonly CompiledProbe[];
  readonly maps: ReadonlyMap<string, CompiledMap>;
  readonly events: readonly EventDesc[];
  readonly strlen: number;
  readonly warnings: readonly Diagnostic[];
  readonly analysis: Analysis;
}

const HASH = mapTypeNumber("hash");
const PERCPU_HASH = mapTypeNumber("percpu_hash");
const PERCPU_ARRAY = mapTypeNumber("percpu_array");
const STACK_TRACE = mapTypeNumber("stack_trace");
const RINGBUF = mapTypeNumber("ringbuf");
const MAX_KEYS = 4096;

function programType(p: AttachPoint): ProgramType {
  switch (p.type) {
    case "BEGIN":
    case "END":
      // run once through BPF_PROG_TEST_RUN, which raw tracepoint programs support
      return "raw_tracepoint";
    case "interval":
    case "profile":
    case "software":
    case "hardware":
      return "perf_event";
    case "tracepoint":
      return "tracepoint";
    case "rawtracepoint":
      return "raw_tracepoint";
    default:
      return "kprobe";
  }
}

function mapSpec(name: string, type: number, keySize: number, valueSize: number, maxEntries: number): MapSpec {
  return { name, type, typeName: mapTypeName(type), keySize, valueSize, maxEntries, flags: 0, pinning: 0, section: ".maps" };
}

export function compileScript(source: string, opts: CompileOptions = {}): CompiledScript {
  const strlen = opts.strlen ?? 64;
  const params = opts.params ?? [];
  const script = parseScript(source);
  const analysis = analyse(script, {
    params,
    hasChild: opts.cpid !== undefined,
    ...(opts.unsafe !== undefined ? { unsafe: opts.unsafe } : {}),
    ...(opts.resolver ? { resolver: opts.resolver } : {}),
    strlen,
  });
  const layout = new ScriptLayout(analysis, strlen);
  const programs = new Map<string, ProgramSpec>();
  const probes: CompiledProbe[] = [];
  for (const ap of analysis.probes) {
    for (const point of ap.points) {
      const name = `p${probes.length}`;
      const gen = new ProgramGen(layout, analysis, ap.vars, point, {
        strlen,
        params,
        startNs: opts.startNs ?? 0n,
        cpid: opts.cpid ?? 0,
      });
      const { instructions, references, slots } = gen.generate(ap.probe.predicate, ap.probe.body);
      programs.set(name, {
        name,
        section: point.name,
        type: programType(point),
        sleepable: false,
        typeSource: "section",
        instructions,
        references,
        functions: [{ name, slot: 0, slots, section: point.name, offset: 0 }],
        license: "GPL",
        kernelVersion: 0,
      });
      probes.push({ program: name, point });
    }
  }
  const maps = new Map<string, MapSpec>();
  for (const m of layout.maps.values()) {
    const bucket = m.value.k === "agg" && (m.value.fn === "hist" || m.value.fn === "lhist") ? 8 : 0;
    maps.set(m.bpfName, mapSpec(m.bpfName, m.perCpu ? PERCPU_HASH : HASH, m.keySize + bucket, m.valueSize, MAX_KEYS));
  }
  for (const [name, stack] of layout.stacks) maps.set(name, mapSpec(name, STACK_TRACE, 4, stack.depth * 8, MAX_KEYS));
  maps.set(SCRATCH_MAP, mapSpec(SCRATCH_MAP, PERCPU_ARRAY, 4, layout.scratchSize, 1));
  maps.set(EVENTS_MAP, mapSpec(EVENTS_MAP, RINGBUF, 0, 0, opts.ringBytes ?? 1 << 20));
  const spec: CollectionSpec = { programs, maps, license: "GPL", kernelVersion: 0 };
  return { spec, probes, maps: layout.maps, events: layout.events, strlen, warnings: analysis.warnings, analysis };
}
