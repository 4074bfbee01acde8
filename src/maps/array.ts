/**
 * Array maps: BPF_MAP_TYPE_ARRAY (also global data), PERCPU_ARRAY, and the arrays whose values are references
 * — PROG_ARRAY (programs, for tail calls), ARRAY_OF_MAPS (inner maps), and DEVMAP, CPUMAP, XSKMAP,
 * CGROUP_ARRAY and PERF_EVENT_ARRAY slots holding ids. Keys are u32 indices; elements cannot be deleted
 * (EINVAL), except the reference arrays' slots.
 */
import type { MapSpec } from "../object/maps.js";
import { BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, type MapEnv, stride, VmMap } from "./map.js";

function index(key: Uint8Array): number {
  return new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
}

function indexKey(i: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, i, true);
  return k;
}

export class ArrayMap extends VmMap {
  /** Start of the values in linear memory (per-CPU: CPU c's value of element i at (i * cpus + c) * stride). */
  readonly values: number;
  private readonly stride: number;
  private readonly copies: number;

  constructor(spec: MapSpec, env: MapEnv, perCpu = false) {
    super(spec, env);
    if (spec.keySize !== 4) this.fail("create", EINVAL, `array keys are 4 bytes, not ${spec.keySize}`);
    if (spec.maxEntries === 0) this.fail("create", EINVAL, "max_entries is 0");
    this.stride = stride(spec.valueSize);
    this.copies = perCpu ? env.cpus : 1;
    // .rodata is frozen: programs may not store into it
    this.values = env.memory.map(`map ${spec.name} values`, this.stride * this.copies * spec.maxEntries, !spec.readOnly).start;
    if (spec.contents) env.memory.bytes.set(spec.contents.subarray(0, spec.valueSize), this.values);
  }

  override get perCpu(): boolean {
    return this.copies > 1;
  }

  private at(i: number, cpu: number): number {
    return this.values + (i * this.copies + cpu) * this.stride;
  }

  private slot(key: Uint8Array, operation: string): number {
    this.checkKey(key, operation);
    const i = index(key);
    if (i >= this.spec.maxEntries) return -1;
    return i;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    if (this.perCpu) this.fail("get", EINVAL, `${this.spec.typeName} holds one value per CPU: use getPerCpu`);
    const i = this.slot(key, "lookup");
    return i < 0 ? undefined : this.readMemory(this.at(i, 0), this.spec.valueSize);
  }

  set(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    if (this.perCpu) {
      this.setPerCpu(
        key,
        Array.from({ length: this.copies }, () => value),
        flags,
      );
      return;
    }
    this.checkFlags(Number(flags), "update");
    this.checkValue(value, "update");
    const i = this.slot(key, "update");
    if (i < 0) this.fail("update", E2BIG, `index ${index(key)} >= max_entries ${this.spec.maxEntries}`);
    if (Number(flags) === BPF_NOEXIST) this.fail("update", EEXIST, "array elements always exist");
    this.env.memory.bytes.set(value, this.at(i, 0));
  }

  delete(_key: Uint8Array): void {
    this.fail("delete", EINVAL, "array elements cannot be deleted");
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const i = key === undefined ? -1 : index(key);
    if (i >= this.spec.maxEntries || key === undefined) return indexKey(0);
    return i + 1 < this.spec.maxEntries ? indexKey(i + 1) : undefined;
  }

  override getPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    if (!this.perCpu) return super.getPerCpu(key);
    const i = this.slot(key, "lookup");
    if (i < 0) return undefined;
    return Array.from({ length: this.copies }, (_, c) => this.readMemory(this.at(i, c), this.spec.valueSize));
  }

  override setPerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0n): void {
    if (!this.perCpu) {
      super.setPerCpu(key, values, flags);
      return;
    }
    this.checkFlags(Number(flags), "update");
    if (values.length !== this.copies) this.fail("update", EINVAL, `${values.length} values given, ${this.copies} CPUs`);
    for (const v of values) this.checkValue(v, "update");
    const i = this.slot(key, "update");
    if (i < 0) this.fail("update", E2BIG, `index ${index(key)} >= max_entries ${this.spec.maxEntries}`);
    if (Number(flags) === BPF_NOEXIST) this.fail("update", EEXIST, "array elements always exist");
    values.forEach((v, c) => {
      this.env.memory.bytes.set(v, this.at(i, c));
    });
  }

  lookupFromProgram(keyAddr: number): number {
    const i = this.env.memory.view.getUint32(keyAddr, true);
    return i < this.spec.maxEntries ? this.at(i, this.perCpu ? this.env.currentCpu() : 0) : 0;
  }
}

/**
 * Arrays of references: each slot is empty or holds an object id in its first 4 bytes (where the kernel takes
 * an fd: a program, an inner map) or, for DEVMAP, CPUMAP, XSKMAP and CGROUP_ARRAY, the value user space gave
 * (an ifindex, a queue size). Programs cannot look into prog arrays; map-in-maps give the inner map's address.
 */
export class ReferenceArrayMap extends VmMap {
  private readonly slots = new Map<number, Uint8Array>();

  constructor(
    spec: MapSpec,
    env: MapEnv,
    /** Checks an id user space stores (a program of a compatible type, a map like the template). */
    private readonly resolve: (id: number) => { address: number } | undefined,
  ) {
    super(spec, env);
    if (spec.keySize !== 4) this.fail("create", EINVAL, `array keys are 4 bytes, not ${spec.keySize}`);
    if (spec.valueSize < 4) this.fail("create", EINVAL, `values of ${spec.valueSize} bytes cannot hold an id`);
  }

  /** The object id (first 4 bytes of the value) in a slot. */
  idAt(i: number): number | undefined {
    const v = this.slots.get(i);
    return v && index(v);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key, "lookup");
    return this.slots.get(index(key))?.slice();
  }

  set(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.checkKey(key, "update");
    this.checkFlags(Number(flags), "update");
    this.checkValue(value, "update");
    const i = index(key);
    if (i >= this.spec.maxEntries) this.fail("update", E2BIG, `index ${i} >= max_entries ${this.spec.maxEntries}`);
    if (!this.resolve(index(value))) this.fail("update", EINVAL, `no compatible object with id ${index(value)}`);
    this.slots.set(i, value.slice());
  }

  delete(key: Uint8Array): void {
    this.checkKey(key, "delete");
    const i = index(key);
    if (i >= this.spec.maxEntries) this.fail("delete", EINVAL, `index ${i} >= max_entries`);
    if (!this.slots.delete(i)) this.fail("delete", ENOENT);
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const i = key === undefined ? -1 : index(key);
    if (i >= this.spec.maxEntries || key === undefined) return indexKey(0);
    return i + 1 < this.spec.maxEntries ? indexKey(i + 1) : undefined;
  }

  lookupFromProgram(keyAddr: number): number {
    const id = this.idAt(this.env.memory.view.getUint32(keyAddr, true));
    return id === undefined ? 0 : (this.resolve(id)?.address ?? 0);
  }
}
