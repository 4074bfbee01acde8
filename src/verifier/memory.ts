/**
 * Loads, stores and the memory a helper reads or writes (the kernel's check_mem_access and
 * check_helper_mem_access): per pointer kind, the bounds (fixed and variable offsets), alignment, which
 * writes are allowed, and what a load yields. Stack bytes are typed, 8-byte spills keep the register.
 */
import { mapStruct } from "../maps/kernel-struct.js";
import { BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG } from "../object/map-types.js";
import { checkBtfAccess, loadTracingCtx, UNTRUSTED_MEM } from "./btf-access.js";
import { ctxRule } from "./ctx.js";
import type { Env } from "./env.js";
import { loadUnknown, narrowLoad } from "./narrow.js";
import { kindName } from "./print.js";
import { markConstScalar, markPointer, markUnknown, Reg, type VerifierMap } from "./reg.js";
import { sockFieldOk } from "./sock.js";
import { type Frame, STACK_BYTES, STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO } from "./state.js";
import { S64_MIN, s64, tnumAdd, tnumConst, tnumIsAligned, tnumIsConst, tnumText } from "./tnum.js";

/** Offsets this large make pointer arithmetic meaningless (the kernel's BPF_MAX_VAR_OFF). */
export const MAX_VAR_OFF = 1 << 29;
export const MAX_PACKET_OFF = 0xffff;

export type AccessType = "read" | "write";

function stackByteIndex(off: number): number {
  return -off - 1;
}

/** check_generic_ptr_alignment / the packet variant: misaligned accesses are refused when alignment is strict. */
export function checkAlignment(env: Env, reg: Reg, off: number, size: number, strictOnce: boolean): void {
  const strict = env.strictAlignment || strictOnce || reg.kind === "fp";
  if (!strict || size === 1) return;
  const isPkt = reg.kind === "pkt" || reg.kind === "pkt_meta";
  const ipAlign = isPkt ? 2 : 0;
  const at = tnumAdd(reg.varOff, tnumConst(BigInt(ipAlign + reg.off + off)));
  if (tnumIsAligned(at, size)) return;
  const varText = tnumIsConst(reg.varOff) ? s64(reg.varOff.value).toString() : tnumText(reg.varOff);
  if (isPkt) env.reject(`misaligned packet access off ${ipAlign}+${varText}+${reg.off}+${off} size ${size}`);
  const desc: Record<string, string> = {
    fp: "stack ",
    map_value: "value ",
    ctx: "context ",
    sock: "sock ",
    sock_common: "sock_common ",
    tcp_sock: "tcp_sock ",
    flow_keys: "flow keys ",
  };
  env.reject(`misaligned ${desc[reg.kind] ?? ""}access off ${varText}+${reg.off}+${off} size ${size}`);
}

