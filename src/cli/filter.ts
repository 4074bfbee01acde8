/**
 * `tsbpf filter [-d|-dd|-ddd] [-O] [-y LINKTYPE] [-r FILE] [-w FILE] [-c COUNT] [--count] [--engine E] EXPR`:
 * tcpdump's filter half. Compiles a pcap-filter expression exactly as libpcap does and prints the program
 * (-d, -dd, -ddd), or runs it over a capture file: counting matches (--count prints tcpdump's
 * "N packets"), writing them to a pcap file (-w), or listing them (time and length per packet). Names
 * resolve from /etc, or from the hosts/networks/ethers/services/protocols files of `--etc DIR`.
 */
import { compileExpression, NameDb, resolveLinktype } from "../cbpf/compiler/index.js";
import { compileFilter, type Filter } from "../cbpf/filter.js";
import type { CbpfInsn } from "../cbpf/insn.js";
import { createPcapWriter, openCapture, type Packet } from "../cbpf/pcap.js";
import { type ScanRecord, scanPcap } from "../cbpf/pcap-scan.js";
import { formatD, formatDD, formatDDD } from "../cbpf/print.js";
import { runCbpf } from "../cbpf/vm.js";
import { intFlag, parseArgs, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";

const FLAGS = {
  d: { short: "-d" },
  dd: { short: "-dd" },
  ddd: { short: "-ddd" },
  O: { short: "-O" },
  y: { short: "-y", value: true },
  r: { short: "-r", value: true },
  w: { short: "-w", value: true },
  c: { short: "-c", value: true },
  count: {},
  engine: { value: true, choices: ["jit", "interp", "cbpf"] },
  etc: { value: true },
} as const;

const USAGE =
  "usage: tsbpf filter [-d|-dd|-ddd] [-O] [-y LINKTYPE] [-r FILE] [-w FILE] [-c COUNT] [--count] [--engine jit|interp|cbpf] [--etc DIR] EXPR";

function timestamp(p: Packet): string {
  const d = new Date(p.seconds * 1000);
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(Math.floor(p.nanos / 1000)).padStart(6, "0")}`;
}

export function filterCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, FLAGS);
  const expression = p.positional.join(" ");
  const dumps = (["d", "dd", "ddd"] as const).filter((f) => p.flags.has(f));
  if (dumps.length > 1) throw new UsageError("choose one of -d, -dd, -ddd");
  const file = stringFlag(p, "r");
  if (!file && dumps.length === 0) throw new UsageError(`nothing to do: give -d/-dd/-ddd or -r FILE\n${USAGE}`);
  const capture = file ? openCapture(file) : undefined;
  try {
    const y = stringFlag(p, "y");
    const linktype = y !== undefined ? resolveLinktype(y) : capture ? resolveLinktype(capture.info.linktype) : undefined;
    const etc = stringFlag(p, "etc");
    const { program } = compileExpression(expression, {
      ...(etc ? { names: NameDb.fromDirectory(etc) } : {}),
      linktype,
      optimize: !p.flags.has("O"),
      snaplen: capture?.info.snaplen || 262144,
      // DLT_NULL's address family is in the writer's byte order; this machine is little-endian.
      swapped: capture ? !capture.info.littleEndian : false,
    });
    const dump = dumps[0];
    if (dump) {
      io.stdout(dump === "d" ? formatD(program) : dump === "dd" ? formatDD(program) : formatDDD(program));
      return 0;
    }
    if (!capture) return 0;
    return runOver(file as string, capture, program, p, io);
  } finally {
    capture?.close();
  }
}

function runOver(
  path: string,
  capture: NonNullable<ReturnType<typeof openCapture>>,
  program: CbpfInsn[],
  p: ReturnType<typeof parseArgs>,
  io: Io,
): number {
  const engine = stringFlag(p, "engine") ?? "jit";
  const limit = intFlag(p, "c");
  if (limit === 0) throw new UsageError("-c needs a positive count");
  const out = stringFlag(p, "w");
  const writer = out
    ? createPcapWriter(out, capture.info.linktype, { snaplen: capture.info.snaplen, nanosecond: capture.info.nanosecond })
    : undefined;
  const counting = p.flags.has("count");
  const lines: string[] = [];
  const matchedPacket = (pkt: Packet): void => {
    if (writer) writer.write(pkt);
    else if (!counting) {
      lines.push(`${timestamp(pkt)} length ${pkt.wireLength}\n`);
      if (lines.length >= 1024) io.stdout(lines.splice(0).join(""));
    }
  };
  let matched = 0;
  try {
    // Classic pcap: read straight into the filter's memory and filter in place.
    const jit = engine === "cbpf" ? undefined : compileFilter(program, { engine: engine === "interp" ? "interp" : "jit" });
    const region = jit?.buffer(SCAN_BUFFER);
    const local = region ? undefined : new Uint8Array(SCAN_BUFFER);
    const scanned = scanPcap(path, {
      buffer: () => (region ? region.view() : (local as Uint8Array)),
      test: region
        ? (offset, length, wire) => (jit as Filter).runAt(region.address + offset, length, wire) !== 0
        : (offset, length, wire) => runCbpf(program, (local as Uint8Array).subarray(offset, offset + length), wire) !== 0,
      ...(region && jit
        ? {
            bulk: (offset: number, end: number, longest: number) => {
              const r = jit.scanRecords(region.address + offset, region.address + end, longest);
              return r && { ...r, next: r.next - region.address };
            },
          }
        : {}),
      ...(writer || !counting
        ? {
            onMatch: (r: ScanRecord, bytes: Uint8Array) =>
              matchedPacket({
                seconds: r.seconds,
                nanos: r.nanos,
                data: bytes.subarray(r.offset, r.offset + r.length),
                wireLength: r.wireLength,
              }),
          }
        : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
    if (scanned) matched = scanned.matched;
    else {
      const filter = jit ?? { run: (d: Uint8Array, w: number) => runCbpf(program, d, w) };
      for (const pkt of capture.packets()) {
        if (filter.run(pkt.data, pkt.wireLength) === 0) continue;
        matched++;
        matchedPacket(pkt);
        if (limit !== undefined && matched >= limit) break;
      }
    }
  } finally {
    writer?.close();
  }
  if (lines.length > 0) io.stdout(lines.join(""));
  if (counting) io.stdout(`${matched} packet${matched === 1 ? "" : "s"}\n`);
  return 0;
}

/** The scan reads 1 MiB at a time: the chunk is still in L2 while the filter walks it. */
const SCAN_BUFFER = 1 << 20;
