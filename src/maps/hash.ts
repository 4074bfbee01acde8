/**
 * Hash maps: HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and HASH_OF_MAPS. Elements are preallocated as
 * the kernel does by default (max_entries value slots in linear memory, so a program's pointer to a value
 * stays valid while the element exists); a full table refuses new keys with E2BIG, except LRU tables, which
 * evict elements exactly as the kernel's LRU lists do (lru.ts): like the kernel, an LRU update takes a new
 * node before it looks at the key (so even a refused update may evict), a replaced element's node is freed,
 * and only a program's lookup marks an element referenced.
 */
import type { MapSpec } from "../object/maps.js";
import { BucketOrder } from "./buckets.js";
import { LruLists } from "./lru.js";
import { BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, ENOMEM, type MapEnv, stride, VmMap } from "./map.js";

/** BPF_F_NO_COMMON_LRU: one LRU list per CPU. */
const BPF_F_NO_COMMON_LRU = 2;

/** A key's bytes as a string (one char per byte): a cheap exact Map key. */
export function keyString(bytes: Uint8Array, start: number, size: number): string {
  let s = "";
  for (let i = 0; i < size; i++) s += String.fromCharCode(bytes[start + i] as number);
  return s;
}

function keyBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export interface HashOptions {
  perCpu?: boolean;
  lru?: boolean;
  /** HASH_OF_MAPS: values are inner map ids; programs get the inner map's address. */
  resolve?: (id: number) => { address: number } | undefined;
}

export class HashMap extends VmMap {
  private readonly values: number;
  private readonly stride: number;
  private readonly copies: number;
  /** key → slot. */
  private readonly slots = new Map<string, number>();
  /** The keys in the order the kernel's table walks them. */
  private readonly order: BucketOrder;
  private readonly free: number[] = [];
  /** LRU tables: the kernel's lists over the slots, and the key each slot holds. */
  private readonly lru: LruLists | undefined;
  private readonly slotKey: (string | undefined)[] = [];
  private readonly resolve: HashOptions["resolve"];

  constructor(spec: MapSpec, env: MapEnv, opts: HashOptions = {}) {
    super(spec, env);
    if (spec.keySize === 0) this.fail("create", EINVAL, "hash keys cannot be empty");
    if (spec.maxEntries === 0) this.fail("create", EINVAL, "max_entries is 0");
    this.copies = opts.perCpu ? env.cpus : 1;
    this.resolve = opts.resolve;
    this.stride = stride(opts.resolve ? 4 : spec.valueSize);
    let slots = spec.maxEntries;
    if (opts.lru) {
      const perCpuLists = (spec.flags & BPF_F_NO_COMMON_LRU) !== 0;
      // the kernel gives every CPU's list the same number of elements: max_entries rounds up to a multiple
      if (perCpuLists) slots = Math.ceil(slots / env.cpus) * env.cpus;
      this.lru = new LruLists(slots, env.cpus, perCpuLists, (slot) => this.evict(slot));
    } else {
      for (let i = slots - 1; i >= 0; i--) this.free.push(i);
    }
    this.values = env.memory.map(`map ${spec.name} values`, this.stride * this.copies * slots, true).start;
    this.order = new BucketOrder(slots, spec.keySize);
  }

  override get perCpu(): boolean {
    return this.copies > 1;
  }

  private at(slot: number, cpu: number): number {
    return this.values + (slot * this.copies + cpu) * this.stride;
  }

  /** The LRU lists' del_from_htab: takes the slot's element out of the table, if it is in it. */
  private evict(slot: number): boolean {
    const k = this.slotKey[slot];
    if (k === undefined) return false;
    this.slots.delete(k);
    this.order.remove(k);
    this.slotKey[slot] = undefined;
    return true;
  }

  /** A new element: at the head of its bucket, as the kernel adds it. */
  private insert(k: string, slot: number): void {
    this.slots.set(k, slot);
    this.slotKey[slot] = k;
    this.order.addFirst(k);
  }

  private remove(k: string, slot: number): void {
    this.slots.delete(k);
    this.order.remove(k);
    if (this.lru) {
      this.slotKey[slot] = undefined;
      this.lru.pushFree(slot);
    } else {
      this.free.push(slot);
    }
  }

  private write(slot: number, values: readonly Uint8Array[]): void {
    const bytes = this.env.memory.bytes;
    for (let c = 0; c < this.copies; c++) {
      const at = this.at(slot, c);
      bytes.fill(0, at, at + this.stride);
      bytes.set(values[c] as Uint8Array, at);
    }
  }

  private store(key: Uint8Array, values: readonly Uint8Array[], flags: number, operation: string): void {
    this.checkKey(key, operation);
    this.checkFlags(flags, operation);
    const k = keyString(key, 0, key.length);
    if (this.lru) {
      this.storeLru(this.lru, k, values, flags, operation);
      return;
    }
    let slot = this.slots.get(k);
    if (slot !== undefined && flags === BPF_NOEXIST) this.fail(operation, EEXIST);
    if (slot === undefined && flags === BPF_EXIST) this.fail(operation, ENOENT);
    if (slot === undefined) {
      slot = this.free.pop();
      if (slot === undefined) this.fail(operation, E2BIG, `the map is full (${this.spec.maxEntries} elements)`);
      this.insert(k, slot);
    } else if (!this.perCpu && flags !== BPF_F_LOCK) {
      // the kernel replaces the element with a new one at the bucket's head (per-CPU and locked updates
      // write in place)
      this.order.moveToFront(k);
    }
    this.write(slot, values);
  }