/** Bounds of [min+off, max+off+size) inside [0, memSize): check_mem_region_access. */
function checkRegion(
  env: Env,
  regno: number,
  reg: Reg,
  off: number,
  size: number,
  memSize: number,
  what: (o: number) => string,
  zeroOk: boolean,
): void {
  const inside = (o: number): boolean => o >= 0 && (size > 0 || zeroOk) && o + size <= memSize;
  if (
    reg.smin < 0n &&
    (reg.smin === S64_MIN || reg.smin + BigInt(off) !== BigInt((Number(reg.smin) + off) | 0) || reg.smin + BigInt(off) < 0n)
  ) {
    env.reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  const lo = Number(reg.smin) + off;
  if (!inside(lo)) env.reject(`${what(lo)}\nR${regno} min value is outside of the allowed memory range`);
  if (reg.umax >= BigInt(MAX_VAR_OFF)) env.reject(`R${regno} unbounded memory access, make sure to bounds check any such access`);
  const hi = Number(reg.umax) + off;
  if (!inside(hi)) env.reject(`${what(hi)}\nR${regno} max value is outside of the allowed memory range`);
}

/** sizeof(struct bpf_flow_keys). */
const FLOW_KEYS_SIZE = 56;

/** A map value access of `size` bytes at the pointer's offset + `off` (loads, stores and helpers alike). */
function checkMapValue(env: Env, regno: number, reg: Reg, off: number, size: number, t: AccessType, zeroOk: boolean): void {
  const map = reg.map;
  if (!map) env.reject(`R${regno} invalid mem access 'map_value'`);
  if (t === "write" && (map.frozen || (map.flags & BPF_F_RDONLY_PROG) !== 0))
    env.reject(`write into map forbidden, value_size=${map.valueSize} off=${reg.off + off} size=${size}`);
  if (t === "read" && (map.flags & BPF_F_WRONLY_PROG) !== 0)
    env.reject(`read from map forbidden, value_size=${map.valueSize} off=${reg.off + off} size=${size}`);
  const what = (o: number): string => `invalid access to map value, value_size=${map.valueSize} off=${o} size=${size}`;
  checkRegion(env, regno, reg, reg.off + off, size, map.valueSize, what, zeroOk);
  // A lock's 4 bytes and a timer's 16 are the helpers' alone (check_map_access over the value's special fields).
  const touches = (at: number | undefined, bytes: number): boolean =>
    at !== undefined && reg.smin + BigInt(reg.off + off) < BigInt(at + bytes) && BigInt(at) < reg.umax + BigInt(reg.off + off + size);
  if (touches(map.spinLock, 4)) env.reject("bpf_spin_lock cannot be accessed directly by load/store");
  if (touches(map.timer, 16)) env.reject("bpf_timer cannot be accessed directly by load/store");
}

/** A map key a callback got (bpf_for_each_map_elem): read-only, `keySize` bytes. */
function checkMapKey(env: Env, regno: number, reg: Reg, off: number, size: number, t: AccessType, helper: boolean): void {
  if (t === "write") env.reject(helper ? `R${regno} cannot write into map_key` : `write to change key R${regno} not allowed`);
  const keySize = reg.map?.keySize ?? 0;
  const what = (o: number): string => `invalid access to map key, key_size=${keySize} off=${o} size=${size}`;
  checkRegion(env, regno, reg, reg.off + off, size, keySize, what, false);
}

/** A ctx pointer must be unmodified where it is dereferenced or passed (the kernel's __check_ptr_off_reg). */
export function checkCtxOff(env: Env, regno: number, reg: Reg): void {
  if (reg.off < 0) env.reject(`negative offset ctx ptr R${regno} off=${reg.off} disallowed`);
  if (reg.off !== 0) env.reject(`dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`);
  if (!tnumIsConst(reg.varOff) || reg.varOff.value !== 0n) env.reject(`variable ctx access var_off=${tnumText(reg.varOff)} disallowed`);
}

/** An access of `size` bytes to a sized memory region (ring buffer records, global-function arguments...). */
function checkMem(env: Env, regno: number, reg: Reg, off: number, size: number, t: AccessType, zeroOk: boolean): void {
  if (t === "write" && reg.readOnly) env.reject(`R${regno} cannot write into ${kindName(reg)}`);
  // Untrusted kernel memory is read as a probe read does, at any offset.
  if (reg.memName === UNTRUSTED_MEM) return;
  const what = (o: number): string => `invalid access to memory, mem_size=${reg.memSize} off=${o} size=${size}`;
  checkRegion(env, regno, reg, reg.off + off, size, reg.memSize, what, zeroOk);
}

function stackFrame(env: Env, reg: Reg): Frame {
  return env.cur.frames[reg.frameno] as Frame;
}

/**
 * The stack offset range [lo, hi] an access through a stack pointer may start at, checked against the frame
 * (check_stack_access_within_bounds). A helper's zero-sized access (zeroOk) still needs a pointer into it.
 */
function stackBounds(
  env: Env,
  regno: number,
  reg: Reg,
  off: number,
  size: number,
  t: AccessType,
  zeroOk = false,
): { lo: number; hi: number } {
  const extra = t === "write" ? " write to" : " read from";
  const badSize = size < 0 || (size === 0 && !zeroOk);
  if (tnumIsConst(reg.varOff)) {
    const at = reg.off + off + Number(s64(reg.varOff.value));
    if (at < -STACK_BYTES || at >= 0 || at + size > 0 || badSize) env.reject(`invalid${extra} stack R${regno} off=${at} size=${size}`);
    return { lo: at, hi: at };
  }
  if (reg.smax >= BigInt(MAX_VAR_OFF) || reg.smin <= BigInt(-MAX_VAR_OFF))
    env.reject(`invalid unbounded variable-offset${extra} stack R${regno}`);
  const lo = Number(reg.smin) + reg.off + off;
  const hi = Number(reg.smax) + reg.off + off;
  if (lo < -STACK_BYTES || lo >= 0 || hi + size > 0 || badSize) {
    env.reject(`invalid variable-offset${extra} stack R${regno} var_off=${tnumText(reg.varOff)} off=${reg.off + off} size=${size}`);
  }
  return { lo, hi };
}

/** The bytes of slot `s` from index `from` down (the kernel's slot_type order: index 7 is the lowest address). */
function spillSize(frame: Frame, s: number, from = 7): number {
  let n = 0;
  for (let j = from; j >= 0 && frame.types[s * 8 + j] === STACK_SPILL; j--) n++;
  return n;
}

/**
 * Writes `size` bytes at fp+at. A scalar written at a slot's start is a spill of that size (the kernel keeps
 * its value: a root loader's narrow spills are tracked too), so is a pointer (8 bytes only); anything else
 * becomes plain bytes, and a plain write into a spilled slot leaves all of it plain data.
 */
function stackWrite(frame: Frame, at: number, size: number, spill: Reg | undefined, zero: boolean): void {
  const first = stackByteIndex(at + size - 1);
  const slot = Math.floor(stackByteIndex(at) / 8);
  frame.note(-at);
  if (spill && at % 8 === 0) {
    frame.spills[slot] = spill.clone();
    for (let j = 7; j >= 0; j--) {
      const b = slot * 8 + j;
      if (j >= 8 - size) frame.types[b] = STACK_SPILL;
      else if (frame.types[b] === STACK_SPILL) frame.types[b] = STACK_MISC; // uninitialised and zero bytes stay
    }
    return;
  }
  for (let b = first; b < first + size; b++) {
    const s = b >> 3;
    if (frame.types[s * 8 + 7] === STACK_SPILL) {
      frame.spills[s] = undefined;
      for (let j = 0; j < 8; j++) if (frame.types[s * 8 + j] !== STACK_INVALID) frame.types[s * 8 + j] = STACK_MISC;
    }
    frame.types[b] = zero ? STACK_ZERO : STACK_MISC;
  }
}

/** The scalar a spill write keeps: the value (its id dropped when the spill is narrower than the value). */
function spilledScalar(env: Env, v: Reg, size: number): Reg {
  const fits = v.umax === 0n || v.umax.toString(2).length <= size * 8;
  // The spill and the register stay linked (a bound learned on one holds for the other) when it fits.
  if (fits && v.id === 0 && !tnumIsConst(v.varOff)) v.id = env.newId();
  const copy = v.clone();
  if (!fits) copy.id = 0;
  return copy;
}

function stackRead(env: Env, frame: Frame, at: number, size: number, dst: Reg | undefined): void {
  frame.note(-at);
  const lastByte = stackByteIndex(at);
  const slot = Math.floor(lastByte / 8);
  const spilled = frame.spills[slot];
  if (spilled && frame.types[slot * 8 + 7] === STACK_SPILL) {
    const spilledBytes = spillSize(frame, slot);
    if (size === 8 && spilledBytes === 8) {
      if (dst) dst.assign(spilled.clone());
      return;
    }
    if (spilled.kind !== "scalar") env.reject("invalid size of register fill");
    if (!dst) return;
    if (size <= spilledBytes && at % 8 === 0) {
      // The low bytes of a spilled scalar (little-endian: the slot's start) keep what is known of it.
      if (size === 4 && spilledBytes === 4 && spilled.id === 0 && !tnumIsConst(spilled.varOff) && spilled.umax <= 0xffffffffn)
        spilled.id = env.newId();
      dst.assign(spilled.clone());
      if (spilled.umax.toString(2).length > size * 8) dst.id = 0;
      return;
    }
    let spills = 0;
    let zeros = 0;
    for (let k = 0; k < size; k++) {
      const t = frame.types[lastByte - k];
      if (t === STACK_SPILL) spills++;
      else if (t === STACK_ZERO) zeros++;
    }
    if ((spills === size && spilled.isNull()) || zeros === size) markConstScalar(dst, 0n);
    else markUnknown(dst);
    return;
  }
  let allZero = true;
  const first = stackByteIndex(at + size - 1);
  for (let b = first; b < first + size; b++) if (frame.types[b] !== STACK_ZERO) allZero = false;
  if (!dst) return;
  if (allZero) markConstScalar(dst, 0n);
  else markUnknown(dst);
}

/**
 * The key a map helper gets through `reg`, when it is a known constant on the stack (get_constant_map_key):
 * zero bytes covering the key, or a spilled constant exactly the key's size.
 */
export function constStackKey(env: Env, reg: Reg, keySize: number): bigint | undefined {
  if (reg.kind !== "fp" || !tnumIsConst(reg.varOff)) return undefined;
  const frame = stackFrame(env, reg);
  const byte = stackByteIndex(reg.off + Number(s64(reg.varOff.value)));
  const slot = byte >> 3;
  let zeros = 0;
  for (let j = byte & 7; j >= 0 && frame.types[slot * 8 + j] === STACK_ZERO; j--) zeros++;
  if (zeros >= keySize) return 0n;
  const spilled = frame.spills[slot];
  if (frame.types[slot * 8 + 7] !== STACK_SPILL || spilled?.kind !== "scalar") return undefined;
  if (spillSize(frame, slot, byte & 7) !== keySize || !tnumIsConst(spilled.varOff)) return undefined;
  return spilled.varOff.value;
}

/** Pointer kinds a load or store may go through (others, and any `_or_null`, are "invalid mem access"). */
const MEMORY_KINDS: ReadonlySet<string> = new Set([
  "fp",
  "ctx",
  "map_value",
  "pkt",
  "pkt_meta",
  "mem",
  "map_ptr",
  "sock",
  "sock_common",
  "tcp_sock",
  "xdp_sock",
  "btf_id",
  "tp_buffer",
  "flow_keys",
  "map_key",
  "buf",
]);

export interface MemAccess {
  regno: number;
  off: number;
  size: number;
  t: AccessType;
  /** The register a load writes, or the register a store writes from (undefined for st imm). */
  value?: Reg;
  /** st imm: the value stored. */
  imm?: number;
  /** ldsx */
  signExtend?: boolean;
  atomic?: boolean;
}

/** check_mem_access: one load or store through register `regno`. */
export function checkMemAccess(env: Env, a: MemAccess): void {
  const reg = env.cur.regs[a.regno] as Reg;
  const { off, size, t } = a;
  const load = t === "read" ? a.value : undefined;
  if (reg.maybeNull || !MEMORY_KINDS.has(reg.kind)) env.reject(`R${a.regno} invalid mem access '${kindName(reg)}'`);
  checkAlignment(env, reg, off, size, a.atomic === true);
  switch (reg.kind) {
    case "fp": {
      const frame = stackFrame(env, reg);
      const { lo, hi } = stackBounds(env, a.regno, reg, off, size, t);
      if (t === "write") {
        if (lo === hi) {
          const v = a.value;
          const zero = v ? v.isNull() : a.imm === 0;
          const aligned = lo % 8 === 0;
          if (v?.isPointer() && size !== 8) env.reject("invalid size of register spill");
          // A stack pointer kept in a caller's frame could outlive the frame it points into.
          if (v?.kind === "fp" && frame !== env.cur.cur)
            env.reject("cannot spill pointers to stack into stack frame of the caller", "EINVAL");
          const spill = v?.isPointer()
            ? v
            : v && aligned
              ? spilledScalar(env, v, size)
              : !v && aligned && a.imm !== undefined
                ? constReg(a.imm)
                : undefined;
          stackWrite(frame, lo, size, spill, zero);
        } else {
          for (let at = lo; at <= hi; at++) stackWrite(frame, at, size, undefined, false);
        }
      } else if (lo === hi) {
        stackRead(env, frame, lo, size, load);
        if (load) narrowLoad(load, size, a.signExtend);
      } else {
        frame.note(-lo);
        if (load) {
          markUnknown(load);
          narrowLoad(load, size, a.signExtend);
        }
      }
      break;
    }
    case "ctx": {
      checkCtxOff(env, a.regno, reg);
      if (a.atomic) env.reject(`BPF_ATOMIC stores into R${a.regno} ctx is not allowed`);
      if (env.type === "tracing") {
        loadTracingCtx(env, off, size, t === "write", load);
        return;
      }
      const rule = ctxRule(env.type);
      if (!rule) env.reject(`this verifier does not know the context of ${env.type} programs`);
      const access = rule(off, size, t === "write", env.flags, env.attachType);
      // A sign-extending load cannot give a packet pointer (the kernel's is_ldsx checks per field).
      if (!access || (a.signExtend && access.kind?.startsWith("pkt"))) env.reject(`invalid bpf_context access off=${off} size=${size}`);
      if (load) {
        if (access.kind) {
          markPointer(load, access.kind);
          load.maybeNull = access.maybeNull === true;
          if (access.btf) {
            load.btfName = access.btf.name;
            load.btfFlavour = access.btf.flavour;
          }
          if (access.maybeNull) load.id = env.newId();
        } else loadUnknown(load, size, a.signExtend);
      }
      return;
    }
    case "map_value": {
      checkMapValue(env, a.regno, reg, off, size, t, false);
      const map = reg.map as VerifierMap;
      if (load) {
        const at = reg.off + off + Number(reg.smin);
        if (map.frozen && tnumIsConst(reg.varOff) && size <= 8 && !a.signExtend) {
          let v = 0n;
          for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(map.frozen[at + k] ?? 0);
          markConstScalar(load, v);
        } else loadUnknown(load, size, a.signExtend);
      }
      break;
    }
    case "pkt":
    case "pkt_meta": {
      if (t === "write" && !packetWritable(env.type)) env.reject("cannot write into packet");
      if (a.atomic) env.reject(`BPF_ATOMIC stores into R${a.regno} ${kindName(reg)} is not allowed`);
      checkPacket(env, a.regno, reg, off, size, false);
      if (load) loadUnknown(load, size, a.signExtend);
      break;
    }
    case "mem": {
      checkMem(env, a.regno, reg, off, size, t, false);
      if (load) loadUnknown(load, size, a.signExtend);
      break;
    }
    case "map_key":
      checkMapKey(env, a.regno, reg, off, size, t, false);
      if (load) markUnknown(load);
      break;
    case "map_ptr": {
      if (t === "write") env.reject("only read from bpf_array is supported");
      if (reg.off + off < 0) env.reject(`R${a.regno} is bpf_array invalid negative access: off=${reg.off + off}`);
      const struct = mapStruct(reg.map?.type ?? 0);
      if (reg.off + off + size > struct.size) env.reject(`access beyond struct ${struct.name} at off ${reg.off + off} size ${size}`);
      if (load) markUnknown(load);
      break;
    }
    case "sock":
    case "sock_common":
    case "tcp_sock":
    case "xdp_sock": {
      if (t === "write") env.reject(`R${a.regno} cannot write into ${kindName(reg)}`);
      if (reg.smin < 0n) env.reject(`R${a.regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
      if (!sockFieldOk(reg.kind, reg.off + off, size))
        env.reject(`R${a.regno} invalid ${kindName(reg)} access off=${reg.off + off} size=${size}`);
      if (load) loadUnknown(load, size, a.signExtend);
      break;
    }
    case "btf_id":
      checkBtfAccess(env, a.regno, reg, off, size, t === "write", load, a.signExtend === true);
      break;
    case "flow_keys": {
      // check_flow_keys_access: inside struct bpf_flow_keys.
      const at = reg.off + off;
      if (at < 0 || at + size > FLOW_KEYS_SIZE) env.reject(`invalid access to flow keys off=${at} size=${size}`);
      if (load) markUnknown(load);
      break;
    }
    case "tp_buffer": {
      const at = reg.off + off;
      if (!tnumIsConst(reg.varOff)) env.reject(`R${a.regno} invalid variable buffer offset: off=${off}, var_off=${tnumText(reg.varOff)}`);
      if (at < 0) env.reject(`R${a.regno} invalid tracepoint buffer access: off=${at}, size=${size}`);
      if (load) markUnknown(load);
      break;
    }
    default:
      if (load) markUnknown(load);
  }
}

/** Pointers the kernel rewrites accesses through (ctx fields, sockets, BTF and arena pointers). */
const CONVERTED_KINDS = /^(ctx|sock|sock_common|tcp_sock|xdp_sock|btf_id|arena)\b/;

/**
 * save_aux_ptr_type: the kernel rewrites an access through ctx, a socket or a BTF pointer for that kind, so
 * one instruction may not see such a pointer on one path and another kind on the next. A load that saw both a
 * trusted and an untrusted BTF pointer is kept as untrusted.
 */
export function checkSamePointerKind(env: Env, kind: string, load: boolean): void {
  const prev = env.ptrKinds.get(env.pc);
  if (prev === undefined) env.ptrKinds.set(env.pc, kind);
  else if (prev !== kind && (CONVERTED_KINDS.test(kind) || CONVERTED_KINDS.test(prev))) {
    if (load && kind.startsWith("btf_id") && prev.startsWith("btf_id")) env.ptrKinds.set(env.pc, "btf_id untrusted_");
    else env.reject("same insn cannot be used with different pointers", "EINVAL");
  }
}

/** The pointer kind checkSamePointerKind compares: a BTF pointer's trust counts. */
export function pointerKind(reg: Reg): string {
  return reg.kind === "btf_id" ? `btf_id ${reg.btfFlavour}` : reg.kind;
}

function constReg(imm: number): Reg {
  const r = new Reg();
  markConstScalar(r, BigInt(imm));
  return r;
}

export function packetWritable(type: string): boolean {
  return ["sched_cls", "sched_act", "xdp", "lwt_xmit", "sk_skb", "sk_msg", "cgroup_sockopt"].includes(type);
}

export function checkPacket(env: Env, regno: number, reg: Reg, off: number, size: number, zeroOk: boolean): void {
  if (reg.smin < 0n) env.reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  const at = reg.off + off;
  const ok = at >= 0 && (size > 0 || zeroOk) && at + size <= reg.range;
  if (!ok) {
    env.reject(
      `invalid access to packet, off=${at} size=${size}, R${regno}(id=${reg.id},off=${reg.off},r=${reg.range})\nR${regno} offset is outside of the packet`,
    );
  }
}

/**
 * check_helper_mem_access: a helper reads (or writes, `t`) `size` bytes from the memory register `regno`
 * points to. Root may pass stack it never wrote; a written range becomes plain data.
 */
/**
 * may_access_direct_pkt_data for a helper (or a global function, `pktAccess` undefined): the types with
 * direct packet access let helpers that declare pkt_access at it, reading only where the type only reads.
 */
function helperMayAccessPacket(type: string, t: AccessType, pktAccess: boolean | undefined): boolean {
  const readOnly = ["lwt_in", "lwt_out", "lwt_seg6local", "sk_reuseport", "flow_dissector", "cgroup_skb"].includes(type);
  if (readOnly && t === "write") return false;
  if (readOnly || ["sched_cls", "sched_act", "xdp", "lwt_xmit", "sk_skb", "sk_msg"].includes(type)) return pktAccess ?? true;
  return type === "cgroup_sockopt";
}

export function checkHelperMem(env: Env, regno: number, size: number, t: AccessType, zeroOk: boolean, pktAccess?: boolean): void {
  const reg = env.cur.regs[regno] as Reg;
  switch (reg.kind) {
    case "fp": {
      const frame = stackFrame(env, reg);
      const { lo, hi } = stackBounds(env, regno, reg, 0, size, t, zeroOk);
      frame.note(-lo);
      if (t === "write" && size > 0) for (let at = lo; at <= hi; at++) stackWrite(frame, at, size, undefined, false);
      // Privileged programs may let helpers read stack they never wrote (allow_uninit_stack): nothing to check.
      return;
    }
    case "map_value":
      if (reg.map) checkMapValue(env, regno, reg, 0, size, t, zeroOk);
      return;
    case "pkt":
    case "pkt_meta":
      if (!helperMayAccessPacket(env.type, t, pktAccess)) env.reject("helper access to the packet is not allowed");
      checkPacket(env, regno, reg, 0, size, zeroOk);
      return;
    case "mem":
      checkMem(env, regno, reg, 0, size, t, zeroOk);
      return;
    case "map_key":
      checkMapKey(env, regno, reg, 0, size, t, true);
      return;
    default:
      return;
  }
}
