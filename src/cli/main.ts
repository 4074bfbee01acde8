/**
 * cli/ — the `tsbpf` command. Each subcommand parses its own flags; errors tsbpf raises on purpose print
 * as one `tsbpf: ...` line with exit status 1, usage errors exit 2.
 */
import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { UsageError } from "./args.js";
import type { Io } from "./commands.js";

const USAGE = `usage: tsbpf [-j|--json] [-p|--pretty] <command> [options]

commands:
  asm [--dialect conformance|llvm] [--hex] [-o OUT] FILE   assemble to bytes (or hex)
  disasm [--dialect conformance|llvm] [--hex] [--decimal] FILE   disassemble raw bytes (or hex text)
  run FILE [--mem HEX | --mem-file F] [--engine interp|jit] [--trace] [--budget N]
                                 run a program on the userspace machine, print r0
  plugin [--engine interp|jit] [MEMORY_HEX]   bpf_conformance plugin: program hex on stdin
  objdump [--decimal] OBJ        disassemble an ELF object's program sections like llvm-objdump -d
  btf dump FILE | id ID | map MAP [key|value|kv|all] | prog PROG [--format raw|c]
                                 print BTF (an object, /sys/kernel/btf/vmlinux, or the kernel's) like bpftool
  btf list                       the kernel's BTF objects, with the programs and maps using them
  obj info OBJ                   programs (type, attach, insn count, helpers) and maps as JSON
  test-run OBJ PROG [--data-in F] [--data-out F] [--ctx-in F] [--ctx-out F] [--repeat N] [--json] [--backend vm|kernel]
                                 run a program on a packet/context (BPF_PROG_TEST_RUN; default: the userspace machine)
  prog load OBJ [--pin DIR] [--pinmaps DIR] | prog load OBJ PATH | prog loadall OBJ DIR [pinmaps DIR] [autoattach]
      | prog list | prog show PROG | prog dump [xlated] PROG | prog pin PROG FILE
      | prog run PROG [data_in F] [data_out F] [data_size_out L] [ctx_in F] [ctx_out F] [ctx_size_out M] [repeat N]
                                 the Linux kernel, as bpftool (--json on each)
  map list | map show|dump|peek|pop|freeze MAP | map lookup|delete MAP KEY | map getnext MAP [KEY]
      | map update MAP KEY VALUE [any|exist|noexist] | map push MAP VALUE | map pin MAP FILE
      | map create FILE type TYPE key N value N entries N name NAME [flags F] [inner_map MAP]
  link list | link show|detach LINK | link pin LINK FILE
  net show [dev NAME]            XDP, tc (clsact and tcx) and flow dissector programs of this network namespace
  cgroup show CGROUP [effective] the programs attached to a cgroup v2 directory, hook by hook
  perf list                      the tracepoint, kprobe and uprobe programs processes attach, fd by fd
  feature probe [kernel] [full]  program types, map types, helpers and miscellaneous features this kernel has
  iter pin OBJ PATH              an iterator attached and its link pinned: reading PATH runs it
                                 PROG, MAP, LINK: ID | id ID | pinned PATH | name NAME | tag TAG (programs)
                                 KEY, VALUE: hex text ("01 00 00 00") | key|value [hex] BYTE...
  flowlat -i IFACE [--ip A] [--port P] [--count N]   TCP handshake and UDP request/response latency per flow
  verify OBJ|FILE [PROG] [--type TYPE] [--prog-flags N] [--log-level 0|1|2] [--json]
                                 the kernel verifier's verdict and reason on each program, without a kernel
  trace [-e PROGRAM | FILE] [-f text|json] [-c CMD] [-p PID] [-l [PATTERN]] [-v] [--unsafe] [--backend kernel|vm] [ARG...]
                                 a bpftrace script, compiled to eBPF by tsbpf; bpftrace's output and exit codes
  filter [-d|-dd|-ddd] [-O] [-y LINKTYPE] [-r FILE] [-w FILE] [-c COUNT] [--count] [--engine jit|interp|cbpf] EXPR
                                 compile a pcap-filter expression as libpcap does; print it or run it over a capture

FILE may be '-' for stdin; run accepts .data test files, assembly, hex text or raw bytes.
`;

type Command = (argv: string[], io: Io) => number | Promise<number>;

/** Each command's module is loaded when it runs: `tsbpf filter` need not load the kernel backend. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  asm: async () => (await import("./commands.js")).asmCommand,
  disasm: async () => (await import("./commands.js")).disasmCommand,
  run: async () => (await import("./commands.js")).runCommand,
  plugin: async () => (await import("./commands.js")).pluginCommand,
  objdump: async () => (await import("./objdump.js")).objdumpCommand,
  btf: async () => (await import("./btf.js")).btfCommand,
  obj: async () => (await import("./obj.js")).objCommand,
  prog: async () => (await import("./kernel.js")).progCommand,
  map: async () => (await import("./kernel.js")).mapCommand,
  link: async () => (await import("./kernel.js")).linkCommand,
  net: async () => (await import("./net.js")).netCommand,
  cgroup: async () => (await import("./cgroup.js")).cgroupCommand,
  perf: async () => (await import("./perf.js")).perfCommand,
  feature: async () => (await import("./feature.js")).featureCommand,
  iter: async () => (await import("./iter.js")).iterCommand,
  flowlat: async () => (await import("./flowlat.js")).flowlatCommand,
  filter: async () => (await import("./filter.js")).filterCommand,
  "test-run": async () => (await import("./test-run.js")).testRunCommand,
  verify: async () => (await import("./verify.js")).verifyCommand,
  trace: async () => (await import("./trace-script.js")).traceCommand,
};

/** Runs a command whose --json output is re-indented as bpftool -p prints it. */
async function prettyJson(argv: string[], io: Io): Promise<number> {
  const chunks: string[] = [];
  const code = await main(argv, { ...io, stdout: (t) => void chunks.push(typeof t === "string" ? t : new TextDecoder().decode(t)) });
  const text = chunks.join("");
  let out = text;
  try {
    out = `${JSON.stringify(JSON.parse(text), null, 4)}\n`;
  } catch {
    // not one JSON document (JSON lines, or an error's text): as it came
  }
  io.stdout(out);
  return code;
}

export const processIo: Io = {
  stdout: (t) => {
    process.stdout.write(t);
  },
  stderr: (t) => {
    process.stderr.write(t);
  },
  stdin: () => readFileSync(0),
};

/** bpftool's global options before the command: -j/--json, and -p/--pretty (JSON indented by 4). */
const GLOBAL_JSON = new Set(["-j", "--json", "-p", "--pretty"]);

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let first = 0;
  let pretty = false;
  for (; GLOBAL_JSON.has(argv[first] as string); first++) pretty ||= argv[first] === "-p" || argv[first] === "--pretty";
  if (first > 0) {
    const [command, ...rest] = argv.slice(first);
    if (command === undefined) {
      io.stderr(`tsbpf: ${argv[0]} needs a command after it\n${USAGE}`);
      return 2;
    }
    return pretty ? prettyJson([command, ...rest, "--json"], io) : main([command, ...rest, "--json"], io);
  }
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    io.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    io.stderr(`tsbpf: unknown command '${command}'\n${USAGE}`);
    return 2;
  }
  try {
    const run = await load();
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`tsbpf ${command}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof TsbpfError) {
      io.stderr(`tsbpf ${command}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof Error && "code" in e && typeof e.code === "string" && e.code.startsWith("E")) {
      io.stderr(`tsbpf ${command}: ${e.message}\n`); // file system errors (ENOENT…)
      return 1;
    }
    throw e;
  }
}
