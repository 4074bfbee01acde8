/**
 * LPM_TRIE: keys are { u32 prefixlen; u8 data[] } (data in network byte order); a lookup finds the longest
 * stored prefix matching the key's data, looking at no more than the key's own prefixlen bits. As in the
 * kernel, the map must be created with BPF_F_NO_PREALLOC, a full trie refuses new prefixes with ENOSPC, and
 * keys are walked in post-order (a longer prefix before the prefix containing it).
 */
import type { MapSpec } from "../object/maps.js";
import { BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOSPC, type MapEnv, stride, VmMap } from "./map.js";

const BPF_F_NO_PREALLOC = 1;

interface Entry {
  prefixlen: number;
  /** The data as stored (bits past prefixlen kept as given, as the kernel keeps them). */
  key: Uint8Array;
  slot: number;
}

function bit(data: Uint8Array, i: number): number {
  return ((data[i >> 3] as number) >> (7 - (i & 7))) & 1;
}

/** Number of leading bits a and b share, up to `limit`. */
function common(a: Uint8Array, b: Uint8Array, limit: number): number {
  let n = 0;
  while (n < limit && bit(a, n) === bit(b, n)) n++;
  return n;
}

export class LpmTrieMap extends VmMap {
  private readonly maxPrefix: number;
  private readonly values: number;
  private readonly stride: number;
  private readonly entries_ = new Map<string, Entry>();
  private readonly free: number[] = [];

  constructor(spec: MapSpec, env: MapEnv) {
    super(spec, env);
    if (!(spec.flags & BPF_F_NO_PREALLOC)) this.fail("create", EINVAL, "an LPM trie needs BPF_F_NO_PREALLOC");
    if (spec.keySize <= 4 || spec.keySize > 4 + 256) this.fail("create", EINVAL, `key size ${spec.keySize}`);
    if (spec.maxEntries === 0) this.fail("create", EINVAL, "max_entries is 0");
    this.maxPrefix = (spec.keySize - 4) * 8;
    this.stride = stride(spec.valueSize);
    this.values = env.memory.map(`map ${spec.name} values`, this.stride * spec.maxEntries, true).start;
    for (let i = spec.maxEntries - 1; i >= 0; i--) this.free.push(i);
  }

  private parse(key: Uint8Array, operation: string): { prefixlen: number; data: Uint8Array; id: string } {
    this.checkKey(key, operation);
    const prefixlen = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    if (prefixlen > this.maxPrefix) this.fail(operation, EINVAL, `prefixlen ${prefixlen} > ${this.maxPrefix}`);
    const data = key.subarray(4);
    let id = `${prefixlen}/`;
    for (let i = 0; i < prefixlen; i++) id += bit(data, i);
    return { prefixlen, data, id };
  }

  private longestMatch(data: Uint8Array, limit: number): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.entries_.values()) {
      if (e.prefixlen > limit || (best && e.prefixlen <= best.prefixlen)) continue;
      if (common(e.key.subarray(4), data, e.prefixlen) === e.prefixlen) best = e;
    }
    return best;
  }

  /** Longest-prefix lookup, as bpf_map_lookup_elem on the trie. */
  get(key: Uint8Array): Uint8Array | undefined {
    const { prefixlen, data } = this.parse(key, "lookup");
    const e = this.longestMatch(data, prefixlen);
    return e && this.readMemory(this.values + e.slot * this.stride, this.spec.valueSize);
  }

  set(key: Uint8Array, value: Uint8Array, flags = 0n): void {
    const f = Number(flags);
    this.checkFlags(f, "update");
    this.checkValue(value, "update");
    const { id } = this.parse(key, "update");
    let e = this.entries_.get(id);
    if (e && f === BPF_NOEXIST) this.fail("update", EEXIST);
    if (!e && f === BPF_EXIST) this.fail("update", ENOENT);
    if (!e) {
      const slot = this.free.pop();
      if (slot === undefined) this.fail("update", ENOSPC, `the trie is full (${this.spec.maxEntries} prefixes)`);
      e = { prefixlen: 0, key, slot };
      this.entries_.set(id, e);
    }
    e.key = key.slice();
    e.prefixlen = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    this.env.memory.bytes.set(value, this.values + e.slot * this.stride);
  }

  delete(key: Uint8Array): void {
    const { id } = this.parse(key, "delete");
    const e = this.entries_.get(id);
    if (!e) this.fail("delete", ENOENT);
    this.entries_.delete(id);
    this.free.push(e.slot);
  }

  /** Post-order: by data bits, a longer prefix before a prefix that contains it. */
  private ordered(): Entry[] {
    return [...this.entries_.values()].sort((a, b) => {
      const shorter = Math.min(a.prefixlen, b.prefixlen);
      const n = common(a.key.subarray(4), b.key.subarray(4), shorter);
      if (n < shorter) return bit(a.key.subarray(4), n) - bit(b.key.subarray(4), n);
      return b.prefixlen - a.prefixlen;
    });
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const order = this.ordered();
    let at = -1;
    if (key !== undefined && key.length === this.spec.keySize) {
      const prefixlen = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
      if (prefixlen <= this.maxPrefix) {
        const { id } = this.parse(key, "get_next_key");
        const e = this.entries_.get(id);
        at = e ? order.indexOf(e) : -1;
      }
    }
    return order[at + 1]?.key.slice();
  }

  lookupFromProgram(keyAddr: number): number {
    const key = this.readMemory(keyAddr, this.spec.keySize);
    const prefixlen = new DataView(key.buffer).getUint32(0, true);
    const e = this.longestMatch(key.subarray(4), Math.min(prefixlen, this.maxPrefix));
    return e ? this.values + e.slot * this.stride : 0;
  }
}
