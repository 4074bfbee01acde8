/**
 * Calls and returns (the kernel's check_helper_call, check_func_call and prepare_func_exit): helper arguments
 * checked against the prototype, the caller-saved registers clobbered, R0 typed from the return kind,
 * references acquired and released; bpf-to-bpf calls push a frame, exit pops it or ends the program with the
 * return-value and leaked-reference checks.
 */

import { HELPER_NAMES } from "../helpers/names.js";
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { checkRegRead } from "./alu.js";
import { UNTRUSTED_MEM } from "./btf-access.js";
import { callCallback } from "./callbacks.js";
import type { Env } from "./env.js";
import { type ArgKind, helperAllowed, helperProto } from "./helpers.js";
import { kernelStructId, kernelTypeName, structAccessAt } from "./kernel-btf.js";
import { constString, mapField, spinLock } from "./map-fields.js";
import { checkMapHelper, checkMapWritable, helperName, MAP_TYPE } from "./map-helpers.js";
import { checkAlignment, checkCtxOff, checkHelperMem, constStackKey } from "./memory.js";
import { kindName, stateLine } from "./print.js";
import { printfFormatOk } from "./printf-format.js";
import { type GlobalFunction, markNotInit, markPointer, markUnknown, type Reg, syncBounds, type VerifierMap } from "./reg.js";
import { type CallbackRange, entryFrame, updateRegs } from "./state.js";
import { S64_MAX, S64_MIN, tnumIsConst, tnumText } from "./tnum.js";

/** Arrays whose lookup with a constant key in range cannot fail: the kernel returns a plain map value. */
const ELIDES_NULL: ReadonlySet<number> = new Set([2, 6]);

interface CallMeta {
  map?: VerifierMap;
  /** The key, when it is a known constant on the stack (for arrays only). */
  constKey?: bigint;
  ringbufRef?: number;
  allocSize?: number;
  /** The largest size a size argument may have (msize_max_value). */
  sizeMax?: bigint;
  /** The callback's first slot, from a func argument. */
  callback?: number;
  /** The helper being called, and whether it may be given packet memory (its proto's pkt_access). */
  id: number;
  /** The kernel struct its `btf_id` argument points to. */
  btfArg?: string;
  pktAccess: boolean;
}

/** Helpers whose result is at most the size they were given, or an error (do_refine_retval_range). */
const RETURNS_AT_MOST_SIZE: ReadonlySet<number> = new Set([45, 67, 114, 115, 141]);
const MAX_ERRNO = 4095;

/** do_refine_retval_range: what the kernel knows of a few helpers' integer results. */
function refineReturn(env: Env, id: number, r0: Reg, meta: CallMeta): void {
  if (RETURNS_AT_MOST_SIZE.has(id) && meta.sizeMax !== undefined) {
    r0.smax = meta.sizeMax;
    r0.s32max = Number(BigInt.asIntN(32, meta.sizeMax));
    r0.smin = BigInt(-MAX_ERRNO);
    r0.s32min = -MAX_ERRNO;
    syncBounds(r0);
  } else if (id === 8) {
    // get_smp_processor_id: below the number of possible CPUs (nr_cpu_ids).
    const top = env.possibleCpus - 1;
    r0.umin = r0.smin = 0n;
    r0.umax = r0.smax = BigInt(top);
    r0.u32min = r0.s32min = 0;
    r0.u32max = r0.s32max = top;
    syncBounds(r0);
  }
}

function expectType(env: Env, regno: number, r: Reg, expected: string, ok: boolean): void {
  if (!ok) env.reject(`R${regno} type=${kindName(r)} expected=${expected}`);
}

const MEM_KINDS = ["fp", "pkt", "pkt_meta", "map_key", "map_value", "mem", "buf"];
/** Memory a helper may be given: not untrusted kernel memory (not among the kernel's mem_types). */
const helperMemory = (r: Reg): boolean => MEM_KINDS.includes(r.kind) && r.memName !== UNTRUSTED_MEM;
/**
 * The kernel's mem_types, as its "expected=" lists them for a memory argument (a map key or value too). Its
 * last, a trusted BTF pointer, this verifier does not take yet (it cannot size one without vmlinux's BTF).
 */
const MEM_TYPES = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";

