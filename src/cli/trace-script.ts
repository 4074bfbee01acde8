/**
 * `tsbpf trace`: bpftrace's command line. A script (-e PROGRAM or a FILE) compiled by tsbpf to eBPF and run
 * on the kernel (default where bpf() works) or the userspace machine; output and exit codes as bpftrace's.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { TsbpfError } from "../errors.js";
import { kernelAvailable, kernelBackend } from "../lang/backend-kernel.js";
import { vmBackend } from "../lang/backend-vm.js";
import { TraceRunError, TraceScriptError } from "../lang/errors.js";
import { linuxProbeResolver } from "../lang/probes-linux.js";
import { runTrace } from "../lang/runtime.js";
import { linuxSymbolizer } from "../lang/symbols-linux.js";
import { UsageError } from "./args.js";
import type { Io } from "./commands.js";

interface TraceArgs {
  program: string;
  format: "text" | "json";
  child: string | undefined;
  pid: string | undefined;
  list: string | undefined | true;
  unsafe: boolean;
  backend: "kernel" | "vm" | undefined;
  params: string[];
}

/** bpftrace's argument order: options, then the program (-e or a file), then positional parameters. */
function parseTraceArgs(argv: readonly string[], io: Io): TraceArgs {
  const out: Partial<TraceArgs> & { params: string[] } = { params: [], format: "text", unsafe: false };
  let i = 0;
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`option ${flag} needs a value`);
    return v;
  };
  // getopt's order: options anywhere; the first other argument is the program file (without -e), the rest
  // are positional parameters; "--" ends the options
  let optionsEnd = false;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (optionsEnd || !a.startsWith("-") || a === "-") {
      if (out.program === undefined) out.program = new TextDecoder().decode(a === "-" ? io.stdin() : readFileSync(a));
      else out.params.push(a);
      continue;
    }
    if (a === "--") optionsEnd = true;
    else if (a === "-e") out.program = value(a);
    else if (a === "-f") {
      const f = value(a);
      if (f !== "text" && f !== "json") throw new UsageError(`-f must be text or json (got '${f}')`);
      out.format = f;
    } else if (a === "-c") out.child = value(a);
    else if (a === "-p") out.pid = value(a);
    else if (a === "-l") {
      const next = argv[i + 1];
      out.list = next !== undefined && !next.startsWith("-") ? argv[++i] : true;
    } else if (a === "--unsafe") out.unsafe = true;
    else if (a === "--backend") {
      const b = value(a);
      if (b !== "kernel" && b !== "vm") throw new UsageError(`--backend must be kernel or vm (got '${b}')`);
      out.backend = b;
    } else if (a.startsWith("--backend=")) {
      const b = a.slice("--backend=".length);
      if (b !== "kernel" && b !== "vm") throw new UsageError(`--backend must be kernel or vm (got '${b}')`);
      out.backend = b;
    } else throw new UsageError(`unknown option ${a}`);
  }
  if (out.list === undefined && out.program === undefined) throw new UsageError("trace needs a program: -e PROGRAM or FILE");
  return out as TraceArgs;
}

interface Child {
  readonly pid: number;
  readonly exited: Promise<unknown>;
  /** Lets the command run (it waits, already forked, until every probe is attached). */
  start(): void;
  kill(): void;
}

/**
 * The -c command, forked now but held before its exec (as bpftrace holds it) so that its pid is known when
 * the script compiles (cpid) and uprobes are attached before its first instruction. A shell stops itself,
 * and once continued closes its gate descriptor and execs the command (split on spaces, no shell parsing)
 * under the same pid: between the release and the exec it makes one close(), as bpftrace's child does.
 */
