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
interface ElementRoom {
  /** 0n for none: maps without keys (queues, stacks, bloom filters) must get NULL, not an empty buffer. */
  readonly key: bigint;
  readonly value: bigint;
  /** A copy of the first `size` bytes of the value's room, as the kernel left them. */
  valueOut(size: number): Uint8Array;
}

const SLOT_KEY_ROOM = 512;
const SLOT_SIZE = 16 << 10;

/**
 * Native room for element commands' keys and values, taken once per Sys and kept for the life of the process.
 * Lookups and updates are what users make by the million (polling counters); taking and giving back scratch
 * memory around each one cost a third of a lookup. Nothing runs between filling the room and reading it back
 * (every call here is synchronous), so one room serves every element command.
 */
class ElementSlot implements ElementRoom {
  key = 0n;
  value = 0n;
  private readonly keyAt: bigint;
  private readonly valueAt: bigint;

  private constructor(
    private readonly bytes: Uint8Array,
    address: bigint,
  ) {
    this.keyAt = address;
    this.valueAt = address + BigInt(SLOT_KEY_ROOM);
  }

  private static readonly slots = new WeakMap<Sys, ElementSlot>();

  /** The Sys's room, filled with `key` and `value`; undefined when they do not fit. */
  static filled(sys: Sys, key: Uint8Array | undefined, value: Uint8Array | number | undefined): ElementSlot | undefined {
    const valueSize = typeof value === "number" ? value : (value?.length ?? 0);
    if ((key?.length ?? 0) > SLOT_KEY_ROOM || valueSize > SLOT_SIZE - SLOT_KEY_ROOM) return undefined;
    let slot = ElementSlot.slots.get(sys);
    if (!slot) {
      const mem = sys.alloc(SLOT_SIZE, "kept"); // never given back: the room is reused for as long as the Sys lives
      slot = new ElementSlot(mem.bytes, mem.address);
      ElementSlot.slots.set(sys, slot);
    }
    slot.key = key !== undefined && key.length > 0 ? slot.keyAt : 0n;
    if (slot.key !== 0n) slot.bytes.set(key as Uint8Array, 0);
    slot.value = value === undefined ? 0n : slot.valueAt;
    if (value instanceof Uint8Array) slot.bytes.set(value, SLOT_KEY_ROOM);
    return slot;
  }

  valueOut(size: number): Uint8Array {
    return this.bytes.slice(SLOT_KEY_ROOM, SLOT_KEY_ROOM + size);
  }
}

/**
 * Runs an element command's call with `key` (bytes in; undefined or empty: NULL) and `value` (bytes in, a size
 * of room for the kernel to write, or undefined: NULL) in native memory.
 */
function withElement<T>(sys: Sys, key: Uint8Array | undefined, value: Uint8Array | number | undefined, call: (room: ElementRoom) => T): T {
  const slot = ElementSlot.filled(sys, key, value);
  if (slot) return call(slot);
  return withNative(sys, [key ?? 0, value ?? 0], ([k, v]) =>
    call({
      key: key !== undefined && key.length > 0 ? (k as NativeMemory).address : 0n,
      value: value === undefined ? 0n : (v as NativeMemory).address,
      valueOut: (n) => (v as NativeMemory).bytes.slice(0, n),
    }),
  );
}

/** The value for key, or undefined when the key is absent (ENOENT). */
export function mapLookup(sys: Sys, fd: number, key: Uint8Array, valueSize: number, flags = 0n): Uint8Array | undefined {
  return lookupCommand(sys, BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", fd, key, valueSize, flags);
}

/** A bloom filter's peek: BPF_MAP_LOOKUP_ELEM with no key and the value as input; false on ENOENT. */
export function mapPeekValue(sys: Sys, fd: number, value: Uint8Array): boolean {
  return withElement(sys, undefined, value, (room) => {
    try {
      sys.bpf(BPF_MAP_LOOKUP_ELEM, elemAttr(fd, room.key, room.value, 0n), "BPF_MAP_LOOKUP_ELEM");
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return false;
      throw e;
    }
  });
}

/** BPF_MAP_LOOKUP_AND_DELETE_ELEM: a queue's or stack's pop, or a hash element taken out. */
export function mapLookupAndDelete(sys: Sys, fd: number, key: Uint8Array, valueSize: number): Uint8Array | undefined {
  return lookupCommand(sys, BPF_MAP_LOOKUP_AND_DELETE_ELEM, "BPF_MAP_LOOKUP_AND_DELETE_ELEM", fd, key, valueSize, 0n);
}

function lookupCommand(
  sys: Sys,
  cmd: number,
  name: string,
  fd: number,
  key: Uint8Array,
  valueSize: number,
  flags: bigint,
): Uint8Array | undefined {
  return withElement(sys, key, valueSize, (room) => {
    try {
      sys.bpf(cmd, elemAttr(fd, room.key, room.value, flags), name);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw e;
    }
    return room.valueOut(valueSize);
  });
}

export function mapUpdate(sys: Sys, fd: number, key: Uint8Array, value: Uint8Array, flags = 0n): void {
  withElement(sys, key, value, (room) => sys.bpf(BPF_MAP_UPDATE_ELEM, elemAttr(fd, room.key, room.value, flags), "BPF_MAP_UPDATE_ELEM"));
}

export function mapDelete(sys: Sys, fd: number, key: Uint8Array): void {
  withElement(sys, key, undefined, (room) => sys.bpf(BPF_MAP_DELETE_ELEM, elemAttr(fd, room.key, 0n, 0n), "BPF_MAP_DELETE_ELEM"));
}

/** The key after `key` (or the first key when undefined); undefined at the end. */
export function mapNextKey(sys: Sys, fd: number, key: Uint8Array | undefined, keySize: number): Uint8Array | undefined {
  // the next key is written where a value would go
  return withElement(sys, key, keySize, (room) => {
    try {
      sys.bpf(BPF_MAP_GET_NEXT_KEY, elemAttr(fd, room.key, room.value, 0n), "BPF_MAP_GET_NEXT_KEY");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw e;
    }
    return room.valueOut(keySize);
  });
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
 * One BPF_PROG_LOAD: the fd and the verifier log (the log is also attached to the error, as `log`, on
 * rejection).
 */
export function progLoad(sys: Sys, a: ProgLoadAttr): { fd: number; log: string } {
  return withNative(sys, progLoadArguments(a), (mem) => {
    const { bytes, view } = attr();
    fillProgLoad(view, bytes, a, mem);
    const load = (): number => sys.bpf(BPF_PROG_LOAD, bytes, "BPF_PROG_LOAD");
    try {
      return { fd: a.holdSignals ? sys.withSignalsBlocked(load) : load(), log: readLog(a, mem) };
    } catch (e) {
      throw Object.assign(e as object, { log: readLog(a, mem) });
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
      throw Object.assign(e as object, { log: readLog(a, mem) });
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