function checkArg(env: Env, argno: number, kind: ArgKind, args: readonly ArgKind[], meta: CallMeta): void {
  const regno = argno + 1;
  checkRegRead(env, regno);
  const r = env.cur.regs[regno] as Reg;
  switch (kind) {
    case "any":
      return;
    case "map":
      expectType(env, regno, r, "map_ptr", r.kind === "map_ptr" && !r.maybeNull);
      // bpf_timer_init's map must be the timer's own.
      if (meta.map && r.map !== meta.map)
        env.reject(`timer pointer in R1 map_uid=0 doesn't match map pointer in R${regno} map_uid=0`, "EINVAL");
      if (r.map) meta.map = r.map;
      return;
    case "const_str":
      expectType(env, regno, r, "map_value", r.kind === "map_value" && !r.maybeNull);
      constString(env, regno, r);
      return;
    case "timer":
      expectType(env, regno, r, "map_value", r.kind === "map_value" && !r.maybeNull);
      mapField(env, regno, r, "bpf_timer", (r.map as VerifierMap).timer);
      meta.map = r.map;
      return;
    case "spin_lock":
      expectType(env, regno, r, "map_value, ptr_", r.kind === "map_value" && !r.maybeNull);
      spinLock(env, regno, r, meta.id === 93);
      return;
    case "ctx?":
      if (r.isNull()) return;
      expectType(env, regno, r, "ctx", r.kind === "ctx");
      checkCtxOff(env, regno, r);
      return;
    case "ctx":
      expectType(env, regno, r, "ctx", r.kind === "ctx");
      checkCtxOff(env, regno, r);
      return;
    case "key":
    case "value": {
      if (!meta.map) env.reject(`invalid map_ptr to access map->${kind}`);
      // A sockmap's values are sockets (resolve_map_arg_type).
      if (kind === "value" && (meta.map.type === MAP_TYPE.SOCKMAP || meta.map.type === MAP_TYPE.SOCKHASH)) {
        checkArg(env, argno, "btf_sock_common", args, meta);
        return;
      }
      expectType(env, regno, r, MEM_TYPES, ["fp", "pkt", "pkt_meta", "map_key", "map_value"].includes(r.kind) && !r.maybeNull);
      const size = kind === "key" ? meta.map.keySize : meta.map.valueSize;
      if (size === 0) env.reject("invalid zero-sized read");
      checkHelperMem(env, regno, size, "read", false, meta.pktAccess);
      if (kind === "key" && ELIDES_NULL.has(meta.map.type)) meta.constKey = constStackKey(env, r, size);
      return;
    }
    case "mem":
    case "mem?":
    case "uninit":
    case "uninit?": {
      const nullable = kind.endsWith("?");
      if (nullable && r.isNull()) return;
      expectType(env, regno, r, MEM_TYPES, helperMemory(r) && !r.maybeNull);
      // The size comes in the next argument.
      const next = args[argno + 1];
      if (next !== "size" && next !== "size0")
        checkHelperMem(env, regno, 0, kind.startsWith("uninit") ? "write" : "read", true, meta.pktAccess);
      return;
    }
    case "size":
    case "size0": {
      expectType(env, regno, r, "scalar", r.kind === "scalar");
      const zeroOk = kind === "size0";
      if (r.smin < 0n) env.reject(`R${regno} min value is negative, either use unsigned or 'var &= const'`);
      if (r.umin === 0n && !zeroOk)
        env.reject(`R${regno} invalid zero-sized read: u64=[${BigInt.asIntN(64, r.umin)},${BigInt.asIntN(64, r.umax)}]`);
      if (r.umax >= 1n << 29n) env.reject(`R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
      meta.sizeMax = r.umax;
      const memKind = args[argno - 1] as ArgKind;
      const mem = env.cur.regs[regno - 1] as Reg;
      // A NULL memory argument may only come with a size of 0 (check_helper_mem_access on a scalar).
      if ((memKind === "mem?" || memKind === "uninit?") && mem.kind === "scalar") {
        if (zeroOk && r.umax === 0n) return;
        env.reject(`R${regno - 1} type=scalar expected=fp`);
      }
      checkHelperMem(env, regno - 1, Number(r.umax), memKind.startsWith("uninit") ? "write" : "read", zeroOk, meta.pktAccess);
      return;
    }
    case "long": {
      // An aligned u64 the helper writes (MEM_FIXED_SIZE | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED): any memory.
      expectType(env, regno, r, MEM_TYPES, helperMemory(r) && !r.maybeNull);
      checkHelperMem(env, regno, 8, "write", false, meta.pktAccess);
      checkAlignment(env, r, 0, 8, true);
      return;
    }
    case "ringbuf_mem": {
      expectType(env, regno, r, "ringbuf_mem", r.kind === "mem" && r.memName === "ringbuf_mem" && !r.maybeNull);
      if (r.off !== 0 || !tnumIsConst(r.varOff) || r.varOff.value !== 0n)
        env.reject(`R${regno} must have zero offset when passed to release func or trusted arg to kfunc`);
      meta.ringbufRef = r.refObjId;
      return;
    }
    case "alloc": {
      expectType(env, regno, r, "scalar", r.kind === "scalar");
      if (!tnumIsConst(r.varOff)) env.reject(`R${regno} is not a known constant'`);
      // The kernel keeps the size in 32 bits: a larger constant wraps (to 0, for 0xffffffbf00000000).
      meta.allocSize = Number(r.varOff.value & 0xffffffffn);
      return;
    }
    case "func":
      expectType(env, regno, r, "func", r.kind === "func");
      meta.callback = r.subprog;
      return;
    case "stack?":
      if (r.isNull()) return;
      expectType(env, regno, r, "fp", r.kind === "fp");
      return;
    case "sock_common":
    case "btf_sock_common":
    case "sock": {
      const btf = kind === "btf_sock_common";
      const sock = ["sock", "sock_common", "tcp_sock", "xdp_sock"].includes(r.kind) || (btf && r.kind === "btf_id");
      expectType(env, regno, r, `sock_common, sock, tcp_sock, xdp_sock${btf ? ", ptr_, trusted_ptr_" : ""}`, sock && !r.maybeNull);
      meta.ringbufRef = r.refObjId;
      return;
    }
    case "btf_id": {
      // btf_ptr_types: plain, trusted and RCU-protected BTF pointers of the struct the helper names.
      expectType(env, regno, r, "ptr_, trusted_ptr_, rcu_ptr_", r.kind === "btf_id" && !r.maybeNull && r.btfFlavour !== "untrusted_");
      if (!tnumIsConst(r.varOff) || r.varOff.value !== 0n) env.reject(`variable ptr_ access var_off=${tnumText(r.varOff)} disallowed`);
      if (r.off < 0) env.reject(`negative offset ptr_ ptr R${regno} off=${r.off} disallowed`);
      const want = meta.btfArg ?? "";
      if (!btfStructsMatch(env, r, want)) env.reject(`R${regno} is of type ${r.btfName} but ${want} is expected`);
      return;
    }
    default:
      return;
  }
}

/** check_bpf_snprintf_call: the constant format takes no more arguments than the u64s given. */
function checkSnprintfFormat(env: Env): void {
  const fmt = env.cur.regs[3] as Reg;
  const len = env.cur.regs[5] as Reg;
  const dataLen = Number(len.varOff.value & 0xffffffffn);
  if (dataLen % 8 !== 0) env.reject("bpf_snprintf's data_len is not a multiple of 8", "EINVAL");
  const frozen = (fmt.map as VerifierMap).frozen as Uint8Array;
  const at = fmt.off + Number(BigInt.asIntN(64, fmt.varOff.value));
  if (!printfFormatOk(frozen.subarray(at), dataLen / 8)) env.reject("Invalid format string", "EINVAL");
}

/** btf_struct_ids_match: the pointer's struct is `want`, or holds one at its offset as its first member. */
function btfStructsMatch(env: Env, r: Reg, want: string): boolean {
  if (r.off === 0 && r.btfName === want) return true;
  const btf = env.kernelBtf;
  if (!btf) return false;
  let id = r.btfId || kernelStructId(btf, r.btfName);
  let off = r.off;
  for (let depth = 0; id !== 0 && depth < 32; depth++) {
    const walked = structAccessAt(btf, id, off);
    if (walked === undefined) return false;
    if (kernelTypeName(btf, walked) === want) return true;
    id = walked;
    off = 0;
  }
  return false;
}

export function checkHelperCall(env: Env, i: Instruction): void {
  const id = i.imm;
  // Under a spin lock only the unlock (and kptr_xchg) may be called.
  if (env.cur.lock && id !== 94 && id !== 194) env.reject("function calls are not allowed while holding a lock", "EINVAL");
  const proto = helperProto(env.type, id);
  const allowed = helperAllowed(env.type, id, env.attachType);
  if (id < 0 || (id >= HELPER_NAMES.length && allowed !== true)) env.reject(`invalid func unknown#${id}`, "EINVAL");
  if (allowed === false || id === 0) env.reject(`program of this type cannot use helper ${helperName(id)}#${id}`, "EINVAL");
  if (!proto) env.reject(`this verifier does not know helper ${helperName(id)}#${id} yet`, "EINVAL");
  if (allowed === undefined) env.reject(`this verifier does not know which helpers ${env.type} programs may call`, "EINVAL");
  if (proto.gplOnly && !env.gpl) env.reject("cannot call GPL-restricted function from non-GPL compatible program", "EINVAL");
  const meta: CallMeta = { id, pktAccess: proto.pktAccess === true, ...(proto.btfArg ? { btfArg: proto.btfArg } : {}) };
  proto.args.forEach((kind, n) => {
    checkArg(env, n, kind, proto.args, meta);
  });
  if (meta.map) checkMapWritable(env, meta.map, id);
  if (id === 165) checkSnprintfFormat(env);
  if (id === 12 && meta.map?.type !== MAP_TYPE.PROG_ARRAY) env.reject("expected prog array map for tail call");
  // get_local_storage cannot fail, so it has no flags that could make it.
  if (id === 81) {
    const flags = env.cur.regs[2] as Reg;
    if (!flags.isNull()) env.reject("get_local_storage() doesn't support non-zero flags", "EINVAL");
  }
  // A helper with a callback sets it up first (the kernel checks the map's helpers after the call's effects).
  if (meta.map && meta.callback === undefined) checkMapHelper(env, meta.map, id);
  // A tail call does not come back: what the program holds would never be released.
  if (id === 12) checkResourceLeak(env, "tail_call");
  const cur = env.cur;
  if (proto.releases && meta.ringbufRef !== undefined) {
    const ref = meta.ringbufRef;
    if (!cur.refs.some((r) => r.id === ref)) env.reject(`R1 must be referenced when passed to release function`);
    cur.refs = cur.refs.filter((r) => r.id !== ref);
    updateRegs(
      cur,
      (x) => x.refObjId === ref,
      (x) => markUnknown(x),
    );
  }
  if (meta.callback !== undefined) {
    callCallback(env, id, meta.callback, meta.map);
    if (meta.map) checkMapHelper(env, meta.map, id);
  }
  const regs = cur.regs;
  for (let r = 1; r <= 5; r++) markNotInit(regs[r] as Reg);
  const r0 = regs[0] as Reg;
  switch (proto.ret) {
    case "int":
      markUnknown(r0);
      refineReturn(env, id, r0, meta);
      break;
    case "void":
      markNotInit(r0);
      break;
    case "map_value?":
      if (meta.map?.inner) {
        // A map of maps holds maps: a lookup finds the inner map itself.
        markPointer(r0, "map_ptr");
        r0.map = meta.map.inner;
      } else {
        markPointer(r0, "map_value");
        if (meta.map) r0.map = meta.map;
      }
      // A sockmap holds sockets: a lookup takes a reference to one (is_acquire_function).
      if (id === 1 && (meta.map?.type === MAP_TYPE.SOCKMAP || meta.map?.type === MAP_TYPE.SOCKHASH)) {
        acquire(env, r0);
        break;
      }
      if (
        id === 1 &&
        meta.map &&
        meta.constKey !== undefined &&
        BigInt.asIntN(64, meta.constKey) >= 0n &&
        meta.constKey < BigInt(meta.map.maxEntries)
      ) {
        // A value with a lock keeps an id even when it cannot be NULL: the lock is known by it.
        if (meta.map.spinLock !== undefined) r0.id = env.newId();
        break;
      }
      r0.maybeNull = true;
      r0.id = env.newId();
      break;
    case "ringbuf_mem?":
      markPointer(r0, "mem");
      r0.memName = "ringbuf_mem";
      r0.memSize = meta.allocSize ?? 0;
      acquire(env, r0);
      break;
    case "map_value":
      markPointer(r0, "map_value");
      if (meta.map) r0.map = meta.map;
      break;
    case "sock?":
    case "sock_common?":
    case "tcp_sock?":
      markPointer(r0, proto.ret.slice(0, -1) as "sock" | "sock_common" | "tcp_sock");
      if (proto.acquires) acquire(env, r0);
      else {
        r0.maybeNull = true;
        r0.id = env.newId();
        // A cast holds the reference of what it casts: releasing either releases both.
        if (proto.castsArg) r0.refObjId = meta.ringbufRef ?? 0;
      }
      break;
    case "btf_id":
    case "btf_id?": {
      const ret = proto.btfRet as { name: string; trusted: boolean };
      markPointer(r0, "btf_id");
      r0.btfName = ret.name;
      r0.btfFlavour = ret.trusted ? "trusted_" : "";
      r0.btfId = env.kernelBtf ? kernelStructId(env.kernelBtf, ret.name) : 0;
      if (proto.ret === "btf_id?") {
        r0.maybeNull = true;
        r0.id = env.newId();
        // A cast holds the reference of what it casts (is_ptr_cast_function).
        if (proto.castsArg) r0.refObjId = meta.ringbufRef ?? 0;
      }
      break;
    }
    default:
      markUnknown(r0);
  }
  if (proto.changesPacket) {
    updateRegs(
      cur,
      (x) => x.kind === "pkt" || x.kind === "pkt_meta" || x.kind === "pkt_end",
      (x) => markUnknown(x),
    );
  }
}

/** R0 holds a new reference (maybe NULL) the program must release before it exits. */
function acquire(env: Env, r0: Reg): void {
  r0.maybeNull = true;
  env.newId(); // the kernel numbers the NULL check first, then the reference, which replaces it
  const ref = env.newId();
  r0.id = ref;
  r0.refObjId = ref;
  env.cur.refs = [...env.cur.refs, { id: ref, insn: env.pc }];
}

/** No reference may be held where the program ends (exit, tail call, a failing LD_ABS): each is named. */
export function checkResourceLeak(env: Env, where: string): void {
  // A held lock is named first (check_resource_leak).
  if (env.cur.lock) env.reject(`${where} cannot be used inside bpf_spin_lock-ed region`, "EINVAL");
  const refs = env.cur.refs;
  if (refs.length === 0) return;
  const lines = refs.map((r) => `Unreleased reference id=${r.id} alloc_insn=${r.insn}`);
  env.reject([...lines, `${where} would lead to reference leak`].join("\n"));
}

/**
 * A call of a global function: its arguments are checked against its prototype, and it is assumed to return
 * some scalar (it is verified on its own, once). Returns the slot after the call.
 */
function callGlobal(env: Env, target: number, fn: GlobalFunction): number {
  fn.args.forEach((a, n) => {
    const regno = n + 1;
    checkRegRead(env, regno);
    const r = env.cur.regs[regno] as Reg;
    if (a.kind === "scalar") {
      if (r.kind !== "scalar") env.reject(`R${regno} is not a scalar`);
    } else if (a.kind === "ctx") {
      expectType(env, regno, r, "ctx", r.kind === "ctx");
    } else if (a.kind === "mem") {
      if (r.isNull()) return;
      // The argument may be NULL (the callee checks), so a pointer that may be NULL passes too.
      expectType(env, regno, r, MEM_TYPES, helperMemory(r));
      checkHelperMem(env, regno, a.size, "read", false);
    }
  });
  if (env.logLevel > 0)
    env.trailer.push(`Func#${env.cfg.subprogs.indexOf(target)} ('${fn.name}') is safe for any args that match its prototype`);
  if (!env.calledGlobals.includes(target)) env.calledGlobals.push(target);
  const regs = env.cur.regs;
  for (let r = 1; r <= 5; r++) markNotInit(regs[r] as Reg);
  markUnknown(regs[0] as Reg);
  return env.pc + 1;
}

/** A bpf-to-bpf call: a new frame whose r1-r5 are the caller's. */
export function enterCall(env: Env, i: Instruction): number {
  const cur = env.cur;
  const target = env.pc + 1 + i.imm;
  if (env.cur.lock && env.globalSlots.has(target))
    env.reject("global function calls are not allowed while holding a lock,\nuse static function instead", "EINVAL");
  const global = env.globals.get(target);
  if (global) return callGlobal(env, target, global);
  if (cur.frames.length >= O.MAX_CALL_FRAMES) env.reject(`the call stack of ${cur.frames.length + 1} frames is too deep`, "E2BIG");
  const caller = cur.cur;
  const callee = entryFrame(cur.frames.length, env.pc, target, env.stackDepths);
  for (let r = 1; r <= 5; r++) (callee.regs[r] as Reg).assign((caller.regs[r] as Reg).clone());
  // The caller's r0-r5 are spent by the call (clear_caller_saved_regs); r0 comes back at the exit.
  for (let r = 0; r <= 5; r++) markNotInit(caller.regs[r] as Reg);
  cur.frames.push(callee);
  if (env.logLevel > 0) env.trailer.push("caller:", ` ${stateLine(cur, cur.frames.length - 2)}`, "callee:", ` ${stateLine(cur)}`);
  return target;
}

/** The allowed range of R0 at the main program's exit, per program type (check_return_code). */
function returnRange(env: Env): [number, number] | undefined {
  switch (env.type) {
    case "cgroup_skb":
    case "cgroup_sock":
    case "cgroup_sock_addr":
    case "sock_ops":
    case "cgroup_device":
    case "cgroup_sysctl":
    case "cgroup_sockopt":
    case "netfilter":
      return [0, 1];
    case "sk_lookup":
      return [0, 1];
    case "tracing":
      // An iterator returns 0 or 1 (1 asks to see the object again); fentry/fexit return 0.
      return env.attachType === "trace_iter"
        ? [0, 1]
        : env.attachType === "trace_fentry" || env.attachType === "trace_fexit"
          ? [0, 0]
          : undefined;
    default:
      return undefined;
  }
}

/** exit: returns to the caller (the next slot to run), or ends the path (undefined). */
export function checkExit(env: Env): number | undefined {
  const cur = env.cur;
  // A static subprogram may leave R0 unset: the caller's R0 is then unset too (prepare_func_exit).
  if (cur.frames.length > 1) {
    const callee = cur.cur;
    const r0 = callee.regs[0] as Reg;
    // Any stack pointer, even one into the caller's frame (valid, but the kernel is conservative).
    if (r0.kind === "fp") env.reject("cannot return stack pointer to the caller", "EINVAL");
    if (callee.callback) {
      // The helper gets R0 back, the caller's registers stay as they were at the call, which runs again.
      if (r0.kind !== "scalar") env.reject("R0 not a scalar value");
      checkRange(env, r0, callee.callback, "At callback return");
    }
    const to = callee.callsite + (callee.callback ? 0 : 1);
    const calleeLine = env.logLevel > 0 ? stateLine(cur) : "";
    cur.frames.pop();
    if (!callee.callback) (cur.cur.regs[0] as Reg).assign(r0.clone());
    if (env.logLevel > 0) env.trailer.push("returning from callee:", ` ${calleeLine}`, `to caller at ${to}:`, ` ${stateLine(cur)}`);
    return to;
  }
  checkResourceLeak(env, "BPF_EXIT instruction in main prog");
  checkRegRead(env, 0);
  const async = cur.cur.callback;
  if (async) {
    const r0 = cur.regs[0] as Reg;
    if (r0.kind !== "scalar") env.reject(`At async callback return the register R0 is not a known value (${kindName(r0)})`, "EINVAL");
    checkRange(env, r0, async, "At async callback return");
    return undefined;
  }
  if (cur.global) {
    const r0 = cur.regs[0] as Reg;
    if (r0.kind !== "scalar") env.reject(`At subprogram exit the register R0 is not a scalar value (${kindName(r0)})`);
    return undefined;
  }
  const range = returnRange(env);
  if (range) {
    const r0 = cur.regs[0] as Reg;
    if (r0.kind !== "scalar") env.reject(`At program exit the register R0 is not a known value (${kindName(r0)})`);
    checkRange(env, r0, { min: range[0], max: range[1] }, "At program exit", "EACCES");
  }
  return undefined;
}

/** R0 within the range the program type or the callback allows (verbose_invalid_scalar's words otherwise). */
function checkRange(env: Env, r0: Reg, range: CallbackRange, where: string, errno: "EACCES" | "EINVAL" = "EINVAL"): void {
  if (r0.smin >= BigInt(range.min) && r0.smax <= BigInt(range.max)) return;
  let text = "";
  if (r0.smin > S64_MIN) text += ` smin=${r0.smin}`;
  if (r0.smax < S64_MAX) text += ` smax=${r0.smax}`;
  if (text === "") text = " unknown scalar value";
  env.reject(`${where} the register R0 has${text} should have been in [${range.min}, ${range.max}]`, errno);
}
