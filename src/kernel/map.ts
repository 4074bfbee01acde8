/**
 * Maps in the kernel, with byte-level get/set/delete/keys/entries (the codecs for BTF-typed keys and values sit
 * on top, shared with the userspace machine's maps).
 */
import { readFileSync } from "node:fs";
import type { BtfValue } from "../object/btf/codec.js";
import { type Btf, parseBtf } from "../object/btf/parse.js";
import { mapTypeName, mapTypeNumber } from "../object/map-types.js";
import type { MapSpec } from "../object/maps.js";
import { type ByteMap, TypedMap } from "../object/typed-map.js";
import {
  BPF_MAP_DELETE_BATCH,
  BPF_MAP_GET_FD_BY_ID,
  BPF_MAP_LOOKUP_BATCH,
  BPF_MAP_UPDATE_BATCH,
  type MapCreateAttr,
  mapBatch,
  mapCreate,
  mapCreateAsync,
  mapDelete,
  mapFreeze,
  mapKeys,
  mapLookup,
  mapLookupAndDelete,
  mapNextKey,
  mapPeekValue,
  mapUpdate,
  objGet,
} from "./bpf.js";
import { KernelError } from "./errors.js";
import { KernelFdObject } from "./fd-object.js";
import { btfBytesById, fdById, kindOfFd, type MapInfo, mapInfo } from "./inventory.js";
import { type Failed, runSteps, runStepsAsync, settle, settleAsync } from "./steps.js";
import { linuxSys, type NativeMemory, type Sys, withNative } from "./sys.js";

export const BPF_ANY = 0n;
export const BPF_NOEXIST = 1n;
export const BPF_EXIST = 2n;

const PERF_EVENT_ARRAY = 4;
/** Per-CPU map types: lookups and updates carry one value per possible CPU, each padded to 8 bytes. */
const PER_CPU = new Set([5, 6, 10, 21]);
const RINGBUF = 27;
const ARRAY = 2;
const BPF_F_MMAPABLE = 0x400;
/** Map types libbpf creates without key/value BTF: their values are fds or have no BTF-checkable layout. */
const NO_BTF = new Set([4, 7, 8, 12, 13, 14, 15, 16, 17, 18, 22, 23, 25, 27, 31]);
const USER_RINGBUF = 31;

export class KernelMap extends KernelFdObject implements ByteMap {
  private constructor(
    fd: number,
    readonly spec: MapSpec,
    sys: Sys,
  ) {
    super(fd, sys);
  }

  protected get label(): string {
    return `map ${this.name}`;
  }

  /**
   * Creates the map a spec describes. `innerMapFd` is the template for map-in-maps; `btfFd` is the object's
   * loaded BTF, which gives the map its key and value types (bpftool then prints entries formatted). A kernel
   * that refuses the map with BTF gets it again without, as libbpf retries.
   */
  static create(spec: MapSpec, opts: MapCreateOptions = {}): KernelMap {
    const sys = opts.sys ?? linuxSys();
    const fd = runSteps(createAttempts(spec, opts), (a) => settle(() => mapCreate(sys, a)));
    return new KernelMap(fd, spec, sys);
  }

  /** `create` with the kernel's part (for a preallocated map, allocating all its elements) on a worker thread. */
  static async createAsync(spec: MapSpec, opts: MapCreateOptions = {}): Promise<KernelMap> {
    const sys = opts.sys ?? linuxSys();
    const fd = await runStepsAsync(createAttempts(spec, opts), (a) => settleAsync(mapCreateAsync(sys, a)));
    return new KernelMap(fd, spec, sys);
  }