  /**
   * htab_lru_map_update_elem and its per-CPU twin: a node is taken first (which may evict), then the flags
   * are checked. A replaced element's node goes back; per-CPU values are updated in place.
   */
  private storeLru(lru: LruLists, k: string, values: readonly Uint8Array[], flags: number, operation: string): void {
    if (flags > BPF_EXIST) this.fail(operation, EINVAL, `flags ${flags} (LRU tables take no BPF_F_LOCK)`);
    const cpu = this.env.currentCpu();
    const fresh = this.perCpu && flags === BPF_EXIST ? undefined : lru.popFree(cpu);
    if (fresh === undefined && !(this.perCpu && flags === BPF_EXIST)) this.fail(operation, ENOMEM, "no free LRU node");
    const old = this.slots.get(k);
    const refused = old !== undefined && flags === BPF_NOEXIST ? EEXIST : old === undefined && flags === BPF_EXIST ? ENOENT : 0;
    if (refused) {
      if (fresh !== undefined) lru.pushFree(fresh);
      this.fail(operation, refused);
    }
    if (this.perCpu && old !== undefined) {
      lru.setRef(old);
      this.write(old, values);
      if (fresh !== undefined) lru.pushFree(fresh);
      return;
    }
    const slot = fresh as number;
    this.write(slot, values);
    if (old === undefined) {
      this.insert(k, slot);
      return;
    }
    // the new node takes the old one's place at the head of its bucket; the old one goes back
    this.slots.set(k, slot);
    this.slotKey[slot] = k;
    this.slotKey[old] = undefined;
    this.order.moveToFront(k);
    lru.setRef(slot);
    lru.pushFree(old);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    if (this.perCpu) this.fail("get", EINVAL, `${this.spec.typeName} holds one value per CPU: use getPerCpu`);
    this.checkKey(key, "lookup");
    const slot = this.slots.get(keyString(key, 0, key.length));
    return slot === undefined ? undefined : this.readMemory(this.at(slot, 0), this.resolve ? 4 : this.spec.valueSize);
  }

  set(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    if (this.resolve) {
      if (value.length !== 4) this.fail("update", EINVAL, `values are 4-byte map ids, not ${value.length} bytes`);
      const id = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
      if (!this.resolve(id)) this.fail("update", EINVAL, `no compatible map with id ${id}`);
    } else {
      this.checkValue(value, "update");
    }
    this.store(
      key,
      Array.from({ length: this.copies }, () => value),
      Number(flags),
      "update",
    );
  }

  delete(key: Uint8Array): void {
    this.checkKey(key, "delete");
    const k = keyString(key, 0, key.length);
    const slot = this.slots.get(k);
    if (slot === undefined) this.fail("delete", ENOENT);
    this.remove(k, slot);
  }

  override *keys(): Generator<Uint8Array> {
    for (const k of this.order.all()) yield keyBytes(k);
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const next = this.order.next(key === undefined ? undefined : keyString(key, 0, key.length));
    return next === undefined ? undefined : keyBytes(next);
  }

  override getPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    if (!this.perCpu) return super.getPerCpu(key);
    this.checkKey(key, "lookup");
    const slot = this.slots.get(keyString(key, 0, key.length));
    if (slot === undefined) return undefined;
    return Array.from({ length: this.copies }, (_, c) => this.readMemory(this.at(slot, c), this.spec.valueSize));
  }

  override setPerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0n): void {
    if (!this.perCpu) {
      super.setPerCpu(key, values, flags);
      return;
    }
    if (values.length !== this.copies) this.fail("update", EINVAL, `${values.length} values given, ${this.copies} CPUs`);
    for (const v of values) this.checkValue(v, "update");
    this.store(key, values, Number(flags), "update");
  }

  lookupFromProgram(keyAddr: number, mark = true): number {
    const k = keyString(this.env.memory.bytes, keyAddr, this.spec.keySize);
    const slot = this.slots.get(k);
    if (slot === undefined) return 0;
    if (mark) this.lru?.setRef(slot);
    if (this.resolve) {
      const id = this.env.memory.view.getUint32(this.at(slot, 0), true);
      return this.resolve(id)?.address ?? 0;
    }
    return this.at(slot, this.perCpu ? this.env.currentCpu() : 0);
  }

  /** A program's update: per-CPU tables set only the current CPU's value, as the kernel does. */
  override updateFromProgram(keyAddr: number, valueAddr: number, flags: number): number {
    if (!this.perCpu) return super.updateFromProgram(keyAddr, valueAddr, flags);
    return this.errnoOf(() => {
      const key = this.readMemory(keyAddr, this.spec.keySize);
      const k = keyString(key, 0, key.length);
      const existing = this.slots.get(k);
      const cpu = this.env.currentCpu();
      const values = Array.from({ length: this.copies }, (_, c) =>
        c === cpu || existing === undefined
          ? c === cpu
            ? this.readMemory(valueAddr, this.spec.valueSize)
            : new Uint8Array(this.spec.valueSize)
          : this.readMemory(this.at(existing, c), this.spec.valueSize),
      );
      this.store(key, values, flags, "update");
    });
  }
}
