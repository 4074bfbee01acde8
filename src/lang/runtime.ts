/**
 * Running a compiled script as bpftrace runs one: "Attaching N probes...", BEGIN, the probes until exit(),
 * the child's exit or a stop signal, END, then every map. Events are printed as they arrive, in text or as
 * JSON lines. The backend (userspace machine or kernel) only loads, fires and attaches programs and hands
 * over ring buffer records, so this file stays free of Node-only modules.
 */
import { stackAddresses } from "../maps/stack-trace.js";
import type { CollectionSpec } from "../object/collection.js";
import type { ByteMap } from "../object/typed-map.js";
import { type CompiledScript, type CompileOptions, compileScript } from "./compile.js";
import { formatDiagnostic, ProbeAttachError, TraceRunError } from "./errors.js";
import { cString, latin1, type PrintfArg, printf } from "./format.js";
import { type CompiledMap, type EventDesc, stackMapName } from "./layout.js";
import { type MapElementData, mapData, printMap, type RawEntry } from "./print-map.js";
import { type AttachPoint, periodNs } from "./probes.js";
import { storageSize } from "./types.js";
import { type DataValue, data, decode, json, jsonString, type PrintContext, type Symbolizer, strftime, text } from "./values.js";

/** What a backend gives the runtime once the script's collection is loaded. */
export interface LoadedTrace {
  readonly maps: ReadonlyMap<string, ByteMap>;
  /** Runs a BEGIN or END program once. */
  fire(program: string): void;
  /** Attaches a program to its probe; the returned function detaches it. */
  attach(program: string, point: AttachPoint): () => void;
  /** Hands over every event record waiting now; returns how many. */
  poll(onRecord: (record: Uint8Array) => void): number;
  /** Resolves when records may be waiting, or after `ms`. */
  wait(ms: number): Promise<void>;
  close(): void;
}

export interface TraceBackend {
  readonly name: string;
  /** The clock `nsecs` reads (ns). */
  now(): bigint;
  load(spec: CollectionSpec): LoadedTrace;
}

export interface TraceOptions extends Omit<CompileOptions, "startNs"> {
  readonly backend: TraceBackend;
  readonly format?: "text" | "json";
  /** Where stdout goes (bytes, as bpftrace writes them). */
  readonly stdout: (chunk: Uint8Array) => void;
  /** Where warnings go. */
  readonly stderr?: (text: string) => void;
  /** Ends the run as SIGINT does. */
  readonly signal?: AbortSignal;
  /** The -c child: started after every probe is attached; the run ends when `exited` resolves. */
  readonly child?: { start(): void; readonly exited: Promise<unknown> };
  /** Names for ksym()/usym()/username values (without: addresses in hex, uids as numbers). */
  readonly symbols?: Symbolizer;
  /** Each event as data, as it is printed. */
  readonly onEvent?: (event: TraceEvent) => void;
  /** bpftrace's -v: the verifier's log when a program is refused. */
  readonly verbose?: boolean;
  /** Where cat() reads files and system() runs commands (without: those calls fail). */
  readonly host?: TraceHost;
}

/** What the machine running the tracer does for a script: cat() and system(). */
export interface TraceHost {
  /** A file's bytes; a failure is an Error whose message is the reason (strerror's text). */
  readFile(path: string): Uint8Array;
  /** What a shell command wrote on stdout. */
  system(command: string): Uint8Array;
}

/** What a script printed while it ran, as data: printf and time() text, print() of a value or of a map. */
export type TraceEvent =
  | { readonly type: "printf" | "time" | "join" | "cat" | "system"; readonly text: string }
  | { readonly type: "value"; readonly value: DataValue }
  | { readonly type: "print"; readonly map: string; readonly elements: readonly MapElementData[] };

export interface TraceResult {
  readonly exitCode: number;
  /** What was compiled and run: programs, map layouts, event kinds. */
  readonly script: CompiledScript;
  /** Every map at the end (after END), by name in bpftrace's dump order. */
  readonly maps: ReadonlyMap<string, readonly MapElementData[]>;
}

const ENCODER = new TextEncoder();
const UTF8 = new TextDecoder();
const latin1Bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

