/**
 * BLOOM_FILTER: push a value, then ask whether it may be present. The kernel hashes with a random seed, so its
 * false positives cannot be reproduced; this one answers exactly (never a false positive), which every
 * program must already accept as a possible answer.
 */
import type { MapSpec } from "../object/maps.js";
import { keyString } from "./hash.js";
import { BPF_ANY, E2BIG, EINVAL, ENOENT, type MapEnv, VmMap } from "./map.js";

export class BloomFilterMap extends VmMap {
  private readonly values = new Set<string>();

  constructor(spec: MapSpec, env: MapEnv) {
    super(spec, env);
    if (spec.keySize !== 0) this.fail("create", EINVAL, "bloom filters have no keys (key size 0)");
    if (spec.valueSize === 0 || spec.maxEntries === 0) this.fail("create", EINVAL, "value size and max_entries must be > 0");
  }

  private valueId(value: Uint8Array): string {
    return keyString(value, 0, value.length);
  }

  /** Whether `value` may have been pushed. */
  has(value: Uint8Array): boolean {
    this.checkValue(value, "peek");
    return this.values.has(this.valueId(value));
  }

  push(value: Uint8Array, flags = BPF_ANY): void {
    if (flags !== BPF_ANY) this.fail("push", EINVAL, `flags ${flags}`);
    this.checkValue(value, "push");
    if (this.values.size >= this.spec.maxEntries && !this.values.has(this.valueId(value))) this.fail("push", E2BIG);
    this.values.add(this.valueId(value));
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
    return this.errnoOf(() => {
      this.push(this.readMemory(valueAddr, this.spec.valueSize), flags);
    });
  }

  peekFromProgram(valueAddr: number): number {
    return this.values.has(this.valueId(this.readMemory(valueAddr, this.spec.valueSize))) ? 0 : -ENOENT;
  }
}