  /**
   * Opens a pinned map for `spec`, after checking that it is the same kind of map (type, key and value sizes,
   * entries, flags), as libbpf does before reusing a map pinned by name.
   */
  static openPinned(path: string, spec: MapSpec, opts: { sys?: Sys } = {}): KernelMap {
    const sys = opts.sys ?? linuxSys();
    const fd = objGet(sys, path);
    try {
      const info = mapInfo(sys, fd);
      const want = creationShape(spec);
      const differ = [
        info.type !== mapTypeName(spec.type) ? `type ${info.type}, not ${spec.typeName}` : "",
        info.keySize !== want.keySize ? `key size ${info.keySize}, not ${want.keySize}` : "",
        info.valueSize !== want.valueSize ? `value size ${info.valueSize}, not ${want.valueSize}` : "",
        info.maxEntries !== want.maxEntries ? `max_entries ${info.maxEntries}, not ${want.maxEntries}` : "",
        info.flags !== spec.flags ? `flags 0x${info.flags.toString(16)}, not 0x${spec.flags.toString(16)}` : "",
      ].filter((d) => d !== "");
      if (differ.length > 0) throw new KernelError(`map ${spec.name}`, 22, `the map pinned at ${path} differs: ${differ.join("; ")}`);
      return new KernelMap(fd, spec, sys);
    } catch (e) {
      sys.close(fd);
      throw e;
    }
  }

  /**
   * The map with a kernel id, described by what the kernel says of it (cilium/ebpf's NewMapFromID): for maps
   * this process did not create, e.g. `tsbpf map dump ID`.
   */
  static fromId(id: number, opts: { sys?: Sys } = {}): KernelMap {
    const sys = opts.sys ?? linuxSys();
    return KernelMap.describedByKernel(fdById(sys, BPF_MAP_GET_FD_BY_ID, id, "BPF_MAP_GET_FD_BY_ID"), `map id ${id}`, sys);
  }

  /**
   * The map pinned at `path`, described by what the kernel says of it (cilium/ebpf's LoadPinnedMap); use
   * `openPinned` to insist on a shape.
   */
  static fromPin(path: string, opts: { sys?: Sys } = {}): KernelMap {
    const sys = opts.sys ?? linuxSys();
    const fd = objGet(sys, path);
    const kind = kindOfFd(fd);
    if (kind !== "map") {
      sys.close(fd);
      throw new KernelError(`map ${path}`, 22, `${path} holds a ${kind === "prog" ? "program" : (kind ?? "file")}, not a map`);
    }
    return KernelMap.describedByKernel(fd, `map pinned at ${path}`, sys);
  }

  /** A KernelMap for `fd` (which it then owns), with its shape and BTF as the kernel reports them. */
  private static describedByKernel(fd: number, section: string, sys: Sys): KernelMap {
    try {
      const info = mapInfo(sys, fd);
      const { name, keySize, valueSize, maxEntries, flags } = info;
      const type = mapTypeNumber(info.type);
      const spec: MapSpec = {
        name,
        type,
        typeName: info.type,
        keySize,
        valueSize,
        maxEntries,
        flags,
        pinning: 0,
        section,
        ...kernelBtfTypes(info, sys),
      };
      return new KernelMap(fd, spec, sys);
    } catch (e) {
      sys.close(fd);
      throw e;
    }
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * This map with typed keys and values, encoded and decoded as the map's BTF lays them out (structs as objects,
   * char arrays as strings); Uint8Arrays for maps without BTF.
   */
  typed<K = BtfValue, V = BtfValue>(): TypedMap<K, V> {
    this.typedView ??= new TypedMap(this);
    return this.typedView as unknown as TypedMap<K, V>;
  }

  private typedView: TypedMap | undefined;

  /** Whether values are per CPU (use getPerCpu/setPerCpu). */
  get perCpu(): boolean {
    return PER_CPU.has(this.spec.type);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    this.assertNotPerCpu("get");
    return mapLookup(this.sys, this.fd, this.checkKey(key), this.spec.valueSize);
  }

