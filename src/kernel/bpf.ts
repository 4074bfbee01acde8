/**
 * The bpf(2) commands tsbpf uses, each marshalling its part of `union bpf_attr` at the offsets of
 * /usr/include/linux/bpf.h and unmarshalling the results.
 */
import { pinPathProblem } from "./bpffs.js";
import { KernelError } from "./errors.js";
import { type NativeMemory, type Sys, withNative, withNativeAsync } from "./sys.js";

export const BPF_MAP_CREATE = 0;
export const BPF_MAP_LOOKUP_ELEM = 1;
export const BPF_MAP_LOOKUP_AND_DELETE_ELEM = 21;
export const BPF_MAP_UPDATE_ELEM = 2;
export const BPF_MAP_DELETE_ELEM = 3;
export const BPF_MAP_GET_NEXT_KEY = 4;
export const BPF_PROG_LOAD = 5;
export const BPF_OBJ_PIN = 6;
export const BPF_OBJ_GET = 7;
export const BPF_PROG_TEST_RUN = 10;
export const BPF_PROG_GET_NEXT_ID = 11;
export const BPF_MAP_GET_NEXT_ID = 12;
export const BPF_PROG_GET_FD_BY_ID = 13;
export const BPF_MAP_GET_FD_BY_ID = 14;
export const BPF_OBJ_GET_INFO_BY_FD = 15;
export const BPF_MAP_FREEZE = 22;
export const BPF_LINK_GET_NEXT_ID = 31;

const ATTR_SIZE = 144;
const ATTR_BYTES = new Uint8Array(ATTR_SIZE);
const ATTR = { bytes: ATTR_BYTES, view: new DataView(ATTR_BYTES.buffer) } as const;

/**
 * The bpf_attr of the command being made, zeroed. One buffer serves every command: each builds its attr, makes
 * its call and reads what the kernel wrote back before the next is built (nothing here waits in between), and
 * a fresh 144-byte ArrayBuffer per call costs a third of a map lookup.
 */
function attr(): { bytes: Uint8Array; view: DataView } {
  ATTR.bytes.fill(0);
  return ATTR;
}

function putName(bytes: Uint8Array, at: number, name: string): void {
  // BPF_OBJ_NAME_LEN is 16 with the NUL; the kernel accepts [A-Za-z0-9_.].
  const clean = name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 15);
  bytes.set(new TextEncoder().encode(clean), at);
}

export interface MapCreateAttr {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  innerMapFd?: number;
  numaNode?: number;
  name?: string;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  /** struct_ops maps: the kernel's value type in vmlinux BTF. */
  btfVmlinuxValueTypeId?: number;
  mapExtra?: bigint;
}

export function mapCreate(sys: Sys, a: MapCreateAttr): number {
  const { bytes, view } = attr();
  fillMapCreate(view, bytes, a);
  return sys.bpf(BPF_MAP_CREATE, bytes, "BPF_MAP_CREATE");
}

/** mapCreate with the kernel's part (for a preallocated map, allocating all its elements) on a worker thread. */
export function mapCreateAsync(sys: Sys, a: MapCreateAttr): Promise<number> {
  const bytes = new Uint8Array(ATTR_SIZE); // its own: other commands fill the shared one meanwhile
  fillMapCreate(new DataView(bytes.buffer), bytes, a);
  return sys.bpfAsync(BPF_MAP_CREATE, bytes, "BPF_MAP_CREATE");
}

function fillMapCreate(view: DataView, bytes: Uint8Array, a: MapCreateAttr): void {
  view.setUint32(0, a.type, true);
  view.setUint32(4, a.keySize, true);
  view.setUint32(8, a.valueSize, true);
  view.setUint32(12, a.maxEntries, true);
  view.setUint32(16, a.flags, true);
  view.setUint32(20, a.innerMapFd ?? 0, true);
  view.setUint32(24, a.numaNode ?? 0, true);
  if (a.name) putName(bytes, 28, a.name);
  view.setUint32(48, a.btfFd ?? 0, true);
  view.setUint32(52, a.btfKeyTypeId ?? 0, true);
  view.setUint32(56, a.btfValueTypeId ?? 0, true);
  view.setUint32(60, a.btfVmlinuxValueTypeId ?? 0, true);
  view.setBigUint64(64, a.mapExtra ?? 0n, true);
}

