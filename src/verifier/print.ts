/**
 * Register and stack states in the kernel's log notation (kernel/bpf/log.c): `R1=ctx()`, `R2=fp-8`,
 * `R0=map_value_or_null(id=1,map=m,ks=4,vs=8)`, `R3=scalar(smin=0,smax=umax=255,var_off=(0x0; 0xff))`.
 */
import type { Reg } from "./reg.js";
import { S32_MAX, S32_MIN, U32_MAX } from "./reg.js";
import { type Frame, SLOTS, STACK_CHARS, STACK_SPILL, type VState } from "./state.js";
import { S64_MAX, S64_MIN, tnumIsConst, tnumIsUnknown, tnumText, U64_MAX } from "./tnum.js";

/** The kernel's verbose_snum: small numbers in decimal, others in hex as the unsigned bits of their width. */
const signedText = (v: bigint, bits = 64): string =>
  v >= -32768n && v <= 32767n ? v.toString() : `0x${BigInt.asUintN(bits, v).toString(16)}`;
const unsignedText = (v: bigint): string => (v <= 32767n ? v.toString() : `0x${v.toString(16)}`);

/** The kernel's reg_type_str. */
export function kindName(r: Reg): string {
  const base: Record<string, string> = {
    not_init: "?",
    scalar: "scalar",
    ctx: "ctx",
    map_ptr: "map_ptr",
    map_value: "map_value",
    map_key: "map_key",
    fp: "fp",
    pkt: "pkt",
    pkt_meta: "pkt_meta",
    pkt_end: "pkt_end",
    mem: r.memName,
    sock: "sock",
    sock_common: "sock_common",
    tcp_sock: "tcp_sock",
    xdp_sock: "xdp_sock",
    btf_id: `${r.btfFlavour}ptr_`,
    flow_keys: "flow_keys",
    func: "func",
    tp_buffer: "tp_buffer",
    buf: "buf",
  };
  const name = base[r.kind] ?? r.kind;
  // A BTF pointer's name follows: the kernel writes "ptr_or_null_task_struct".
  if (r.kind === "btf_id") return `${r.btfFlavour}ptr_${r.maybeNull ? "or_null_" : ""}`;
  return `${r.readOnly && r.kind === "mem" ? "rdonly_" : ""}${name}${r.maybeNull ? "_or_null" : ""}`;
}

/** The scalar bounds part: smin=..,smax=..,var_off=.. with equal bounds folded (`smax=umax=255`). */
function boundsText(r: Reg, pointer: boolean): string[] {
  const out: string[] = [];
  const items: Array<[string, string, boolean]> = [
    ["smin", signedText(r.smin), r.smin !== S64_MIN],
    ["smax", signedText(r.smax), r.smax !== S64_MAX],
    ["umin", unsignedText(r.umin), r.umin !== 0n],
    ["umax", unsignedText(r.umax), r.umax !== U64_MAX],
    ["smin32", signedText(BigInt(r.s32min), 32), r.s32min !== S32_MIN],
    ["smax32", signedText(BigInt(r.s32max), 32), r.s32max !== S32_MAX],
    ["umin32", unsignedText(BigInt(r.u32min)), r.u32min !== 0],
    ["umax32", unsignedText(BigInt(r.u32max)), r.u32max !== U32_MAX],
  ];
  // The kernel folds a bound into an earlier one of the same side (mins with mins, maxes with maxes) with the
  // same value, minding signedness of the text.
  const done = new Array<boolean>(items.length).fill(false);
  for (let i = 0; i < items.length; i++) {
    const [name, text, shown] = items[i] as [string, string, boolean];
    if (done[i] || !shown) continue;
    let label = name;
    for (let j = i + 2; j < items.length; j += 2) {
      const [n2, t2, s2] = items[j] as [string, string, boolean];
      if (!done[j] && s2 && t2 === text) {
        label += `=${n2}`;
        done[j] = true;
      }
    }
    if (pointer && /^u?(min|max)/.test(name)) continue;
    out.push(`${label}=${text}`);
  }
  if (!tnumIsUnknown(r.varOff) && !tnumIsConst(r.varOff)) out.push(`var_off=${tnumText(r.varOff)}`);
  else if (pointer && !tnumIsConst(r.varOff)) out.push(`var_off=${tnumText(r.varOff)}`);
  return out;
}