  /** A per-CPU map's values for a key, one per possible CPU. */
  getPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    this.assertOpen();
    const all = mapLookup(this.sys, this.fd, this.checkKey(key), this.perCpuStride * possibleCpus());
    return all && this.splitPerCpu(all);
  }

  /**
   * Every entry of a per-CPU map with its value on each possible CPU, `chunk` entries per
   * BPF_MAP_LOOKUP_BATCH call where the kernel can batch the map, key by key where it cannot.
   */
  *entriesPerCpu(chunk = 256): Generator<[Uint8Array, Uint8Array[]]> {
    this.assertOpen();
    if (!this.perCpu)
      throw new KernelError(`map ${this.name} entriesPerCpu`, 22, `${this.spec.typeName} holds one value per key: use entries`);
    const refused = yield* this.batches(chunk, this.perCpuStride * possibleCpus(), (v) => this.splitPerCpu(v));
    if (!refused) return;
    for (const k of this.keys()) {
      const values = this.getPerCpu(k);
      if (values) yield [k, values];
    }
  }

  /** A per-CPU map's value on one CPU takes this many bytes of what the kernel hands over (8-byte aligned). */
  private get perCpuStride(): number {
    return (this.spec.valueSize + 7) & ~7;
  }

  /** The values of the CPUs, copied out of what the kernel handed over for one key. */
  private splitPerCpu(all: Uint8Array): Uint8Array[] {
    const stride = this.perCpuStride;
    return Array.from({ length: all.length / stride }, (_, c) => all.slice(c * stride, c * stride + this.spec.valueSize));
  }

  /** Sets a per-CPU map's values for a key, one per possible CPU. */
  setPerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = BPF_ANY): void {
    this.assertOpen();
    const stride = this.perCpuStride;
    const cpus = possibleCpus();
    if (values.length !== cpus)
      throw new KernelError(`map ${this.name} update`, 22, `${values.length} values given, ${cpus} possible CPUs`);
    const all = new Uint8Array(stride * cpus);
    values.forEach((v, c) => {
      if (v.length !== this.spec.valueSize)
        throw new KernelError(`map ${this.name} update`, 22, `value for CPU ${c} has ${v.length} bytes`);
      all.set(v, c * stride);
    });
    mapUpdate(this.sys, this.fd, this.checkKey(key), all, flags);
  }

  set(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    this.assertOpen();
    this.assertNotPerCpu("set");
    if (value.length !== this.spec.valueSize)
      throw new KernelError(`map ${this.name} update`, 22, `value has ${value.length} bytes, the map's values ${this.spec.valueSize}`);
    mapUpdate(this.sys, this.fd, this.checkKey(key), value, flags);
  }

  /** A bloom filter's answer: whether `value` may have been pushed (push with set(empty key, value)). */
  has(value: Uint8Array): boolean {
    this.assertOpen();
    if (value.length !== this.spec.valueSize)
      throw new KernelError(`map ${this.name} peek`, 22, `value has ${value.length} bytes, the map's values ${this.spec.valueSize}`);
    return mapPeekValue(this.sys, this.fd, value);
  }

  /** Takes an element out and returns it: a queue's or stack's pop (key: empty), or a hash element. */
  lookupAndDelete(key: Uint8Array = new Uint8Array(0)): Uint8Array | undefined {
    this.assertOpen();
    // the kernel would hand over a value per CPU, more than the one value's room given to it
    this.assertNotPerCpu("lookupAndDelete", "getPerCpu, then delete");
    return mapLookupAndDelete(this.sys, this.fd, this.checkKey(key), this.spec.valueSize);
  }

  delete(key: Uint8Array): void {
    this.assertOpen();
    mapDelete(this.sys, this.fd, this.checkKey(key));
  }

  /** The key after `key` (the first key when it is undefined); undefined after the last (cilium/ebpf's NextKey). */
  nextKey(key?: Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    return mapNextKey(this.sys, this.fd, key && this.checkKey(key), creationShape(this.spec).keySize);
  }

  /** Every key (a walk that meets more keys than the map holds, because the map changed meanwhile, throws). */
  *keys(): Generator<Uint8Array> {
    this.assertOpen();
    const { keySize, maxEntries } = creationShape(this.spec);
    yield* mapKeys(this.sys, this.fd, keySize, maxEntries, `map ${this.name}`);
  }

  /**
   * Every entry. Maps whose kernel side can batch are read `chunk` entries per BPF_MAP_LOOKUP_BATCH call rather
   * than two calls per entry (a 10,000-entry hash map: 5-27 ms here, against 100-140 key by key); the others
   * key by key.
   */
  *entries(chunk = 256): Generator<[Uint8Array, Uint8Array]> {
    this.assertOpen();
    this.assertNotPerCpu("entries", "entriesPerCpu");
    const refused = yield* this.batches(chunk, this.spec.valueSize, (v) => v.slice());
    if (!refused) return;
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v) yield [k, v];
    }
  }

  /** Every entry through BPF_MAP_LOOKUP_BATCH, `chunk` elements per system call. */
  lookupBatch(chunk = 256): Array<[Uint8Array, Uint8Array]> {
    this.assertOpen();
    this.assertNotPerCpu("lookupBatch", "entriesPerCpu");
    const out: Array<[Uint8Array, Uint8Array]> = [];
    const batches = this.batches(chunk, this.spec.valueSize, (v) => v.slice());
    let step = batches.next();
    for (; !step.done; step = batches.next()) out.push(step.value);
    if (step.value) throw step.value;
    return out;
  }

  /**
   * The entries copied out chunk by chunk (`value` copies a value, `valueSize` bytes as the kernel hands them
   * over). Returns the kernel's refusal, having yielded nothing, when it has no batch lookup for this map.
   */
  private *batches<V>(
    chunk: number,
    valueSize: number,
    value: (bytes: Uint8Array) => V,
  ): Generator<[Uint8Array, V], KernelError | undefined> {
    const { keySize } = this.spec;
    let yielded = false;
    try {
      for (const { count, keys, values } of this.packedBatches(chunk, valueSize)) {
        yielded = true;
        for (let i = 0; i < count; i++)
          yield [keys.slice(i * keySize, (i + 1) * keySize), value(values.subarray(i * valueSize, (i + 1) * valueSize))];
      }
    } catch (e) {
      // no batch operations for this map type (ENOTSUPP), or none in this kernel (EINVAL)
      if (!yielded && e instanceof KernelError && ["ENOTSUPP", "EOPNOTSUPP", "EINVAL"].includes(e.code)) return e;
      throw e;
    }
    return undefined;
  }

  /**
   * Every entry, `chunk` at a time, without a copy: each step is one BPF_MAP_LOOKUP_BATCH call and yields its
   * `count` keys and values packed in native buffers (`keySize` and `valueSize` bytes apart) that are reused
   * by the next step — libbpf's bpf_map_lookup_batch, as an iterator. For dumping big maps at the kernel's rate;
   * `entries()` copies each entry out instead. Throws the kernel's refusal for maps it cannot batch.
   */
  *lookupBatches(chunk = 4096): Generator<{ count: number; keys: Uint8Array; values: Uint8Array }> {
    this.assertOpen();
    this.assertNotPerCpu("lookupBatches", "entriesPerCpu");
    yield* this.packedBatches(chunk, this.spec.valueSize);
  }

  /**
   * BPF_MAP_LOOKUP_BATCH calls, each handed the token the previous one returned. A hash bucket holding more
   * than a chunk is refused with ENOSPC before anything is copied; the chunk then grows.
   */
  private *packedBatches(chunk: number, valueSize: number): Generator<{ count: number; keys: Uint8Array; values: Uint8Array }> {
    const { keySize } = this.spec;
    const tokenSize = Math.max(keySize, 8);
    const tokens = this.sys.alloc(2 * tokenSize, "kept");
    const inBatch = { address: tokens.address, bytes: tokens.bytes.subarray(0, tokenSize), free() {} };
    const outBatch = { address: tokens.address + BigInt(tokenSize), bytes: tokens.bytes.subarray(tokenSize), free() {} };
    let size = chunk;
    let keys = this.sys.alloc(keySize * size, "kept");
    let values = this.sys.alloc(valueSize * size, "kept");
    try {
      for (let first = true; ; ) {
        let r: { count: number; done: boolean };
        try {
          r = mapBatch(
            this.sys,
            BPF_MAP_LOOKUP_BATCH,
            this.fd,
            first ? { outBatch, keys, values } : { inBatch, outBatch, keys, values },
            size,
            "BPF_MAP_LOOKUP_BATCH",
          );
        } catch (e) {
          // a hash bucket holding more than a chunk: refused before anything is copied, so a bigger chunk retries it
          if (!(e instanceof KernelError && e.code === "ENOSPC" && size < 1 << 20)) throw e;
          size *= 2;
          keys.free();
          values.free();
          keys = this.sys.alloc(keySize * size, "kept");
          values = this.sys.alloc(valueSize * size, "kept");
          continue;
        }
        if (r.count > 0)
          yield { count: r.count, keys: keys.bytes.subarray(0, r.count * keySize), values: values.bytes.subarray(0, r.count * valueSize) };
        if (r.done) return;
        inBatch.bytes.set(outBatch.bytes);
        first = false;
      }
    } finally {
      keys.free();
      values.free();
      tokens.free();
    }
  }

  /** Sets many entries with one BPF_MAP_UPDATE_BATCH call. */
  updateBatch(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): void {
    this.assertOpen();
    this.assertNotPerCpu("updateBatch");
    const { keySize, valueSize } = this.spec;
    const keys = new Uint8Array(keySize * entries.length);
    const values = new Uint8Array(valueSize * entries.length);
    entries.forEach(([k, v], i) => {
      keys.set(this.checkKey(k), i * keySize);
      if (v.length !== valueSize) throw new KernelError(`map ${this.name} update`, 22, `value ${i} has ${v.length} bytes`);
      values.set(v, i * valueSize);
    });
    withNative(this.sys, [keys, values], ([k, v]) => {
      mapBatch(
        this.sys,
        BPF_MAP_UPDATE_BATCH,
        this.fd,
        { keys: k as NativeMemory, values: v as NativeMemory },
        entries.length,
        "BPF_MAP_UPDATE_BATCH",
      );
    });
  }

  /** Deletes many keys with one BPF_MAP_DELETE_BATCH call. */
  deleteBatch(keys: readonly Uint8Array[]): void {
    this.assertOpen();
    const all = new Uint8Array(this.spec.keySize * keys.length);
    keys.forEach((k, i) => {
      all.set(this.checkKey(k), i * this.spec.keySize);
    });
    withNative(this.sys, [all], ([k]) => {
      mapBatch(this.sys, BPF_MAP_DELETE_BATCH, this.fd, { keys: k as NativeMemory }, keys.length, "BPF_MAP_DELETE_BATCH");
    });
  }

  /** Makes the map read-only for user space (global .rodata). */
  freeze(): void {
    this.assertOpen();
    mapFreeze(this.sys, this.fd);
    this.frozen = true;
  }

  private frozen = false;
  private mapping: { bytes: Uint8Array; unmap(): void } | undefined;

  /**
   * The values of an array created with BPF_F_MMAPABLE (global data is), as memory shared with the kernel:
   * reads see what programs wrote, writes are seen by programs, with no system call. Valid until the map is
   * closed. A frozen map (.rodata) cannot change any more: it gives a copy, since a store into a read-only
   * mapping would kill the process.
   */
  mmap(): Uint8Array {
    this.assertOpen();
    if (this.spec.type !== ARRAY || !(this.spec.flags & BPF_F_MMAPABLE))
      throw new KernelError(
        `map ${this.name} mmap`,
        22,
        `only arrays created with BPF_F_MMAPABLE can be mapped (this is ${this.spec.typeName})`,
      );
    const length = ((this.spec.valueSize + 7) & ~7) * this.spec.maxEntries;
    if (this.frozen) {
      const mapped = this.sys.mmap(this.fd, length, false, 0);
      const copy = mapped.bytes.slice();
      mapped.unmap();
      return copy;
    }
    this.mapping ??= this.sys.mmap(this.fd, length, true, 0); // the kernel rounds up to whole pages
    return this.mapping.bytes;
  }

  protected override releaseFds(): number[] {
    this.mapping?.unmap();
    return super.releaseFds();
  }

  private checkKey(key: Uint8Array): Uint8Array {
    if (key.length !== this.spec.keySize)
      throw new KernelError(`map ${this.name}`, 22, `key has ${key.length} bytes, the map's keys ${this.spec.keySize}`);
    return key;
  }

  private assertNotPerCpu(what: string, instead = what === "set" ? "setPerCpu" : "getPerCpu"): void {
    if (this.perCpu) throw new KernelError(`map ${this.name} ${what}`, 22, `${this.spec.typeName} holds one value per CPU: use ${instead}`);
  }
}