function elemAttr(fd: number, key: bigint, value: bigint, flags: bigint): Uint8Array {
  const { bytes, view } = attr();
  view.setUint32(0, fd, true);
  view.setBigUint64(8, key, true);
  view.setBigUint64(16, value, true);
  view.setBigUint64(24, flags, true);
  return bytes;
}

/** Room for an element command's key and for its value, in native memory the kernel is given pointers to. */
const SLOT_ATTR = 64;
const SLOT_KEY_ROOM = 512;
const SLOT_SIZE = 16 << 10;
/** The element commands' attr: map_fd, key, value (or next_key), flags — offsetofend(flags), as libbpf passes. */
const ELEM_ATTR_SIZE = 32;

/**
 * Native room for one element command, kept per Sys for the life of the process: the attr, then the key, then
 * the value. Its addresses are fixed, so a call writes only the attr's words and the key's bytes, and hands
 * the kernel the attr by address (Sys.bpfAt) — the map calls a program's user drives by the million cost
 * what the system call costs.
 */
class ElementSlot {
  private static readonly slots = new WeakMap<Sys, ElementSlot>();
  /** The slot last asked for: nearly always the one Sys of the process, found without a WeakMap lookup. */
  private static last: ElementSlot | undefined;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly attrAt: number;
  // the key's and value's addresses as the attr's u32 halves
  private readonly keyLo: number;
  private readonly keyHi: number;
  private readonly valueLo: number;
  private readonly valueHi: number;

  private constructor(private readonly sys: Sys) {
    const mem = sys.alloc(SLOT_SIZE, "kept"); // never given back: the room is reused for as long as the Sys lives
    this.bytes = mem.bytes;
    this.view = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, SLOT_SIZE);
    this.attrAt = Number(mem.address);
    const keyAt = this.attrAt + SLOT_ATTR;
    const valueAt = keyAt + SLOT_KEY_ROOM;
    this.keyLo = keyAt % 0x100000000;
    this.keyHi = Math.floor(keyAt / 0x100000000);
    this.valueLo = valueAt % 0x100000000;
    this.valueHi = Math.floor(valueAt / 0x100000000);
  }

  /** The Sys's slot, or undefined when a key or value does not fit in it. */
  static of(sys: Sys, keySize: number, valueSize: number): ElementSlot | undefined {
    if (keySize > SLOT_KEY_ROOM || valueSize > SLOT_SIZE - SLOT_ATTR - SLOT_KEY_ROOM) return undefined;
    const last = ElementSlot.last;
    if (last !== undefined && last.sys === sys) return last;
    let slot = ElementSlot.slots.get(sys);
    if (!slot) {
      slot = new ElementSlot(sys);
      ElementSlot.slots.set(sys, slot);
    }
    ElementSlot.last = slot;
    return slot;
  }

  /**
   * bpf(cmd) on map `fd` with `key` (none: NULL, as queues and bloom filters need) and a value: the bytes
   * given, room for that many bytes, or none.
   */
  call(cmd: number, name: string, fd: number, key: Uint8Array | undefined, value: Uint8Array | number | undefined, flags: bigint): number {
    const v = this.view;
    const hasKey = key !== undefined && key.length > 0;
    if (hasKey) copyIn(this.bytes, key, SLOT_ATTR);
    if (value instanceof Uint8Array) copyIn(this.bytes, value, SLOT_ATTR + SLOT_KEY_ROOM);
    v.setUint32(0, fd, true);
    v.setUint32(4, 0, true);
    v.setUint32(8, hasKey ? this.keyLo : 0, true);
    v.setUint32(12, hasKey ? this.keyHi : 0, true);
    v.setUint32(16, value === undefined ? 0 : this.valueLo, true);
    v.setUint32(20, value === undefined ? 0 : this.valueHi, true);
    if (flags === 0n) {
      v.setUint32(24, 0, true);
      v.setUint32(28, 0, true);
    } else v.setBigUint64(24, flags, true);
    return this.sys.bpfAt(cmd, this.attrAt, ELEM_ATTR_SIZE, name);
  }

  /** A copy of the first `size` bytes of the value's room, as the kernel left them. */
  valueOut(size: number): Uint8Array {
    const from = SLOT_ATTR + SLOT_KEY_ROOM;
    if (size > SMALL) return this.bytes.slice(from, from + size);
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = this.bytes[from + i] as number;
    return out;
  }
}

