/**
 * What the kernel holds: programs, maps and links by id (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID,
 * BPF_OBJ_GET_INFO_BY_FD), as `bpftool prog/map/link list` shows them, with what hooks hold and pins name.
 */
import { readlinkSync } from "node:fs";
import { mapTypeName } from "../object/map-types.js";
import { PROGRAM_TYPE_IDS } from "../object/section-types.js";
import {
  BPF_LINK_GET_NEXT_ID,
  BPF_MAP_GET_FD_BY_ID,
  BPF_MAP_GET_NEXT_ID,
  BPF_PROG_GET_FD_BY_ID,
  BPF_PROG_GET_NEXT_ID,
  nextIds,
  objGet,
  objInfo,
  objPin,
} from "./bpf.js";
import { KernelError } from "./errors.js";
import { linuxSys, type NativeMemory, type Sys, withNative } from "./sys.js";

const BPF_BTF_GET_FD_BY_ID = 19;
const BPF_BTF_GET_NEXT_ID = 23;
const BPF_LINK_GET_FD_BY_ID = 30;
const BPF_LINK_DETACH = 34;
/** enum bpf_link_type, as bpftool names them (the system header may predate the last ones). */
const LINK_TYPE_NAMES = [
  "unspec",
  "raw_tracepoint",
  "tracing",
  "cgroup",
  "iter",
  "netns",
  "xdp",
  "perf_event",
  "kprobe_multi",
  "struct_ops",
  "netfilter",
  "tcx",
  "uprobe_multi",
  "netkit",
  "sockmap",
];
const PROG_TYPE_NAMES = new Map(Object.entries(PROGRAM_TYPE_IDS).map(([name, id]) => [id, name]));

export interface ProgramInfo {
  id: number;
  type: string;
  name: string;
  tag: string;
  xlatedBytes: number;
  jitedBytes: number;
  loadTime: bigint;
  uid: number;
  mapIds: number[];
  btfId: number;
  /** What the program hooks, for tracing and LSM programs: a BTF object (0: vmlinux) and a type in it. */
  attachBtfObjId: number;
  attachBtfId: number;
}