export async function runTrace(source: string, opts: TraceOptions): Promise<TraceResult> {
  const format = opts.format ?? "text";
  const out = (s: string | Uint8Array): void => opts.stdout(typeof s === "string" ? ENCODER.encode(s) : s);
  const script = compileScript(source, { ...opts, startNs: opts.backend.now() });
  for (const w of script.warnings) opts.stderr?.(formatDiagnostic(source, w, "WARNING"));
  if (script.probes.length === 0) {
    out("No probes to attach\n");
    return { exitCode: 1, script, maps: new Map() };
  }
  const loaded = load(script, opts);
  const detach: Array<() => void> = [];
  try {
    const n = script.probes.length;
    out(format === "json" ? `{"type": "attached_probes", "data": {"probes": ${n}}}\n` : `Attaching ${n} probe${n === 1 ? "" : "s"}...\n`);
    // after exit() bpftrace reads no more events until END runs (later hits still count in maps)
    const state = { exit: false, muted: false };
    const handler = new EventHandler(
      script,
      loaded,
      () => opts.backend.now(),
      format,
      out,
      state,
      opts.symbols,
      opts.onEvent,
      opts.host,
      opts.stderr,
    );
    const drain = (): void => {
      loaded.poll((r) => handler.handle(r));
    };
    const begin = script.probes.find((p) => p.point.type === "BEGIN");
    const end = script.probes.find((p) => p.point.type === "END");
    if (begin) {
      loaded.fire(begin.program);
      drain();
    }
    if (!state.exit) {
      // every probe but BEGIN and END fires on its own from now on
      for (const p of script.probes) {
        if (p.point.type === "BEGIN" || p.point.type === "END") continue;
        if ((p.point.type === "interval" || p.point.type === "profile") && !(periodNs(p.point) >= 1)) {
          // a zero rate: the perf event cannot be opened (bpftrace's attach error)
          opts.stderr?.("Exactly one of sample_period / sample_freq should be set\n");
          throw new TraceRunError(`Error attaching probe: '${p.point.name}'`, 255);
        }
        try {
          detach.push(loaded.attach(p.program, p.point));
        } catch (e) {
          if (!(e instanceof ProbeAttachError)) throw e;
          opts.stderr?.(`${e.message}\n`);
          throw new TraceRunError(`Error attaching probe: '${p.point.name}'`, 255);
        }
      }
      let childDone = false;
      if (opts.child) {
        opts.child.exited.then(
          () => {
            childDone = true;
          },
          () => {
            childDone = true;
          },
        );
        opts.child.start();
        opts.symbols?.follow?.();
      }
      const stopped = (): boolean => state.exit || childDone || (opts.signal?.aborted ?? false);
      const aborted = abortPromise(opts.signal);
      const childExit = opts.child?.exited.catch(() => undefined);
      while (!stopped()) {
        const waits: Promise<unknown>[] = [loaded.wait(50), aborted];
        if (childExit) waits.push(childExit);
        await Promise.race(waits);
        drain();
      }
    }
    for (const d of detach.splice(0)) d();
    drain();
    opts.symbols?.settle?.();
    state.muted = false;
    if (end) {
      loaded.fire(end.program);
      drain();
    }
    out("\n\n");
    const maps = new Map<string, readonly MapElementData[]>();
    for (const m of [...script.maps.values()].sort((a, b) => compareNames(a.name, b.name))) {
      maps.set(m.name, handler.printMap(m, 0, 0, true) as MapElementData[]);
    }
    return { exitCode: 0, script, maps };
  } finally {
    for (const d of detach) d();
    loaded.close();
  }
}

/** Loads the script's collection; a program the verifier (ours or the kernel's) refuses ends the run as bpftrace's. */
function load(script: CompiledScript, opts: TraceOptions): LoadedTrace {
  try {
    return opts.backend.load(script.spec);
  } catch (e) {
    const program = e instanceof Error && "program" in e && typeof e.program === "string" ? e.program : undefined;
    const probe = script.probes.find((p) => p.program === program);
    if (!probe) throw e;
    // bpftrace's -v shows the verifier's log before the error
    if (opts.verbose) opts.stderr?.(`${(e as Error).message}\n`);
    throw new TraceRunError(`Error loading program: ${probe.point.name}${opts.verbose ? "" : " (try -v)"}`, 255);
  }
}