/** The sizes the kernel is asked for (and reports back), which a spec does not always say literally. */
function creationShape(spec: MapSpec): { keySize: number; valueSize: number; maxEntries: number } {
  // Ring buffers take no key or value size; BTF definitions may still name a value type (libbpf drops it).
  // Perf event arrays always map a CPU index to a perf event fd (4 and 4 bytes), whatever BTF says, and
  // get one slot per possible CPU when max_entries is not given, as libbpf does.
  const ring = spec.type === RINGBUF || spec.type === USER_RINGBUF;
  const perf = spec.type === PERF_EVENT_ARRAY;
  return {
    keySize: ring ? 0 : perf ? 4 : spec.keySize,
    valueSize: ring ? 0 : perf ? 4 : spec.valueSize,
    maxEntries: perf && spec.maxEntries === 0 ? possibleCpus() : spec.maxEntries,
  };
}

/**
 * The BTF that the kernel keeps for a map's key and value, so that a map opened by id decodes its entries
 * (`typed()`) as the map's creator does. None when the map has no BTF, or its BTF cannot be read or parsed
 * (the map then reads as bytes).
 */
function kernelBtfTypes(info: MapInfo, sys: Sys): Pick<MapSpec, "btf" | "keyTypeId" | "valueTypeId"> {
  if (info.btfId === 0 || info.btfValueTypeId === 0) return {};
  let btf: Btf;
  try {
    const bytes = btfBytesById(info.btfId, sys);
    if (!bytes) return {};
    btf = parseBtf(bytes, `BTF id ${info.btfId}`);
  } catch {
    return {}; // e.g. split BTF on top of a module's: the bytes alone do not describe the types
  }
  return { btf, valueTypeId: info.btfValueTypeId, ...(info.btfKeyTypeId !== 0 ? { keyTypeId: info.btfKeyTypeId } : {}) };
}

