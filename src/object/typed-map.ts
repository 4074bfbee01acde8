/**
 * Maps with typed keys and values: a view over any backend's byte-level map (the kernel's or the userspace
 * machine's) that encodes and decodes entries with the codecs the map's BTF gives (see btf/codec.ts). Maps
 * without BTF keep Uint8Array keys and values.
 */
import { type BtfValue, btfCodec, indexCodec, rawCodec, type ValueCodec } from "./btf/codec.js";
import type { MapSpec } from "./maps.js";

/** What both backends' maps offer at the byte level. */
export interface ByteMap {
  readonly spec: MapSpec;
  /** Whether values are per CPU (getPerCpu/setPerCpu). */
  readonly perCpu: boolean;
  get(key: Uint8Array): Uint8Array | undefined;
  set(key: Uint8Array, value: Uint8Array, flags?: bigint): void;
  delete(key: Uint8Array): void;
  keys(): Iterable<Uint8Array>;
  getPerCpu(key: Uint8Array): Uint8Array[] | undefined;
  setPerCpu(key: Uint8Array, values: readonly Uint8Array[], flags?: bigint): void;
}

/** array, per-CPU array: keys are u32 indices (global data maps have no key type in BTF). */
const ARRAYS = new Set([2, 6]);

/** The key and value codecs of a map: from its BTF types, or raw bytes when it has none. */
export function mapCodecs(spec: MapSpec): { key: ValueCodec; value: ValueCodec } {
  const codec = (id: number | undefined, size: number, what: string): ValueCodec => {
    if (id === undefined || !spec.btf || size === 0) return rawCodec(size) as ValueCodec;
    const c = btfCodec(spec.btf, id, `map ${spec.name} ${what}`);
    return c.size === size ? c : (rawCodec(size) as ValueCodec);
  };
  const arrayIndex = spec.keyTypeId === undefined && spec.keySize === 4 && ARRAYS.has(spec.type);
  return {
    key: arrayIndex ? indexCodec(spec.btf?.byteOrder !== "big") : codec(spec.keyTypeId, spec.keySize, "key"),
    value: codec(spec.valueTypeId, spec.valueSize, "value"),
  };
}

export class TypedMap<K = BtfValue, V = BtfValue> {
  readonly key: ValueCodec<K>;
  readonly value: ValueCodec<V>;

  constructor(
    readonly raw: ByteMap,
    codecs: { key: ValueCodec; value: ValueCodec } = mapCodecs(raw.spec),
  ) {
    this.key = codecs.key as unknown as ValueCodec<K>;
    this.value = codecs.value as unknown as ValueCodec<V>;
  }

  get(key: K): V | undefined {
    const v = this.raw.get(this.key.encode(key));
    return v && this.value.decode(v);
  }

  set(key: K, value: V, flags?: bigint): void {
    this.raw.set(this.key.encode(key), this.value.encode(value), flags);
  }

  delete(key: K): void {
    this.raw.delete(this.key.encode(key));
  }

  *keys(): Generator<K> {
    for (const k of this.raw.keys()) yield this.key.decode(k);
  }

  *entries(): Generator<[K, V]> {
    for (const k of this.raw.keys()) {
      const v = this.raw.get(k);
      if (v) yield [this.key.decode(k), this.value.decode(v)];
    }
  }

  /** A per-CPU map's values for a key, one per CPU. */
  getPerCpu(key: K): V[] | undefined {
    return this.raw.getPerCpu(this.key.encode(key))?.map((v) => this.value.decode(v));
  }

  setPerCpu(key: K, values: readonly V[], flags?: bigint): void {
    this.raw.setPerCpu(
      this.key.encode(key),
      values.map((v) => this.value.encode(v)),
      flags,
    );
  }
}
