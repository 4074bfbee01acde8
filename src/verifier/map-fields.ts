/**
 * Helper arguments that must point at a special place of a map value: a bpf_spin_lock (taken and released
 * by the path), a bpf_timer, a constant string in .rodata; each where the map's BTF (or frozen contents)
 * says it is, at a constant offset.
 */
import type { Env } from "./env.js";
import { checkHelperMem } from "./memory.js";
import type { Reg, VerifierMap } from "./reg.js";
import { tnumIsConst } from "./tnum.js";

/** check_reg_const_str: a NUL-terminated string at a constant offset of a frozen read-only map (.rodata). */
export function constString(env: Env, regno: number, r: Reg): void {
  const map = r.map as VerifierMap;
  if (!map.frozen) env.reject(`R${regno} does not point to a readonly map'`);
  if (!tnumIsConst(r.varOff)) env.reject(`R${regno} is not a constant address'`);
  // Only arrays have their value at a fixed address; the string runs to the value's end at most.
  if (map.type !== 2) env.reject("no direct value access support for this map type");
  checkHelperMem(env, regno, map.valueSize - r.off, "read", false);
  const at = r.off + Number(BigInt.asIntN(64, r.varOff.value));
  if (!map.frozen.subarray(at, map.valueSize).includes(0)) env.reject("string is not zero-terminated", "EINVAL");
}

/** A map value pointer at the map's `field` (check_map_field_pointer): a constant offset, and the map's BTF says so. */
export function mapField(env: Env, regno: number, r: Reg, field: string, fieldOff: number | undefined): void {
  if (!tnumIsConst(r.varOff)) env.reject(`R${regno} doesn't have constant offset. ${field} has to be at the constant offset`, "EINVAL");
  const map = r.map as VerifierMap;
  if (!map.btf) env.reject(`map '${map.name}' has to have BTF in order to use ${field}`, "EINVAL");
  if (fieldOff === undefined) env.reject(`map '${map.name}' has no valid ${field}`, "EINVAL");
  const at = BigInt.asIntN(64, r.varOff.value) + BigInt(r.off);
  if (at !== BigInt(fieldOff)) env.reject(`off ${at} doesn't point to 'struct ${field}' that is at ${fieldOff}`, "EINVAL");
}

/**
 * bpf_spin_lock and bpf_spin_unlock (process_spin_lock): the lock of a map value, at its constant offset;
 * one lock at a time, released through the same pointer (id) it was taken through.
 */
export function spinLock(env: Env, regno: number, r: Reg, lock: boolean): void {
  const map = r.map as VerifierMap;
  mapField(env, regno, r, "bpf_spin_lock", map.spinLock);
  const cur = env.cur;
  if (lock) {
    if (cur.lock) env.reject("Locking two bpf_spin_locks are not allowed", "EINVAL");
    cur.lock = { id: r.id, map };
    return;
  }
  if (!cur.lock) env.reject("bpf_spin_unlock without taking a lock", "EINVAL");
  if (cur.lock.id !== r.id || cur.lock.map !== map) env.reject("bpf_spin_unlock of different lock", "EINVAL");
  cur.lock = undefined;
}