/** Keys and values of map calls are mostly a few bytes, where a loop beats TypedArray.set's and slice's set-up. */
const SMALL = 32;

function copyIn(to: Uint8Array, from: Uint8Array, at: number): void {
  const n = from.length;
  if (n > SMALL) to.set(from, at);
  else for (let i = 0; i < n; i++) to[at + i] = from[i] as number;
}

/**
 * An element command (lookup, update, delete, next key, peek): throws the KernelError of a failure (ENOENT
 * included, for the caller to read); returns the value room's first `out` bytes after it (none for 0). What
 * the slot cannot hold (keys over 512 bytes, values over 15.5 KiB) goes through scratch memory for the call.
 */
function elementCommand(
  sys: Sys,
  cmd: number,
  name: string,
  fd: number,
  key: Uint8Array | undefined,
  value: Uint8Array | number | undefined,
  flags: bigint,
  out = 0,
): Uint8Array | undefined {
  const valueSize = typeof value === "number" ? value : (value?.length ?? 0);
  const slot = ElementSlot.of(sys, key?.length ?? 0, valueSize);
  if (!slot)
    return withNative(sys, [key ?? 0, value ?? 0], ([k, v]) => {
      const keyAddress = key !== undefined && key.length > 0 ? (k as NativeMemory).address : 0n;
      sys.bpf(cmd, elemAttr(fd, keyAddress, value === undefined ? 0n : (v as NativeMemory).address, flags), name);
      return out > 0 ? (v as NativeMemory).bytes.slice(0, out) : undefined;
    });
  slot.call(cmd, name, fd, key, value, flags);
  return out > 0 ? slot.valueOut(out) : undefined;
}

const isEnoent = (e: unknown): boolean => (e as { code?: string }).code === "ENOENT";

