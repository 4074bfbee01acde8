/**
 * STACK_TRACE: bpf_get_stackid stores a stack — here the program's own call chain (the pc of the helper call
 * and of every bpf2bpf call below it, as instruction addresses pc * 8), since the machine has no kernel or user
 * stack — under an id that is its hash modulo max_entries, as the kernel does. A different stack already in the
 * bucket makes the call fail with EEXIST unless BPF_F_REUSE_STACKID.
 */
import type { MapSpec } from "../object/maps.js";
import { EEXIST, EFAULT, EINVAL, ENOENT, type MapEnv, VmMap } from "./map.js";

const BPF_F_SKIP_FIELD_MASK = 0xff;
const BPF_F_USER_STACK = 1 << 8;
const BPF_F_FAST_STACK_CMP = 1 << 9;
const BPF_F_REUSE_STACKID = 1 << 10;

export class StackTraceMap extends VmMap {
  private readonly stacks = new Map<number, bigint[]>();
  private readonly depth: number;

  constructor(spec: MapSpec, env: MapEnv) {
    super(spec, env);
    if (spec.keySize !== 4) this.fail("create", EINVAL, "stack ids are 4 bytes");
    if (spec.valueSize === 0 || spec.valueSize % 8 !== 0) this.fail("create", EINVAL, "values hold 8-byte addresses");
    this.depth = spec.valueSize / 8;
  }

  /** bpf_get_stackid: the id of `chain` (pcs, innermost first), or a negative errno. */
  stackId(chain: readonly number[], flags: number): number {
    if (flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID)) return -EINVAL;
    if (flags & BPF_F_USER_STACK) return -EFAULT; // the machine's programs have no user stack
    const ips = chain.slice(flags & BPF_F_SKIP_FIELD_MASK, (flags & BPF_F_SKIP_FIELD_MASK) + this.depth).map((pc) => BigInt(pc * 8));
    if (ips.length === 0) return -EFAULT;
    let hash = 0x811c9dc5;
    for (const ip of ips) hash = Math.imul(hash ^ Number(ip & 0xffffffffn), 0x01000193) >>> 0;
    const id = hash % this.spec.maxEntries;
    const there = this.stacks.get(id);
    const same = there !== undefined && there.length === ips.length && there.every((v, i) => v === ips[i]);
    if (there && !same && !(flags & BPF_F_REUSE_STACKID)) return -EEXIST;
    this.stacks.set(id, ips);
    return id;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key, "lookup");
    const ips = this.stacks.get(new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true));
    if (!ips) return undefined;
    const out = new Uint8Array(this.spec.valueSize);
    const v = new DataView(out.buffer);
    ips.forEach((ip, i) => {
      v.setBigUint64(i * 8, ip, true);
    });
    return out;
  }

  set(): void {
    this.fail("update", EINVAL, "stacks are stored by bpf_get_stackid");
  }

  delete(key: Uint8Array): void {
    this.checkKey(key, "delete");
    if (!this.stacks.delete(new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true))) this.fail("delete", ENOENT);
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const ids = [...this.stacks.keys()].sort((a, b) => a - b);
    const after = key === undefined ? -1 : new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    const next = ids.find((id) => id > after);
    if (next === undefined) return undefined;
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, next, true);
    return k;
  }

  lookupFromProgram(keyAddr: number): number {
    void keyAddr;
    return 0; // programs read stacks with bpf_get_stack, not lookups
  }
}

/** Decodes a stack-trace map value into its instruction pointers (a 0 ends the stack). */
export function stackAddresses(value: Uint8Array): bigint[] {
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: bigint[] = [];
  for (let at = 0; at + 8 <= value.length; at += 8) {
    const ip = v.getBigUint64(at, true);
    if (ip === 0n) break;
    out.push(ip);
  }
  return out;
}