function forkChild(cmd: string, args: readonly string[]): Child {
  const proc = spawn("/bin/sh", ["-c", 'kill -STOP $$; exec 3<&- "$0" "$@"', cmd, ...args], {
    stdio: ["ignore", "inherit", "inherit", "pipe"],
  });
  (proc.stdio[3] as Writable).on("error", () => {});
  const pid = proc.pid ?? 0;
  let started = false;
  return {
    pid,
    exited: new Promise((resolve) => proc.once("exit", resolve)),
    start() {
      // a SIGCONT that came before the stop would be lost: wait (≤ 5 s) until the shell has stopped
      const nap = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 5000 && !stopped(pid) && proc.exitCode === null; i++) Atomics.wait(nap, 0, 0, 1);
      started = true;
      proc.kill("SIGCONT");
    },
    kill: () => {
      // a child still stopped would not see SIGTERM until continued
      proc.kill(started ? "SIGTERM" : "SIGKILL");
    },
  };
}

/** Whether the process is stopped (state T in /proc/PID/stat). */
function stopped(pid: number): boolean {
  try {
    return /^\d+ \(.*\) T/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** -p PID: the run ends when the process does. */
function watchProcess(pid: number): Child {
  let timer: ReturnType<typeof setInterval> | undefined;
  const exited = new Promise((resolve) => {
    timer = setInterval(() => {
      if (!existsSync(`/proc/${pid}`)) resolve(undefined);
    }, 100);
    timer.unref();
  });
  return { pid, exited, start() {}, kill: () => clearInterval(timer) };
}

export async function traceCommand(argv: string[], io: Io): Promise<number> {
  const args = parseTraceArgs(argv, io);
  if (args.list !== undefined) throw new TsbpfError("ENOTSUP", "-l (listing probes) is not built yet");
  const backend = args.backend ?? (kernelAvailable() ? "kernel" : "vm");
  let child: Child | undefined;
  let watched: Child | undefined;
  if (args.pid !== undefined) {
    const pid = Number(args.pid);
    if (!/^\d+$/.test(args.pid) || !existsSync(`/proc/${pid}`)) {
      io.stderr(`ERROR: pid '${args.pid}' does not exist\n`);
      return 1;
    }
    watched = watchProcess(pid);
  }
  if (args.child !== undefined) {
    const [cmd, ...cmdArgs] = args.child.split(" ").filter((s) => s !== "");
    try {
      accessSync(cmd ?? "", constants.X_OK);
    } catch {
      io.stderr(`ERROR: Failed to fork child: path '${cmd ?? ""}' does not exist or is not executable\n`);
      return 255;
    }
    child = forkChild(cmd as string, cmdArgs);
  }
  const traced = child ?? watched;
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.on("SIGINT", onSigint);
  // the tracer's own comm, as BEGIN sees it
  process.title = "tsbpf";
  const strlen = process.env.BPFTRACE_STRLEN ? Number(process.env.BPFTRACE_STRLEN) : undefined;
  try {
    const result = await runTrace(args.program, {
      backend: backend === "kernel" ? kernelBackend(watched ? { pid: watched.pid } : {}) : vmBackend(),
      ...(backend === "kernel" ? { resolver: linuxProbeResolver() } : {}),
      ...(process.platform === "linux" ? { symbols: linuxSymbolizer(() => traced?.pid) } : {}),
      format: args.format,
      params: args.params,
      unsafe: args.unsafe,
      ...(strlen !== undefined && Number.isInteger(strlen) && strlen > 0 ? { strlen } : {}),
      ...(child ? { cpid: child.pid } : {}),
      ...(traced ? { child: traced } : {}),
      stdout: (b) => io.stdout(b),
      stderr: (t) => io.stderr(t),
      signal: abort.signal,
    });
    return result.exitCode;
  } catch (e) {
    if (e instanceof TraceScriptError) {
      io.stderr(e.message);
      return 1;
    }
    if (e instanceof TraceRunError) {
      if (e.stdout) io.stdout(e.stdout);
      io.stderr(`ERROR: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  } finally {
    process.off("SIGINT", onSigint);
    traced?.kill();
  }
}
