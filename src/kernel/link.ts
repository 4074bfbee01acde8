/**
 * Attaching programs to hooks. Every attachment is a KernelLink that detaches when closed (or disposed);
 * bpf_link-based ones can be pinned. Hooks this kernel lacks fail with a typed error that says so.
 */

import { existsSync, readFileSync, readSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import { KernelFdObject } from "./fd-object.js";
import { possibleCpus } from "./map.js";
import type { KernelProgram } from "./program.js";
import { linuxSys, type NativeMemory, type Sys, withNative } from "./sys.js";
import { tracepointId } from "./tracefs.js";

const BPF_RAW_TRACEPOINT_OPEN = 17;
const BPF_LINK_CREATE = 28;
const BPF_PERF_EVENT = 41;
const PERF_TYPE_TRACEPOINT = 2;
const PERF_FLAG_FD_CLOEXEC = 8;

export class KernelLink extends KernelFdObject {
  constructor(
    fd: number,
    readonly description: string,
    sys: Sys,
    /** Other fds the attachment holds open (the perf event of a tracepoint link). */
    private readonly extra: readonly number[] = [],
  ) {
    super(fd, sys);
  }

  protected get label(): string {
    return `link ${this.description}`;
  }

  protected override releaseFds(): number[] {
    return [this.fd, ...this.extra];
  }
}

const BPF_XDP = 37;
const BPF_TCX_INGRESS = 46;
const BPF_TCX_EGRESS = 47;
export const XDP_FLAGS_SKB_MODE = 2;
export const XDP_FLAGS_DRV_MODE = 4;

/** An XDP program on an interface through a bpf_link (flags: 0, XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE). */
export function attachXdp(program: KernelProgram, ifindex: number, flags = 0, sys: Sys = linuxSys()): KernelLink {
  return linkCreate(program, ifindex, BPF_XDP, flags, `xdp ifindex ${ifindex}`, sys);
}

/** A sched_cls program on an interface's ingress or egress through a tcx link. */
export function attachTcx(program: KernelProgram, ifindex: number, direction: "ingress" | "egress", sys: Sys = linuxSys()): KernelLink {
  return linkCreate(
    program,
    ifindex,
    direction === "ingress" ? BPF_TCX_INGRESS : BPF_TCX_EGRESS,
    0,
    `tcx ${direction} ifindex ${ifindex}`,
    sys,
  );
}

function linkCreate(program: KernelProgram, target: number, attachType: number, flags: number, what: string, sys: Sys): KernelLink {
  const attr = new Uint8Array(144);
  const v = new DataView(attr.buffer);
  v.setUint32(0, program.fd, true);
  v.setUint32(4, target, true);
  v.setUint32(8, attachType, true);
  v.setUint32(12, flags, true);
  const fd = sys.bpf(BPF_LINK_CREATE, attr, `BPF_LINK_CREATE ${what}`);
  return new KernelLink(fd, `${what} → ${program.name}`, sys);
}

const SO_ATTACH_BPF = 50;
const SO_DETACH_BPF = 27;

/** A socket filter on a socket fd (SO_ATTACH_BPF); closing detaches it (SO_DETACH_BPF). */
export function attachSocketFilter(
  program: KernelProgram,
  socketFd: number,
  sys: Sys = linuxSys(),
): { close(): void; [Symbol.dispose](): void } {
  sys.setSocketOption(socketFd, SO_ATTACH_BPF, program.fd);
  return detachOnClose(socketFd, sys);
}

/** Closing detaches the socket's filter (SO_DETACH_BPF, which is SO_DETACH_FILTER too), once. */
function detachOnClose(socketFd: number, sys: Sys): { close(): void; [Symbol.dispose](): void } {
  let attached = true;
  const close = (): void => {
    if (!attached) return;
    attached = false;
    try {
      sys.setSocketOption(socketFd, SO_DETACH_BPF, 0);
    } catch {
      // the socket is gone, and the filter with it
    }
  };
  return { close, [Symbol.dispose]: close };
}

/** A classic BPF instruction (struct sock_filter), as cbpf/ produces them. */
export interface ClassicInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const SO_ATTACH_FILTER = 26;

/**
 * A classic BPF filter on a socket (SO_ATTACH_FILTER), e.g. a pcap-filter program on an AF_PACKET socket; the
 * kernel validates and copies it. Closing detaches it.
 */
export function attachClassicFilter(
  socketFd: number,
  program: readonly ClassicInstruction[],
  sys: Sys = linuxSys(),
): { close(): void; [Symbol.dispose](): void } {
  const insns = sys.alloc(program.length * 8);
  try {
    const v = new DataView(insns.bytes.buffer, insns.bytes.byteOffset, insns.bytes.byteLength);
    program.forEach((insn, i) => {
      v.setUint16(i * 8, insn.code, true);
      v.setUint8(i * 8 + 2, insn.jt);
      v.setUint8(i * 8 + 3, insn.jf);
      v.setUint32(i * 8 + 4, insn.k >>> 0, true);
    });
    const fprog = new Uint8Array(16); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    const f = new DataView(fprog.buffer);
    f.setUint16(0, program.length, true);
    f.setBigUint64(8, insns.address, true);
    sys.setSocketOptionBytes(socketFd, SO_ATTACH_FILTER, fprog);
  } finally {
    insns.free();
  }
  return detachOnClose(socketFd, sys);
}

const PERF_TYPE_SOFTWARE = 1;
export const PERF_COUNT_SW_CPU_CLOCK = 0;
export const PERF_COUNT_SW_TASK_CLOCK = 1;

/**
 * A perf_event program sampling a software clock (cpu-clock by default) at `frequency` Hz on every CPU: one
 * perf event and one bpf_link per CPU, all closed together. With `periodNs` instead it fires every that many
 * ns of the clock (bpftrace's interval probes: `cpu` 0 only); with `period` every that many of the
 * software event `clock` names (PERF_COUNT_SW_*: page faults, context switches...).
 */
export function attachPerfEvent(
  program: KernelProgram,
  opts: { frequency?: number; periodNs?: number; period?: number; clock?: number; cpus?: number; cpu?: number; pid?: number },
  sys: Sys = linuxSys(),
): KernelLink {
  const cpus = opts.cpus ?? possibleCpus();
  const which = opts.cpu !== undefined ? [opts.cpu] : Array.from({ length: cpus }, (_, i) => i);
  const fds: number[] = [];
  try {
    for (const cpu of which) {
      const attr = new Uint8Array(136);
      const v = new DataView(attr.buffer);
      v.setUint32(0, PERF_TYPE_SOFTWARE, true);
      v.setUint32(4, attr.length, true);
      v.setBigUint64(8, BigInt(opts.clock ?? PERF_COUNT_SW_CPU_CLOCK), true);
      const period = opts.periodNs ?? opts.period;
      if (period !== undefined)
        v.setBigUint64(16, BigInt(Math.max(1, Math.round(period))), true); // sample_period
      else {
        v.setBigUint64(16, BigInt(opts.frequency ?? 99), true); // sample_freq
        v.setBigUint64(40, 1n << 10n, true); // flags: freq
      }
      const perfFd = sys.perfEventOpen(attr, opts.pid ?? -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
      fds.push(perfFd);
      fds.push(perfLinkFd(program, perfFd, `perf_event cpu ${cpu}`, sys));
    }
  } catch (e) {
    for (const fd of fds) sys.close(fd);
    throw e;
  }
  const [first, ...rest] = fds;
  const rate =
    opts.periodNs !== undefined
      ? `every ${opts.periodNs} ns`
      : opts.period !== undefined
        ? `every ${opts.period} events`
        : `${opts.frequency ?? 99} Hz`;
  return new KernelLink(first as number, `perf_event ${rate} on ${which.length} CPUs → ${program.name}`, sys, rest);
}

/**
 * A uprobe (or uretprobe) on `offset` bytes into the file `path`, through the uprobe PMU; `pid` limits it to
 * one process (-1: every process).
 */
export function attachUprobe(
  program: KernelProgram,
  path: string,
  offset: number,
  opts: { retprobe?: boolean; pid?: number; refCtrOffset?: number } = {},
  sys: Sys = linuxSys(),
): KernelLink {
  // A USDT semaphore: the kernel increments the counter at this file offset while the probe is attached.
  const refCtr = BigInt(opts.refCtrOffset ?? 0) << 32n;
  const perfFd = openProbeEvent("uprobe", path, BigInt(offset), refCtr, opts, sys);
  return perfEventLink(program, perfFd, `${opts.retprobe ? "uretprobe" : "uprobe"} ${path}+0x${offset.toString(16)}`, sys);
}

/** A kprobe (or kretprobe) on the kernel function `func`, through the kprobe PMU. */
export function attachKprobe(program: KernelProgram, func: string, opts: { retprobe?: boolean } = {}, sys: Sys = linuxSys()): KernelLink {
  const perfFd = openProbeEvent("kprobe", func, 0n, 0n, opts, sys);
  return perfEventLink(program, perfFd, `${opts.retprobe ? "kretprobe" : "kprobe"} ${func}`, sys);
}

/**
 * A perf event of the kprobe or uprobe PMU: config1 points at `target` (the function or the file), config2 is
 * the offset; `config` bits beyond the retprobe bit (a uprobe's ref_ctr_offset) are ORed in.
 */
function openProbeEvent(
  kind: "kprobe" | "uprobe",
  target: string,
  offset: bigint,
  config: bigint,
  opts: { retprobe?: boolean; pid?: number },
  sys: Sys,
): number {
  const pmu = readPmu(kind);
  const targetBytes = new TextEncoder().encode(`${target}\0`);
  return withNative(sys, [targetBytes], ([t]) => {
    const attr = new Uint8Array(136);
    const v = new DataView(attr.buffer);
    v.setUint32(0, pmu.type, true);
    v.setUint32(4, attr.length, true);
    v.setBigUint64(8, (opts.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n) | config, true);
    v.setBigUint64(16, 1n, true); // sample_period
    v.setBigUint64(56, (t as NativeMemory).address, true); // config1: kprobe_func / uprobe_path
    v.setBigUint64(64, offset, true); // config2: probe_offset
    const pid = opts.pid ?? -1;
    return sys.perfEventOpen(attr, pid, pid === -1 ? 0 : -1, -1, PERF_FLAG_FD_CLOEXEC);
  });
}

/** A dynamic PMU's type number and, for probes, the config bit that selects the return probe. */
function readPmu(name: string): { type: number; retprobeBit: number } {
  const base = `/sys/bus/event_source/devices/${name}`;
  if (!existsSync(`${base}/type`)) throw new NotSupportedError(`${name}s`, `this kernel has no ${name} PMU (${base})`);
  const type = Number(readFileSync(`${base}/type`, "utf8").trim());
  const format = existsSync(`${base}/format/retprobe`) ? readFileSync(`${base}/format/retprobe`, "utf8").trim() : "config:0";
  return { type, retprobeBit: Number(/config:(\d+)/.exec(format)?.[1] ?? 0) };
}

/** Links a program to an open perf event fd; the link owns the perf event from then on. */
function perfEventLink(program: KernelProgram, perfFd: number, what: string, sys: Sys): KernelLink {
  try {
    return new KernelLink(perfLinkFd(program, perfFd, what, sys), `${what} → ${program.name}`, sys, [perfFd]);
  } catch (e) {
    sys.close(perfFd);
    throw e;
  }
}

function perfLinkFd(program: KernelProgram, perfFd: number, what: string, sys: Sys): number {
  const attr = new Uint8Array(144);
  const v = new DataView(attr.buffer);
  v.setUint32(0, program.fd, true);
  v.setUint32(4, perfFd, true);
  v.setUint32(8, BPF_PERF_EVENT, true);
  return sys.bpf(BPF_LINK_CREATE, attr, `BPF_LINK_CREATE ${what}`);
}

const BPF_TRACE_ITER = 28;
const BPF_ITER_CREATE = 33;

/** An iterator program (iter/...) as a link; `read()` runs one iteration and returns everything it wrote. */
export function attachIterator(program: KernelProgram, sys: Sys = linuxSys()): KernelLink & { read(): Uint8Array } {
  const attr = new Uint8Array(144);
  const v = new DataView(attr.buffer);
  v.setUint32(0, program.fd, true);
  v.setUint32(8, BPF_TRACE_ITER, true);
  const fd = sys.bpf(BPF_LINK_CREATE, attr, "BPF_LINK_CREATE iter");
  const link = new KernelLink(fd, `iterator → ${program.name}`, sys);
  return Object.assign(link, {
    read(): Uint8Array {
      const create = new Uint8Array(144);
      new DataView(create.buffer).setUint32(0, fd, true);
      const iterFd = sys.bpf(BPF_ITER_CREATE, create, "BPF_ITER_CREATE");
      try {
        const chunks: Uint8Array[] = [];
        const buf = new Uint8Array(1 << 16);
        for (let n = readSync(iterFd, buf); n > 0; n = readSync(iterFd, buf)) chunks.push(buf.slice(0, n));
        const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          out.set(c, at);
          at += c.length;
        }
        return out;
      } finally {
        sys.close(iterFd);
      }
    },
  });
}

/** raw_tracepoint/NAME or tp_btf programs (name undefined: the attach BTF id given at load decides). */
export function attachRawTracepoint(program: KernelProgram, name: string | undefined, sys: Sys = linuxSys()): KernelLink {
  const nameBytes = name === undefined ? new Uint8Array(0) : new TextEncoder().encode(`${name}\0`);
  const fd = withNative(sys, [nameBytes], ([n]) => {
    const attr = new Uint8Array(144);
    const v = new DataView(attr.buffer);
    if (name !== undefined) v.setBigUint64(0, (n as NativeMemory).address, true);
    v.setUint32(8, program.fd, true);
    return sys.bpf(BPF_RAW_TRACEPOINT_OPEN, attr, `BPF_RAW_TRACEPOINT_OPEN ${name ?? "(btf)"}`);
  });
  return new KernelLink(fd, `raw_tracepoint ${name ?? "(btf)"} → ${program.name}`, sys);
}

/** perf_event_attr for a tracepoint, counting every hit on all CPUs of one process or all processes. */
function tracepointAttr(id: number): Uint8Array {
  const attr = new Uint8Array(136);
  const v = new DataView(attr.buffer);
  v.setUint32(0, PERF_TYPE_TRACEPOINT, true);
  v.setUint32(4, attr.length, true);
  v.setBigUint64(8, BigInt(id), true);
  v.setBigUint64(16, 1n, true); // sample_period
  return attr;
}

/**
 * tracepoint/CATEGORY/NAME programs: a perf event on the tracepoint, linked with BPF_LINK_CREATE. The program
 * joins the tracepoint's own program array, so it runs on every CPU although the event is opened on CPU 0
 * (libbpf does the same).
 */
export function attachTracepoint(program: KernelProgram, category: string, name: string, sys: Sys = linuxSys()): KernelLink {
  const id = tracepointId(category, name);
  const perfFd = sys.perfEventOpen(tracepointAttr(id), -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  return perfEventLink(program, perfFd, `tracepoint ${category}/${name}`, sys);
}
