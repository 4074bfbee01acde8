/**
 * The tracing language (bpftrace's dialect) from TypeScript. `trace(script, opts)` compiles a script to eBPF,
 * runs it on the kernel (where bpf() works) or on the userspace machine, and returns what it printed and its
 * maps at the end as data; `tsbpf trace` is the same with bpftrace's command line and output.
 *
 *   const { events, maps } = await trace('BEGIN { @n = 42; printf("hi\n"); exit(); }', { backend: "vm" });
 *   // events: [{ type: "printf", text: "hi\n" }]; maps.get("@n"): [{ value: 42n }]
 */
import { kernelAvailable, kernelBackend } from "./backend-kernel.js";
import { vmBackend } from "./backend-vm.js";
import { type Child, forkChild, watchProcess } from "./child-linux.js";
import type { CompiledScript } from "./compile.js";
import { nodeHost } from "./host-node.js";
import type { MapElementData } from "./print-map.js";
import { linuxProbeResolver } from "./probes-linux.js";
import { runTrace, type TraceEvent } from "./runtime.js";
import { linuxSymbolizer } from "./symbols-linux.js";

export { type CompiledScript, type CompileOptions, compileScript } from "./compile.js";
export { ProbeAttachError, TraceRunError, TraceScriptError } from "./errors.js";
export type { MapElementData } from "./print-map.js";
export { runTrace, type TraceBackend, type TraceEvent, type TraceOptions, type TraceResult } from "./runtime.js";
export type { DataValue } from "./values.js";
export { kernelBackend, vmBackend };

export interface TraceApiOptions {
  /** Default: the kernel where bpf() works, else the userspace machine. */
  readonly backend?: "kernel" | "vm";
  /** Positional parameters $1..$N. */
  readonly params?: readonly string[];
  /** BPFTRACE_STRLEN (default 64). */
  readonly strlen?: number;
  readonly unsafe?: boolean;
  /** bpftrace's -c, as argv: forked stopped, released once every probe is attached; its exit ends the run. */
  readonly command?: readonly string[];
  /** bpftrace's -p: uprobes and USDT probes of this process only; its exit ends the run. */
  readonly pid?: number;
  /** Ends the run as SIGINT does (END runs, maps are read). */
  readonly signal?: AbortSignal;
  /** The text bpftrace would print, as it is printed. */
  readonly stdout?: (chunk: Uint8Array) => void;
  /** Warnings, and the reasons of attach and load failures. */
  readonly stderr?: (text: string) => void;
  readonly format?: "text" | "json";
  /** bpftrace's -v: the verifier's log when a program is refused. */
  readonly verbose?: boolean;
  /** false: keep no events in the result (a trace that prints and runs long). Default true. */
  readonly keepEvents?: boolean;
}

export interface TraceData {
  readonly exitCode: number;
  /** printf/time/print output in order, as data. */
  readonly events: readonly TraceEvent[];
  /** Every map after END, in bpftrace's dump order. */
  readonly maps: ReadonlyMap<string, readonly MapElementData[]>;
  readonly script: CompiledScript;
}

export async function trace(script: string, opts: TraceApiOptions = {}): Promise<TraceData> {
  const onKernel = (opts.backend ?? (kernelAvailable() ? "kernel" : "vm")) === "kernel";
  const [cmd, ...args] = opts.command ?? [];
  const child: Child | undefined = cmd !== undefined ? forkChild(cmd, args) : undefined;
  const watched = opts.pid !== undefined ? watchProcess(opts.pid) : undefined;
  const followed = child ?? watched;
  const events: TraceEvent[] = [];
  try {
    const result = await runTrace(script, {
      backend: onKernel ? kernelBackend(opts.pid !== undefined ? { pid: opts.pid } : {}) : vmBackend(),
      stdout: opts.stdout ?? (() => {}),
      ...(opts.stderr ? { stderr: opts.stderr } : {}),
      ...(opts.keepEvents === false ? {} : { onEvent: (e: TraceEvent) => events.push(e) }),
      ...(opts.verbose !== undefined ? { verbose: opts.verbose } : {}),
      ...(onKernel ? { resolver: linuxProbeResolver() } : {}),
      host: nodeHost(),
      ...(process.platform === "linux" ? { symbols: linuxSymbolizer(() => followed?.pid, cmd) } : {}),
      ...(child ? { cpid: child.pid } : {}),
      ...(followed ? { child: followed } : {}),
      ...(opts.params ? { params: opts.params } : {}),
      ...(opts.strlen !== undefined ? { strlen: opts.strlen } : {}),
      ...(opts.unsafe !== undefined ? { unsafe: opts.unsafe } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.format ? { format: opts.format } : {}),
    });
    return { exitCode: result.exitCode, events, maps: result.maps, script: result.script };
  } finally {
    followed?.kill();
  }
}
