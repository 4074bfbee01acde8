/**
 * What every userspace map shares: its values live in the machine's linear memory (so a lookup from a program
 * returns a real address), user space reads and writes them as bytes through the same ByteMap interface the
 * kernel backend's maps offer, and failures carry the kernel's errno (ENOENT, EEXIST, E2BIG, EINVAL…).
 */
import { TsbpfError } from "../errors.js";
import type { Memory } from "../exec/memory.js";
import type { BtfValue } from "../object/btf/codec.js";
import type { MapSpec } from "../object/maps.js";
import { type ByteMap, TypedMap } from "../object/typed-map.js";
import { MAP_FIELD, mapStruct } from "./kernel-struct.js";

// Linux's errno numbers, whatever OS the machine runs on (node:os would give the host's, and no browser has it).
export const ENOENT = 2;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const EOPNOTSUPP = 95;
/** The kernel-internal ENOTSUPP some helpers return (not EOPNOTSUPP). */
export const ENOTSUPP = 524;

const ERRNO_NAMES: Record<number, string> = {
  [ENOENT]: "ENOENT",
  [E2BIG]: "E2BIG",
  [EAGAIN]: "EAGAIN",
  [ENOMEM]: "ENOMEM",
  [EBUSY]: "EBUSY",
  [EEXIST]: "EEXIST",
  [EINVAL]: "EINVAL",
  [ENOSPC]: "ENOSPC",
  [EOPNOTSUPP]: "EOPNOTSUPP",
};

/** A map operation refused as the kernel refuses it: `code` is the errno's name, `errno` its number. */
export class MapError extends TsbpfError {
  constructor(
    readonly map: string,
    readonly operation: string,
    readonly errno: number,
    detail?: string,
  ) {
    const name = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(name, `map ${map} ${operation}: ${name}${detail ? ` (${detail})` : ""}`);
  }
}

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

/** What maps need from the machine they live in. */
export interface MapEnv {
  readonly memory: Memory;
  /** Number of virtual CPUs (per-CPU maps hold one value for each). */
  readonly cpus: number;
  /** The CPU the running program is on (per-CPU lookups from programs use its value). */
  currentCpu(): number;
  /** A new object id (what a kernel fd is to user space: prog array and map-in-map values hold them). */
  nextId(): number;
}

export abstract class VmMap implements ByteMap {
  /** The address programs hold for this map (what lddw with a map reference loads). */
  readonly address: number;
  /** The object id user space puts into prog arrays and map-in-maps, as a kernel fd. */
  readonly id: number;

  constructor(
    readonly spec: MapSpec,
    protected readonly env: MapEnv,
  ) {
    // what a program reads through the map's pointer: the kernel's struct for it (kernel-struct.ts)
    this.address = env.memory.map(`map ${spec.name}`, mapStruct(spec.type).size, false).start;
    this.id = env.nextId();
    const v = env.memory.view;
    v.setUint32(this.address + MAP_FIELD.mapType, spec.type, true);
    v.setUint32(this.address + MAP_FIELD.keySize, spec.keySize, true);
    v.setUint32(this.address + MAP_FIELD.valueSize, spec.valueSize, true);
    v.setUint32(this.address + MAP_FIELD.maxEntries, spec.maxEntries, true);
    v.setUint32(this.address + MAP_FIELD.mapFlags, spec.flags, true);
    v.setUint32(this.address + MAP_FIELD.id, this.id, true);
  }

  get name(): string {
    return this.spec.name;
  }

  private typedView: TypedMap | undefined;

  /** This map with keys and values encoded and decoded as its BTF lays them out (as KernelMap.typed()). */
  typed<K = BtfValue, V = BtfValue>(): TypedMap<K, V> {
    this.typedView ??= new TypedMap(this);
    return this.typedView as unknown as TypedMap<K, V>;
  }

  get perCpu(): boolean {
    return false;
  }

  protected fail(operation: string, errno: number, detail?: string): never {
    throw new MapError(this.name, operation, errno, detail);
  }

  protected checkKey(key: Uint8Array, operation: string): void {
    if (key.length !== this.spec.keySize) this.fail(operation, EINVAL, `key has ${key.length} bytes, the map's keys ${this.spec.keySize}`);
  }

  protected checkValue(value: Uint8Array, operation: string): void {
    if (value.length !== this.spec.valueSize)
      this.fail(operation, EINVAL, `value has ${value.length} bytes, the map's values ${this.spec.valueSize}`);
  }

  protected checkFlags(flags: number, operation: string): void {
    if (flags !== BPF_ANY && flags !== BPF_NOEXIST && flags !== BPF_EXIST && flags !== BPF_F_LOCK)
      this.fail(operation, EINVAL, `flags ${flags}`);
  }

  abstract get(key: Uint8Array): Uint8Array | undefined;
  abstract set(key: Uint8Array, value: Uint8Array, flags?: bigint): void;
  abstract delete(key: Uint8Array): void;
  /** The key after `key` (the first key when `key` is undefined or absent), as BPF_MAP_GET_NEXT_KEY. */
  abstract nextKey(key: Uint8Array | undefined): Uint8Array | undefined;

  *keys(): Generator<Uint8Array> {
    let key = this.nextKey(undefined);
    while (key) {
      yield key;
      key = this.nextKey(key);
    }
  }

  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v) yield [k, v];
    }
  }

  getPerCpu(_key: Uint8Array): Uint8Array[] | undefined {
    return this.fail("getPerCpu", EINVAL, `${this.spec.typeName} is not a per-CPU map`);
  }

  setPerCpu(_key: Uint8Array, _values: readonly Uint8Array[], _flags?: bigint): void {
    this.fail("setPerCpu", EINVAL, `${this.spec.typeName} is not a per-CPU map`);
  }

  // ---- from programs (through helpers): addresses in, kernel-style results out ----

  /**
   * bpf_map_lookup_elem: the value's address, or 0. `mark` false is a walk's look at the element
   * (for_each_map_elem), which leaves an LRU table's reference bits alone as the kernel's walk does.
   */
  abstract lookupFromProgram(keyAddr: number, mark?: boolean): number;

  /** bpf_map_update_elem: 0 or a negative errno. */
  updateFromProgram(keyAddr: number, valueAddr: number, flags: number): number {
    return this.errnoOf(() => {
      this.set(this.readMemory(keyAddr, this.spec.keySize), this.readMemory(valueAddr, this.spec.valueSize), BigInt(flags));
    });
  }

  /** bpf_map_delete_elem: 0 or a negative errno. */
  deleteFromProgram(keyAddr: number): number {
    return this.errnoOf(() => {
      this.delete(this.readMemory(keyAddr, this.spec.keySize));
    });
  }

  /** Bytes of linear memory (a copy). */
  protected readMemory(addr: number, size: number): Uint8Array {
    return this.env.memory.bytes.slice(addr, addr + size);
  }

  protected errnoOf(op: () => void): number {
    try {
      op();
      return 0;
    } catch (e) {
      if (e instanceof MapError) return -e.errno;
      throw e;
    }
  }
}

/** Values are 8-byte aligned in arrays and hash tables, as the kernel lays them out. */
export const stride = (valueSize: number): number => (valueSize + 7) & ~7;
