/**
 * BLOOM_FILTER as kernel/bpf/bloom_filter.c builds it: a power-of-two bit array of about
 * max_entries * k * 7/5 bits (k = map_extra's hash count, 5 by default), each value setting the k bits
 * jhash gives with seeds seed+0 .. seed+k-1. Peeks answer as the kernel's do, false positives included;
 * the kernel's seed is random unless the map has BPF_F_ZERO_SEED, and the machine's is 0, so with that
 * flag the answers are the kernel's exactly.
 */
import type { MapSpec } from "../object/maps.js";
import { htabHash } from "./jhash.js";
import { BPF_ANY, EINVAL, ENOENT, type MapEnv, VmMap } from "./map.js";

const BITS_PER_LONG = 64;

export class BloomFilterMap extends VmMap {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private readonly hashes: number;

  constructor(spec: MapSpec, env: MapEnv) {
    super(spec, env);
    if (spec.keySize !== 0) this.fail("create", EINVAL, "bloom filters have no keys (key size 0)");
    if (spec.valueSize === 0 || spec.maxEntries === 0) this.fail("create", EINVAL, "value size and max_entries must be > 0");
    const extra = spec.mapExtra ?? 0;
    if (extra & ~0xf) this.fail("create", EINVAL, `map_extra ${extra}: only the low 4 bits (the hash count) may be set`);
    this.hashes = extra || 5;
    // n * k / ln 2 bits, with 7/5 for 1/ln 2, rounded up to a power of two (2^32 bits when that overflows)
    const product = spec.maxEntries * this.hashes;
    const wanted = Math.floor(product / 5) * 7;
    let bits: number;
    if (product > 0xffffffff || wanted > 0xffffffff || wanted > 2 ** 31) bits = 2 ** 32;
    else if (wanted <= BITS_PER_LONG) bits = BITS_PER_LONG;
    else bits = 2 ** Math.ceil(Math.log2(wanted));
    this.mask = (bits - 1) >>> 0;
    this.bits = new Uint32Array(bits / 32);
  }

  private bit(value: Uint8Array, at: number, index: number): number {
    return (htabHash(value, at, this.spec.valueSize, index) & this.mask) >>> 0;
  }

  private test(value: Uint8Array, at: number): boolean {
    for (let i = 0; i < this.hashes; i++) {
      const h = this.bit(value, at, i);
      if (((this.bits[h >>> 5] as number) & (1 << (h & 31))) === 0) return false;
    }
    return true;
  }

  private add(value: Uint8Array, at: number): void {
    for (let i = 0; i < this.hashes; i++) {
      const h = this.bit(value, at, i);
      this.bits[h >>> 5] = (this.bits[h >>> 5] as number) | (1 << (h & 31));
    }
  }

  /** Whether `value` may have been pushed (as the kernel's peek answers). */
  has(value: Uint8Array): boolean {
    this.checkValue(value, "peek");
    return this.test(value, 0);
  }

  push(value: Uint8Array, flags = BPF_ANY): void {
    if (flags !== BPF_ANY) this.fail("push", EINVAL, `flags ${flags}`);
    this.checkValue(value, "push");
    this.add(value, 0);
  }

  get(_key: Uint8Array): Uint8Array | undefined {
    return this.fail("lookup", EINVAL, "use has(value)");
  }

  set(_key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.push(value, Number(flags));
  }

  delete(_key: Uint8Array): void {
    this.fail("delete", EINVAL, "bloom filters cannot forget");
  }

  nextKey(_key: Uint8Array | undefined): Uint8Array | undefined {
    return this.fail("get_next_key", EINVAL, "bloom filters have no keys");
  }

  lookupFromProgram(_keyAddr: number): number {
    return 0;
  }

  pushFromProgram(valueAddr: number, flags: number): number {
    if (flags !== BPF_ANY) return -EINVAL;
    this.add(this.env.memory.bytes, valueAddr);
    return 0;
  }

  peekFromProgram(valueAddr: number): number {
    return this.test(this.env.memory.bytes, valueAddr) ? 0 : -ENOENT;
  }
}