/** The value for key, or undefined when the key is absent (ENOENT). */
export function mapLookup(sys: Sys, fd: number, key: Uint8Array, valueSize: number, flags = 0n): Uint8Array | undefined {
  return lookupCommand(sys, BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", fd, key, valueSize, flags);
}

/** A bloom filter's peek: BPF_MAP_LOOKUP_ELEM with no key and the value as input; false on ENOENT. */
export function mapPeekValue(sys: Sys, fd: number, value: Uint8Array): boolean {
  try {
    elementCommand(sys, BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", fd, undefined, value, 0n);
    return true;
  } catch (e) {
    if (isEnoent(e)) return false;
    throw e;
  }
}

/** BPF_MAP_LOOKUP_AND_DELETE_ELEM: a queue's or stack's pop, or a hash element taken out. */
export function mapLookupAndDelete(sys: Sys, fd: number, key: Uint8Array, valueSize: number): Uint8Array | undefined {
  return lookupCommand(sys, BPF_MAP_LOOKUP_AND_DELETE_ELEM, "BPF_MAP_LOOKUP_AND_DELETE_ELEM", fd, key, valueSize, 0n);
}

/** A command that reads into the value room (lookup, lookup-and-delete, next key): undefined on ENOENT. */
function lookupCommand(
  sys: Sys,
  cmd: number,
  name: string,
  fd: number,
  key: Uint8Array | undefined,
  valueSize: number,
  flags: bigint,
): Uint8Array | undefined {
  try {
    return elementCommand(sys, cmd, name, fd, key, valueSize, flags, valueSize) ?? new Uint8Array(0);
  } catch (e) {
    if (isEnoent(e)) return undefined;
    throw e;
  }
}

export function mapUpdate(sys: Sys, fd: number, key: Uint8Array, value: Uint8Array, flags = 0n): void {
  elementCommand(sys, BPF_MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM", fd, key, value, flags);
}

export function mapDelete(sys: Sys, fd: number, key: Uint8Array): void {
  elementCommand(sys, BPF_MAP_DELETE_ELEM, "BPF_MAP_DELETE_ELEM", fd, key, undefined, 0n);
}

/** The key after `key` (or the first key when undefined); undefined at the end. */
export function mapNextKey(sys: Sys, fd: number, key: Uint8Array | undefined, keySize: number): Uint8Array | undefined {
  // the next key is written where a value would go
  return lookupCommand(sys, BPF_MAP_GET_NEXT_KEY, "BPF_MAP_GET_NEXT_KEY", fd, key, keySize, 0n);
}

/**
 * Every key, by BPF_MAP_GET_NEXT_KEY from the first. A hash map changed under the walk may restart it (the
 * kernel answers a key deleted meanwhile with the first key), so it could go on for ever: more keys than the
 * map has entries means that happened, and the walk stops with an error, as cilium/ebpf's MapIterator does.
 */
export function* mapKeys(sys: Sys, fd: number, keySize: number, maxEntries: number, what: string): Generator<Uint8Array> {
  let key: Uint8Array | undefined;
  for (let count = 0; ; count++) {
    key = mapNextKey(sys, fd, key, keySize);
    if (!key) return;
    if (count >= maxEntries)
      throw new KernelError(
        `${what}: walking the keys`,
        11 /* EAGAIN */,
        `aborted after ${count} keys, more than its ${maxEntries} entries: the map changed during the walk`,
      );
    yield key;
  }
}

export function mapFreeze(sys: Sys, fd: number): void {
  const { bytes, view } = attr();
  view.setUint32(0, fd, true);
  sys.bpf(BPF_MAP_FREEZE, bytes, "BPF_MAP_FREEZE");
}

export interface ProgLoadAttr {
  type: number;
  insns: Uint8Array;
  license: string;
  name?: string;
  expectedAttachType?: number;
  kernVersion?: number;
  flags?: number;
  attachBtfId?: number;
  btfFd?: number;
  funcInfo?: { recSize: number; records: Uint8Array; count: number };
  lineInfo?: { recSize: number; records: Uint8Array; count: number };
  /** Bytes for the verifier log; 0 asks for none. */
  logSize: number;
  logLevel: number;
  /**
   * Hold this thread's signals during the call (a load a signal interrupted is made again so). A worker
   * thread's call needs no such care: the signals aimed at the main thread (a profiler's) do not reach it.
   */
  holdSignals?: boolean;
}

/**
 * Where the kernel (6.4 and later) writes the log size a complete log needs; 0 from older kernels, whose log
 * keeps its head when it overflows, where the newer ones rotate it and keep its tail.
 */
const LOG_TRUE_SIZE = 140;

/**
 * One BPF_PROG_LOAD: the fd and the verifier log (the log is also attached to the error, as `log`, on
 * rejection, with `logTrueSize`, the bytes a complete log needs, 0 when the kernel does not say).
 */
export function progLoad(sys: Sys, a: ProgLoadAttr): { fd: number; log: string } {
  return withNative(sys, progLoadArguments(a), (mem) => {
    const { bytes, view } = attr();
    fillProgLoad(view, bytes, a, mem);
    const load = (): number => sys.bpf(BPF_PROG_LOAD, bytes, "BPF_PROG_LOAD");
    try {
      return { fd: a.holdSignals ? sys.withSignalsBlocked(load) : load(), log: readLog(a, mem) };
    } catch (e) {
      throw Object.assign(e as object, { log: readLog(a, mem), logTrueSize: view.getUint32(LOG_TRUE_SIZE, true) });
    }
  });
}

/** progLoad with the kernel's part (verification) on a worker thread. */
export function progLoadAsync(sys: Sys, a: ProgLoadAttr): Promise<{ fd: number; log: string }> {
  return withNativeAsync(sys, progLoadArguments(a), async (mem) => {
    const bytes = new Uint8Array(ATTR_SIZE); // its own: other commands fill the shared one meanwhile
    fillProgLoad(new DataView(bytes.buffer), bytes, a, mem);
    try {
      return { fd: await sys.bpfAsync(BPF_PROG_LOAD, bytes, "BPF_PROG_LOAD"), log: readLog(a, mem) };
    } catch (e) {
      const logTrueSize = new DataView(bytes.buffer).getUint32(LOG_TRUE_SIZE, true);
      throw Object.assign(e as object, { log: readLog(a, mem), logTrueSize });
    }
  });
}

/** What a BPF_PROG_LOAD points into: instructions, license, log room, func_info and line_info records. */
function progLoadArguments(a: ProgLoadAttr): (Uint8Array | number)[] {
  const license = new TextEncoder().encode(`${a.license}\0`);
  return [a.insns, license, a.logSize, a.funcInfo?.records ?? new Uint8Array(0), a.lineInfo?.records ?? new Uint8Array(0)];
}

function fillProgLoad(view: DataView, bytes: Uint8Array, a: ProgLoadAttr, mem: readonly NativeMemory[]): void {
  const [insns, lic, log, funcs, lines] = mem as [NativeMemory, NativeMemory, NativeMemory, NativeMemory, NativeMemory];
  view.setUint32(0, a.type, true);
  view.setUint32(4, a.insns.length / 8, true);
  view.setBigUint64(8, insns.address, true);
  view.setBigUint64(16, lic.address, true);
  view.setUint32(24, a.logSize > 0 ? a.logLevel : 0, true);
  view.setUint32(28, a.logSize, true);
  view.setBigUint64(32, a.logSize > 0 ? log.address : 0n, true);
  view.setUint32(40, a.kernVersion ?? 0, true);
  view.setUint32(44, a.flags ?? 0, true);
  if (a.name) putName(bytes, 48, a.name);
  view.setUint32(68, a.expectedAttachType ?? 0, true);
  view.setUint32(72, a.btfFd ?? 0, true);
  if (a.funcInfo && a.funcInfo.count > 0) {
    view.setUint32(76, a.funcInfo.recSize, true);
    view.setBigUint64(80, funcs.address, true);
    view.setUint32(88, a.funcInfo.count, true);
  }
  if (a.lineInfo && a.lineInfo.count > 0) {
    view.setUint32(92, a.lineInfo.recSize, true);
    view.setBigUint64(96, lines.address, true);
    view.setUint32(104, a.lineInfo.count, true);
  }
  view.setUint32(108, a.attachBtfId ?? 0, true);
}

function readLog(a: ProgLoadAttr, mem: readonly NativeMemory[]): string {
  if (a.logSize === 0) return "";
  const raw = (mem[2] as NativeMemory).bytes;
  const end = raw.indexOf(0);
  return new TextDecoder().decode(raw.subarray(0, end < 0 ? raw.length : end));
}

export interface TestRunResult {
  retval: number;
  duration: number;
  dataOut: Uint8Array;
  ctxOut: Uint8Array;
}

export function progTestRun(
  sys: Sys,
  fd: number,
  opts: { data?: Uint8Array; dataOutSize?: number; ctx?: Uint8Array; ctxOutSize?: number; repeat?: number; flags?: number; cpu?: number },
): TestRunResult {
  const data = opts.data ?? new Uint8Array(0);
  const ctx = opts.ctx ?? new Uint8Array(0);
  const dataOutSize = opts.dataOutSize ?? (data.length > 0 ? data.length + 256 : 0);
  const ctxOutSize = opts.ctxOutSize ?? ctx.length;
  return withNative(sys, [data, dataOutSize, ctx, ctxOutSize], ([din, dout, cin, cout]) => {
    const { bytes, view } = attr();
    view.setUint32(0, fd, true);
    view.setUint32(8, data.length, true);
    view.setUint32(12, dataOutSize, true);
    view.setBigUint64(16, data.length ? (din as NativeMemory).address : 0n, true);
    view.setBigUint64(24, dataOutSize ? (dout as NativeMemory).address : 0n, true);
    view.setUint32(32, opts.repeat ?? 1, true);
    view.setUint32(40, ctx.length, true);
    view.setUint32(44, ctxOutSize, true);
    view.setBigUint64(48, ctx.length ? (cin as NativeMemory).address : 0n, true);
    view.setBigUint64(56, ctxOutSize ? (cout as NativeMemory).address : 0n, true);
    view.setUint32(64, opts.flags ?? 0, true);
    view.setUint32(68, opts.cpu ?? 0, true);
    sys.bpf(BPF_PROG_TEST_RUN, bytes, "BPF_PROG_TEST_RUN");
    const outLen = view.getUint32(12, true);
    const ctxLen = view.getUint32(44, true);
    return {
      retval: view.getUint32(4, true),
      duration: view.getUint32(36, true),
      dataOut: (dout as NativeMemory).bytes.slice(0, Math.min(outLen, dataOutSize)),
      ctxOut: (cout as NativeMemory).bytes.slice(0, Math.min(ctxLen, ctxOutSize)),
    };
  });
}

/** BPF_OBJ_PIN / BPF_OBJ_GET. */
export function objPin(sys: Sys, fd: number, path: string): void {
  explainingPinPath(path, () =>
    withNative(sys, [new TextEncoder().encode(`${path}\0`)], ([p]) => {
      const { bytes, view } = attr();
      view.setBigUint64(0, (p as NativeMemory).address, true);
      view.setUint32(8, fd, true);
      sys.bpf(BPF_OBJ_PIN, bytes, `BPF_OBJ_PIN ${path}`);
    }),
  );
}

export function objGet(sys: Sys, path: string): number {
  return explainingPinPath(path, () =>
    withNative(sys, [new TextEncoder().encode(`${path}\0`)], ([p]) => {
      const { bytes, view } = attr();
      view.setBigUint64(0, (p as NativeMemory).address, true);
      return sys.bpf(BPF_OBJ_GET, bytes, `BPF_OBJ_GET ${path}`);
    }),
  );
}

/** Runs a pin or a pin's opening; a failure the kernel explains poorly gets the reason (see pinPathProblem). */
function explainingPinPath<T>(path: string, call: () => T): T {
  try {
    return call();
  } catch (e) {
    const why = e instanceof KernelError ? pinPathProblem(path, e.code) : undefined;
    throw why ? new KernelError((e as KernelError).operation, (e as KernelError).errno, why) : e;
  }
}

/** Iterates ids with BPF_{PROG,MAP,LINK}_GET_NEXT_ID. */
export function nextIds(sys: Sys, cmd: number, operation: string): number[] {
  const ids: number[] = [];
  let start = 0;
  for (;;) {
    const { bytes, view } = attr();
    view.setUint32(0, start, true);
    try {
      sys.bpf(cmd, bytes, operation);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return ids;
      throw e;
    }
    start = view.getUint32(4, true);
    ids.push(start);
  }
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into a buffer of `size` bytes (struct bpf_prog_info / bpf_map_info …). `extra` native
 * buffers can be pointed at from the info (e.g. xlated_prog_insns) by `prepare`; copies come back with the info.
 */
export function objInfo(
  sys: Sys,
  fd: number,
  size: number,
  prepare?: (info: DataView, extra: readonly NativeMemory[]) => void,
  extra: readonly number[] = [],
): { info: Uint8Array; extra: Uint8Array[] } {
  return withNative(sys, [size, ...extra], (mem) => {
    const info = mem[0] as NativeMemory;
    prepare?.(new DataView(info.bytes.buffer, info.bytes.byteOffset, size), mem.slice(1));
    const { bytes, view } = attr();
    view.setUint32(0, fd, true);
    view.setUint32(4, size, true);
    view.setBigUint64(8, info.address, true);
    sys.bpf(BPF_OBJ_GET_INFO_BY_FD, bytes, "BPF_OBJ_GET_INFO_BY_FD");
    return { info: info.bytes.slice(), extra: mem.slice(1).map((m) => m.bytes.slice()) };
  });
}

export const BPF_MAP_LOOKUP_BATCH = 24;
export const BPF_MAP_UPDATE_BATCH = 26;
export const BPF_MAP_DELETE_BATCH = 27;

/** One BPF_MAP_*_BATCH call over `count` keys/values; returns how many elements it processed and whether it reached the end. */
export function mapBatch(
  sys: Sys,
  cmd: number,
  fd: number,
  mem: { inBatch?: NativeMemory; outBatch?: NativeMemory; keys: NativeMemory; values?: NativeMemory },
  count: number,
  operation: string,
): { count: number; done: boolean } {
  const { bytes, view } = attr();
  view.setBigUint64(0, mem.inBatch?.address ?? 0n, true);
  view.setBigUint64(8, mem.outBatch?.address ?? 0n, true);
  view.setBigUint64(16, mem.keys.address, true);
  view.setBigUint64(24, mem.values?.address ?? 0n, true);
  view.setUint32(32, count, true);
  view.setUint32(36, fd, true);
  try {
    sys.bpf(cmd, bytes, operation);
    return { count: view.getUint32(32, true), done: false };
  } catch (e) {
    // ENOENT: nothing after this batch (the count says how many came with it).
    if ((e as { code?: string }).code === "ENOENT") return { count: view.getUint32(32, true), done: true };
    throw e;
  }
}
