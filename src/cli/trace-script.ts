/**
 * `tsbpf trace`: bpftrace's command line. A script (-e PROGRAM or a FILE) compiled by tsbpf to eBPF and run
 * on the kernel (default where bpf() works) or the userspace machine; output and exit codes as bpftrace's.
 */
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { TraceRunError, TraceScriptError } from "../lang/errors.js";
import { trace } from "../lang/index.js";
import { listProbes } from "../lang/probes-linux.js";
import { UsageError } from "./args.js";
import type { Io } from "./commands.js";

interface TraceArgs {
  program: string;
  format: "text" | "json";
  child: string | undefined;
  pid: string | undefined;
  list: string | undefined | true;
  unsafe: boolean;
  verbose: boolean;
  backend: "kernel" | "vm" | undefined;
  params: string[];
}

/** bpftrace's argument order: options, then the program (-e or a file), then positional parameters. */
function parseTraceArgs(argv: readonly string[], io: Io): TraceArgs {
  const out: Partial<TraceArgs> & { params: string[] } = { params: [], format: "text", unsafe: false, verbose: false };
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
    else if (a === "-v") out.verbose = true;
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

export async function traceCommand(argv: string[], io: Io): Promise<number> {
  const args = parseTraceArgs(argv, io);
  if (args.list !== undefined) {
    for (const name of listProbes(args.list === true ? undefined : args.list)) io.stdout(`${name}\n`);
    return 0;
  }
  if (args.pid !== undefined && (!/^\d+$/.test(args.pid) || !existsSync(`/proc/${args.pid}`))) {
    io.stderr(`ERROR: pid '${args.pid}' does not exist\n`);
    return 1;
  }
  const command = args.child?.split(" ").filter((s) => s !== "");
  if (command) {
    try {
      accessSync(command[0] ?? "", constants.X_OK);
    } catch {
      io.stderr(`ERROR: Failed to fork child: path '${command[0] ?? ""}' does not exist or is not executable\n`);
      return 255;
    }
  }
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.on("SIGINT", onSigint);
  // the tracer's own comm, as BEGIN sees it
  process.title = "tsbpf";
  const strlen = process.env.BPFTRACE_STRLEN ? Number(process.env.BPFTRACE_STRLEN) : undefined;
  try {
    const result = await trace(args.program, {
      ...(args.backend ? { backend: args.backend } : {}),
      format: args.format,
      params: args.params,
      unsafe: args.unsafe,
      verbose: args.verbose,
      ...(strlen !== undefined && Number.isInteger(strlen) && strlen > 0 ? { strlen } : {}),
      ...(command ? { command } : {}),
      ...(args.pid !== undefined ? { pid: Number(args.pid) } : {}),
      stdout: (b) => io.stdout(b),
      stderr: (t) => io.stderr(t),
      signal: abort.signal,
      keepEvents: false,
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
  }
}