function abortPromise(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Map names in byte order. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads every element of a map, with per-CPU values. */
export function readEntries(map: ByteMap): RawEntry[] {
  const out: RawEntry[] = [];
  for (const key of map.keys()) {
    const k = key.slice();
    const values = map.perCpu ? map.getPerCpu(k) : [map.get(k)];
    if (!values || values.some((v) => v === undefined)) continue;
    out.push({ key: k, values: values as Uint8Array[] });
  }
  return out;
}

class EventHandler {
  private readonly strlen: number;

  constructor(
    private readonly script: CompiledScript,
    private readonly loaded: LoadedTrace,
    private readonly now: () => bigint,
    private readonly format: "text" | "json",
    private readonly out: (s: string | Uint8Array) => void,
    private readonly state: { exit: boolean; muted: boolean },
    private readonly symbols: Symbolizer | undefined,
    private readonly onEvent: ((e: TraceEvent) => void) | undefined,
    private readonly host: TraceHost | undefined,
    private readonly stderr: ((text: string) => void) | undefined,
  ) {
    this.strlen = script.strlen;
  }

  private context(): PrintContext {
    return {
      wallMs: Date.now(),
      monoNs: this.now(),
      ...(this.symbols ? { symbols: this.symbols } : {}),
      stack: (kind, depth, id) => this.stack(kind, depth, id),
    };
  }

  /** A stack's frames from its stack map (a 0 ends a stack shorter than the map's depth). */
  private stack(kind: "kstack" | "ustack", depth: number, id: bigint): bigint[] {
    const map = this.loaded.maps.get(stackMapName(kind, depth));
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, Number(id & 0xffffffffn), true);
    const value = map?.get(key);
    return value ? stackAddresses(value) : [];
  }

  private bpfMap(m: CompiledMap): ByteMap {
    const map = this.loaded.maps.get(m.bpfName);
    if (!map) throw new TraceRunError(`map ${m.name} was not loaded`, 1);
    return map;
  }

  /** cat(FILE) and system(COMMAND), run by the host: their output printed as bpftrace prints it. */
  private hostCall(kind: "cat" | "system", arg: string): void {
    const asJson = this.format === "json";
    if (!this.host) throw new TraceRunError(`${kind}() needs a host that can ${kind === "cat" ? "read files" : "run commands"}`, 1);
    let bytes: Uint8Array;
    try {
      bytes = kind === "cat" ? this.host.readFile(arg) : this.host.system(arg);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.stderr?.(kind === "cat" ? `ERROR: failed to open file '${arg}': ${reason}\n` : `ERROR: ${reason}\n`);
      // in JSON, bpftrace still writes the (empty) record
      bytes = new Uint8Array();
      if (!asJson) return;
    }
    this.out(asJson ? `{"type": "${kind === "cat" ? "cat" : "syscall"}", "data": ${jsonString(bytes)}}\n` : bytes);
    this.onEvent?.({ type: kind, text: UTF8.decode(bytes) });
  }

  /** Prints a map (print() or the dump at exit), reading it once; returns its elements as data when asked. */
  printMap(m: CompiledMap, top: number, div: number, asData: boolean): MapElementData[] | undefined {
    const entries = readEntries(this.bpfMap(m));
    const context = this.context();
    this.out(printMap(m, entries, { top, div, json: this.format === "json", strlen: this.strlen, context }));
    return asData ? mapData(m, entries, { top, div, strlen: this.strlen, context }) : undefined;
  }

  handle(record: Uint8Array): void {
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    const id = Number(view.getBigUint64(0, true));
    const desc = this.script.events[id] as EventDesc | undefined;
    if (!desc || this.state.muted) return;
    const asJson = this.format === "json";
    switch (desc.kind) {
      case "printf":
      case "cat":
      case "system": {
        let at = 8;
        let context: PrintContext | undefined;
        const args: PrintfArg[] = desc.args.map((t) => {
          const v = decode(record, at, t, this.strlen);
          at += storageSize(t, this.strlen);
          if (typeof v === "bigint" || v instanceof Uint8Array) return v;
          if ("buf" in v) return v.buf;
          context ??= this.context();
          return ENCODER.encode(text(v, context));
        });
        const bytes = printf(desc.format, args);
        if (desc.kind === "printf") {
          this.out(asJson ? `{"type": "printf", "data": ${jsonString(bytes)}}\n` : bytes);
          this.onEvent?.({ type: "printf", text: UTF8.decode(bytes) });
        } else this.hostCall(desc.kind, UTF8.decode(bytes));
        return;
      }
      case "join": {
        const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
        const count = Math.min(Number(view.getBigUint64(8, true)), desc.slots);
        const parts: string[] = [];
        for (let i = 0; i < count; i++) {
          const at = 16 + i * desc.slotSize;
          parts.push(latin1(cString(record.subarray(at, at + desc.slotSize))));
        }
        const line = parts.join(desc.delim);
        this.out(asJson ? `{"type": "join", "data": ${jsonString(latin1Bytes(line))}}\n` : latin1Bytes(`${line}\n`));
        this.onEvent?.({ type: "join", text: UTF8.decode(latin1Bytes(line)) });
        return;
      }
      case "exit":
        this.state.exit = true;
        this.state.muted = true;
        return;
      case "print": {
        const m = this.script.maps.get(desc.map) as CompiledMap;
        const elements = this.printMap(m, desc.top, desc.div, this.onEvent !== undefined);
        if (elements) this.onEvent?.({ type: "print", map: m.name, elements });
        return;
      }
      case "value": {
        const v = decode(record, 8, desc.type, this.strlen);
        this.out(asJson ? `{"type": "value", "data": ${json(v, this.context())}}\n` : `${text(v, this.context())}\n`);
        this.onEvent?.({ type: "value", value: data(v, this.context()) });
        return;
      }
      case "clear":
      case "zero": {
        const m = this.script.maps.get(desc.map) as CompiledMap;
        const map = this.bpfMap(m);
        const bucketed = m.value.k === "agg" && (m.value.fn === "hist" || m.value.fn === "lhist");
        for (const e of readEntries(map)) {
          // clear() on a key-less map zeroes it (bpftrace keeps the element)
          if (desc.kind === "clear" && (m.key || bucketed)) map.delete(e.key);
          else if (map.perCpu)
            map.setPerCpu(
              e.key,
              e.values.map((v) => new Uint8Array(v.length)),
            );
          else map.set(e.key, new Uint8Array((e.values[0] as Uint8Array).length));
        }
        return;
      }
      case "time": {
        const context = this.context();
        const s = strftime(desc.format ?? "%H:%M:%S\n", context.monoNs, context);
        this.out(asJson ? `{"type": "time", "data": ${jsonString(ENCODER.encode(s))}}\n` : s);
        this.onEvent?.({ type: "time", text: s });
        return;
      }
    }
  }
}