/** Where the kernel lists its possible CPUs (e.g. "0-1"). */
export const POSSIBLE_CPUS_FILE = "/sys/devices/system/cpu/possible";

/** Number of possible CPUs (POSSIBLE_CPUS_FILE; 1 where there is none). */
export function possibleCpus(): number {
  try {
    const text = readFileSync(POSSIBLE_CPUS_FILE, "utf8").trim();
    let n = 0;
    for (const part of text.split(",")) {
      const [a, b] = part.split("-").map(Number);
      n += b === undefined ? 1 : (b as number) - (a as number) + 1;
    }
    return n;
  } catch {
    return 1;
  }
}

export interface MapCreateOptions {
  innerMapFd?: number;
  btfFd?: number;
  sys?: Sys;
}

/** BPF_MAP_CREATE attempts, one per yield: with the object's BTF for key and value where it applies, then without. */
function* createAttempts(spec: MapSpec, opts: MapCreateOptions): Generator<MapCreateAttr, number, number | Failed> {
  const base = {
    type: spec.type,
    ...creationShape(spec),
    flags: spec.flags,
    name: spec.name,
    ...(opts.innerMapFd !== undefined ? { innerMapFd: opts.innerMapFd } : {}),
    ...(spec.numaNode !== undefined ? { numaNode: spec.numaNode } : {}),
    ...(spec.mapExtra !== undefined ? { mapExtra: BigInt(spec.mapExtra) } : {}),
  };
  if (opts.btfFd !== undefined && !NO_BTF.has(spec.type) && spec.valueTypeId !== undefined) {
    const typed = yield { ...base, btfFd: opts.btfFd, btfKeyTypeId: spec.keyTypeId ?? 0, btfValueTypeId: spec.valueTypeId };
    if (typeof typed === "number") return typed;
    if (!(typed.error instanceof KernelError)) throw typed.error;
  }
  const plain = yield base;
  if (typeof plain === "number") return plain;
  throw plain.error;
}