/** A register's value; `frameno` is the frame printed, for stack pointers into another (`fp[0]-8`). */
export function regText(r: Reg, frameno?: number): string {
  if (r.kind === "scalar") {
    if (tnumIsConst(r.varOff)) return signedText(BigInt.asIntN(64, r.varOff.value));
    const b = boundsText(r, false);
    return `scalar(${[...(r.id ? [`id=${r.id}`] : []), ...b].join(",")})`;
  }
  const other = r.kind === "fp" && frameno !== undefined && r.frameno !== frameno ? `[${r.frameno}]` : "";
  if (r.kind === "fp") {
    if (tnumIsConst(r.varOff)) return `fp${other}${r.off + Number(BigInt.asIntN(64, r.varOff.value))}`;
  }
  const parts: string[] = [];
  if (r.id && r.kind !== "fp") parts.push(`id=${r.id}`);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if (r.kind === "map_ptr" || r.kind === "map_value" || r.kind === "map_key") {
    // An inner map (the template of a map of maps) has no name in the kernel.
    if (r.map) parts.push(...(r.map.name && r.map.index >= 0 ? [`map=${r.map.name}`] : []), `ks=${r.map.keySize}`, `vs=${r.map.valueSize}`);
    if (r.off) parts.push(`off=${signedText(BigInt(r.off))}`);
  } else {
    if (r.off) parts.push(`off=${signedText(BigInt(r.off))}`);
    if (r.kind === "pkt" || r.kind === "pkt_meta") parts.push(`r=${r.range}`);
    if (r.kind === "mem") parts.push(`sz=${r.memSize}`);
  }
  if (!tnumIsConst(r.varOff) || r.varOff.value !== 0n) parts.push(...boundsText(r, false));
  // The state line names a BTF pointer's type after its kind (reg_type_str does not).
  return `${kindName(r)}${other}${r.kind === "btf_id" ? r.btfName : ""}(${parts.join(",")})`;
}

function slotText(f: Frame, slot: number): string | undefined {
  let any = false;
  let chars = "";
  for (let j = 0; j < 8; j++) {
    const t = f.types[slot * 8 + j] as number;
    if (t !== 0) any = true;
    chars += STACK_CHARS[t];
  }
  if (!any) return undefined;
  const spilled = f.spills[slot];
  if (spilled && f.types[slot * 8 + 7] === STACK_SPILL) {
    // A narrow spill shows the slot's other bytes first.
    const other = chars.indexOf(STACK_CHARS[STACK_SPILL] as string);
    return `${chars.slice(0, other)}${regText(spilled, f.frameno)}`;
  }
  if (chars === "00000000") return "0";
  return chars;
}

/**
 * One frame's registers (all but not-initialised ones) and stack slots, as the kernel prints them; with
 * `only`, those registers and `slots` alone (what an instruction touched).
 */
export function frameText(f: Frame, only?: ReadonlySet<number>, slots?: ReadonlySet<number>, precise = 0): string {
  const parts: string[] = [];
  f.regs.forEach((r, i) => {
    if (r.kind === "not_init") return;
    if (only && !only.has(i)) return;
    // Scalars whose exact value was found to matter are marked P.
    const mark = r.kind === "scalar" && ((precise >> i) & 1) === 1 ? "P" : "";
    parts.push(`R${i}=${mark}${regText(r, f.frameno)}`);
  });
  for (let slot = 0; slot < SLOTS; slot++) {
    if (only && !slots?.has(slot)) continue;
    const t = slotText(f, slot);
    if (t !== undefined) parts.push(`fp${-(slot + 1) * 8}=${t}`);
  }
  return parts.join(" ");
}

/**
 * One frame of a state as print_verifier_state prints it: `frameN:` first for a callee, its registers and
 * stack (or, with `only`, those registers and `slots`), the references held, and `cb` in a callback.
 */
export function stateLine(
  s: VState,
  frame = s.frames.length - 1,
  only?: ReadonlySet<number>,
  slots?: ReadonlySet<number>,
  precise = 0,
): string {
  const f = s.frames[frame] as Frame;
  const parts = [frameText(f, only, slots, precise)];
  if (frame > 0) parts.unshift(`frame${frame}:`);
  // A held lock is one of the kernel's references too.
  const refs = [...s.refs.map((r) => r.id), ...(s.lock ? [s.lock.id] : [])];
  if (refs.length > 0) parts.push(`refs=${refs.join(",")}`);
  if (f.callback) parts.push(f.callback.async ? "async_cb" : "cb");
  return parts.filter((p) => p !== "").join(" ");
}

/** The current frame of a state (where a branch resumes, what a loop repeats). */
export function stateText(s: VState): string {
  return stateLine(s);
}