export interface MapInfo {
  id: number;
  type: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** The kernel BTF object describing key and value (0: none), and their type ids in it (0: none). */
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

export interface LinkInfo {
  id: number;
  type: number;
  typeName: string;
  progId: number;
}

export type KernelObjectKind = "prog" | "map" | "link";

const GET_FD_BY_ID: Record<KernelObjectKind | "btf", [number, string]> = {
  prog: [BPF_PROG_GET_FD_BY_ID, "BPF_PROG_GET_FD_BY_ID"],
  map: [BPF_MAP_GET_FD_BY_ID, "BPF_MAP_GET_FD_BY_ID"],
  link: [BPF_LINK_GET_FD_BY_ID, "BPF_LINK_GET_FD_BY_ID"],
  btf: [BPF_BTF_GET_FD_BY_ID, "BPF_BTF_GET_FD_BY_ID"],
};

/** An fd for the kernel object with an id (BPF_{PROG,MAP,LINK}_GET_FD_BY_ID as `cmd`). */
export function fdById(sys: Sys, cmd: number, id: number, what: string): number {
  const attr = new Uint8Array(144);
  new DataView(attr.buffer).setUint32(0, id, true);
  return sys.bpf(cmd, attr, `${what} ${id}`);
}

function cstr(bytes: Uint8Array, at: number, len: number): string {
  const raw = bytes.subarray(at, at + len);
  const end = raw.indexOf(0);
  return new TextDecoder().decode(raw.subarray(0, end < 0 ? len : end));
}

/**
 * Runs fn with an fd for the program, map, link or BTF object with an id, closing it afterwards; undefined when
 * there is no such object (or it vanished meanwhile).
 */
export function withFdById<T>(kind: KernelObjectKind | "btf", id: number, fn: (fd: number) => T, sys: Sys = linuxSys()): T | undefined {
  const [cmd, what] = GET_FD_BY_ID[kind];
  let fd: number;
  try {
    fd = fdById(sys, cmd, id, what);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    return fn(fd);
  } finally {
    sys.close(fd);
  }
}

/** The kernel's id of the program, map or link behind an fd: bpf_{prog,map,link}_info all begin with type, id. */
export function objectId(sys: Sys, fd: number): number {
  return new DataView(objInfo(sys, fd, 8).info.buffer).getUint32(4, true);
}

function programInfo(sys: Sys, fd: number): ProgramInfo {
  const first = objInfo(sys, fd, 256).info;
  const v = new DataView(first.buffer);
  const nrMaps = v.getUint32(52, true);
  const mapIds: number[] = [];
  if (nrMaps > 0) {
    const { extra } = objInfo(
      sys,
      fd,
      256,
      (info, mem) => {
        info.setUint32(52, nrMaps, true);
        info.setBigUint64(56, (mem[0] as NativeMemory).address, true);
      },
      [nrMaps * 4],
    );
    const ids = new DataView((extra[0] as Uint8Array).buffer);
    for (let k = 0; k < nrMaps; k++) mapIds.push(ids.getUint32(k * 4, true));
  }
  const tag = Array.from(first.subarray(8, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  const type = v.getUint32(0, true);
  return {
    id: v.getUint32(4, true),
    type: PROG_TYPE_NAMES.get(type) ?? `type_${type}`,
    name: cstr(first, 64, 16),
    tag,
    xlatedBytes: v.getUint32(20, true),
    jitedBytes: v.getUint32(16, true),
    loadTime: v.getBigUint64(40, true),
    uid: v.getUint32(48, true),
    mapIds,
    btfId: v.getUint32(128, true),
    attachBtfObjId: v.getUint32(220, true),
    attachBtfId: v.getUint32(224, true),
  };
}

export function listPrograms(sys: Sys = linuxSys()): ProgramInfo[] {
  return nextIds(sys, BPF_PROG_GET_NEXT_ID, "BPF_PROG_GET_NEXT_ID").flatMap((id) => programById(id, sys) ?? []);
}

export function programById(id: number, sys: Sys = linuxSys()): ProgramInfo | undefined {
  return withFdById("prog", id, (fd) => programInfo(sys, fd), sys);
}

/** What the kernel says about the map behind `fd`. */
export function mapInfo(sys: Sys, fd: number): MapInfo {
  const b = objInfo(sys, fd, 128).info;
  const v = new DataView(b.buffer);
  return {
    id: v.getUint32(4, true),
    type: mapTypeName(v.getUint32(0, true)),
    name: cstr(b, 24, 16),
    keySize: v.getUint32(8, true),
    valueSize: v.getUint32(12, true),
    maxEntries: v.getUint32(16, true),
    flags: v.getUint32(20, true),
    btfId: v.getUint32(64, true),
    btfKeyTypeId: v.getUint32(68, true),
    btfValueTypeId: v.getUint32(72, true),
  };
}

export interface BtfInfo {
  id: number;
  /** The kernel's or a module's name for kernel BTF ("vmlinux"); "" for BTF a program's loader gave. */
  name: string;
  size: number;
  /** BTF of the kernel or of a module, rather than of a loaded object. */
  kernel: boolean;
}

function btfInfo(sys: Sys, fd: number): BtfInfo {
  const NAME = 64;
  const { info, extra } = objInfo(
    sys,
    fd,
    32,
    (v, mem) => {
      v.setBigUint64(16, (mem[0] as NativeMemory).address, true);
      v.setUint32(24, NAME, true);
    },
    [NAME],
  );
  const v = new DataView(info.buffer);
  return {
    id: v.getUint32(12, true),
    name: cstr(extra[0] as Uint8Array, 0, NAME),
    size: v.getUint32(8, true),
    kernel: v.getUint32(28, true) !== 0,
  };
}

/** Every BTF object the kernel holds: vmlinux's, modules', and those loaded with programs and maps (bpftool btf list). */
export function listBtf(sys: Sys = linuxSys()): BtfInfo[] {
  return nextIds(sys, BPF_BTF_GET_NEXT_ID, "BPF_BTF_GET_NEXT_ID").flatMap((id) => btfById(id, sys) ?? []);
}

export function btfById(id: number, sys: Sys = linuxSys()): BtfInfo | undefined {
  return withFdById("btf", id, (fd) => btfInfo(sys, fd), sys);
}

/**
 * The raw bytes of the kernel BTF object with an id (BPF_BTF_GET_FD_BY_ID, then BPF_OBJ_GET_INFO_BY_FD twice:
 * for its size, then for the bytes), as it was loaded: what maps and programs name by btf_id.
 */
export function btfBytesById(id: number, sys: Sys = linuxSys()): Uint8Array | undefined {
  return withFdById(
    "btf",
    id,
    (fd) => {
      const size = new DataView(objInfo(sys, fd, 32).info.buffer).getUint32(8, true);
      const { extra } = objInfo(
        sys,
        fd,
        32,
        (info, mem) => {
          info.setBigUint64(0, (mem[0] as NativeMemory).address, true);
          info.setUint32(8, size, true);
        },
        [size],
      );
      return extra[0] as Uint8Array;
    },
    sys,
  );
}

export function listMaps(sys: Sys = linuxSys()): MapInfo[] {
  return nextIds(sys, BPF_MAP_GET_NEXT_ID, "BPF_MAP_GET_NEXT_ID").flatMap((id) => mapById(id, sys) ?? []);
}

function linkInfo(sys: Sys, fd: number): LinkInfo {
  const v = new DataView(objInfo(sys, fd, 64).info.buffer);
  const type = v.getUint32(0, true);
  return { id: v.getUint32(4, true), type, typeName: LINK_TYPE_NAMES[type] ?? `type_${type}`, progId: v.getUint32(8, true) };
}

export function listLinks(sys: Sys = linuxSys()): LinkInfo[] {
  return nextIds(sys, BPF_LINK_GET_NEXT_ID, "BPF_LINK_GET_NEXT_ID").flatMap((id) => linkById(id, sys) ?? []);
}

export function linkById(id: number, sys: Sys = linuxSys()): LinkInfo | undefined {
  return withFdById("link", id, (fd) => linkInfo(sys, fd), sys);
}

export function mapById(id: number, sys: Sys = linuxSys()): MapInfo | undefined {
  return withFdById("map", id, (fd) => mapInfo(sys, fd), sys);
}

/**
 * Whether an fd is a program's, a map's or a link's, from its anonymous inode (bpf-prog, bpf-map, and bpf_link
 * or, in newer kernels, bpf-link), as bpftool finds it; undefined for anything else.
 */
export function kindOfFd(fd: number): KernelObjectKind | undefined {
  const inode = readlinkSync(`/proc/self/fd/${fd}`);
  return (
    { "anon_inode:bpf-prog": "prog", "anon_inode:bpf-map": "map", "anon_inode:bpf_link": "link", "anon_inode:bpf-link": "link" } as const
  )[inode];
}

/** What is pinned at `path` (BPF_OBJ_GET): a program, a map or a link, and its id. */
export function pinnedObject(path: string, sys: Sys = linuxSys()): { kind: KernelObjectKind; id: number } {
  const fd = objGet(sys, path);
  try {
    const kind = kindOfFd(fd);
    if (!kind) throw new KernelError(`BPF_OBJ_GET ${path}`, 22, "not a program, map or link");
    return { kind, id: objectId(sys, fd) };
  } finally {
    sys.close(fd);
  }
}

const BPF_PROG_QUERY = 16;

/** The programs (and links holding them) attached to a hook, in the order they run: BPF_PROG_QUERY. */
export interface Attached {
  programId: number;
  /** 0 where the program is attached without a link. */
  linkId: number;
}

/**
 * What is attached at a hook that BPF_PROG_QUERY answers for — `target` is an ifindex (tcx), or an fd (a netns's
 * for the flow dissector, a cgroup's) — and the hook's attach flags (a cgroup's BPF_F_ALLOW_MULTI…). `effective`
 * asks a cgroup for what it inherits too. Kernels that know nothing of the attach type answer EINVAL: nothing.
 */
export function queryAttached(
  target: number,
  attachType: number,
  opts: { effective?: boolean; sys?: Sys } = {},
): { attached: Attached[]; flags: number } {
  const sys = opts.sys ?? linuxSys();
  const query = (count: number, programIds?: NativeMemory, linkIds?: NativeMemory): { count: number; flags: number } => {
    const attr = new Uint8Array(144);
    const v = new DataView(attr.buffer);
    v.setUint32(0, target, true);
    v.setUint32(4, attachType, true);
    v.setUint32(8, opts.effective ? 1 /* BPF_F_QUERY_EFFECTIVE */ : 0, true);
    v.setUint32(24, count, true);
    if (programIds) v.setBigUint64(16, programIds.address, true);
    if (linkIds) v.setBigUint64(40, linkIds.address, true);
    sys.bpf(BPF_PROG_QUERY, attr, `BPF_PROG_QUERY attach type ${attachType}`);
    return { count: v.getUint32(24, true), flags: v.getUint32(12, true) };
  };
  let first: { count: number; flags: number };
  try {
    first = query(0);
  } catch (e) {
    if (e instanceof KernelError && (e.code === "EINVAL" || e.code === "ENOENT")) return { attached: [], flags: 0 };
    throw e;
  }
  if (first.count === 0) return { attached: [], flags: first.flags };
  const count = first.count;
  return withNative(sys, [count * 4, count * 4], ([programIds, linkIds]) => {
    const got = query(count, programIds, linkIds);
    const p = new DataView((programIds as NativeMemory).bytes.buffer, (programIds as NativeMemory).bytes.byteOffset);
    const l = new DataView((linkIds as NativeMemory).bytes.buffer, (linkIds as NativeMemory).bytes.byteOffset);
    const attached = Array.from({ length: Math.min(got.count, count) }, (_, i) => ({
      programId: p.getUint32(i * 4, true),
      linkId: l.getUint32(i * 4, true),
    }));
    return { attached, flags: got.flags };
  });
}

const BPF_TASK_FD_QUERY = 20;
const FD_TYPES = ["raw_tracepoint", "tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe"] as const;

/** A program a process's fd attaches (BPF_TASK_FD_QUERY): to a tracepoint, a raw tracepoint, a kprobe or a uprobe. */
export interface TaskFdAttachment {
  programId: number;
  fdType: (typeof FD_TYPES)[number] | `type_${number}`;
  /** The tracepoint, the kprobe's function or the uprobe's file. */
  name: string;
  probeOffset: bigint;
  probeAddr: bigint;
}

/** What program, if any, the fd `fd` of process `pid` attaches (bpftool perf); undefined for any other fd. */
export function taskFdQuery(pid: number, fd: number, sys: Sys = linuxSys()): TaskFdAttachment | undefined {
  const NAME = 4096;
  return withNative(sys, [NAME], ([buf]) => {
    const attr = new Uint8Array(144);
    const v = new DataView(attr.buffer);
    v.setUint32(0, pid, true);
    v.setUint32(4, fd, true);
    v.setUint32(12, NAME, true);
    v.setBigUint64(16, (buf as NativeMemory).address, true);
    try {
      sys.bpf(BPF_TASK_FD_QUERY, attr, "BPF_TASK_FD_QUERY");
    } catch (e) {
      if (e instanceof KernelError) return undefined; // not a perf event or link with a program, or gone
      throw e;
    }
    const type = v.getUint32(28, true);
    return {
      programId: v.getUint32(24, true),
      fdType: FD_TYPES[type] ?? `type_${type}`,
      name: cstr((buf as NativeMemory).bytes, 0, NAME),
      probeOffset: v.getBigUint64(32, true),
      probeAddr: v.getBigUint64(40, true),
    };
  });
}

const NOUN: Record<KernelObjectKind, string> = { prog: "program", map: "map", link: "link" };

/** Runs `use` with an fd for the program, map or link with an id, closed afterwards; ENOENT when there is none. */
export function withObjectFd<T>(kind: KernelObjectKind, id: number, what: string, use: (fd: number) => T, sys: Sys = linuxSys()): T {
  const found = withFdById(kind, id, (fd) => ({ result: use(fd) }), sys);
  if (!found) throw new KernelError(what, 2, `no ${NOUN[kind]} with id ${id}`);
  return found.result;
}

/** Pins the program, map or link with an id at `path` in bpffs (bpftool prog|map|link pin). */
export function pinById(kind: KernelObjectKind, id: number, path: string, sys: Sys = linuxSys()): void {
  withObjectFd(kind, id, `${kind} pin`, (fd) => objPin(sys, fd, path), sys);
}

/**
 * Detaches the link with an id from its hook (BPF_LINK_DETACH): the program stops running there, while the
 * link object lives on, defunct, until its last fd or pin goes (bpftool link detach).
 */
export function detachLink(id: number, sys: Sys = linuxSys()): void {
  withObjectFd(
    "link",
    id,
    "link detach",
    (fd) => {
      const attr = new Uint8Array(144);
      new DataView(attr.buffer).setUint32(0, fd, true);
      sys.bpf(BPF_LINK_DETACH, attr, `BPF_LINK_DETACH link ${id}`);
    },
    sys,
  );
}
