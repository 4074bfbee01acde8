/**
 * verifier/ — static safety analysis of eBPF programs, giving the Linux kernel's verdict, message and log
 * without a kernel. It follows the kernel's design (kernel/bpf/verifier.c): every path is walked with an
 * abstract state per register and stack byte (tnums and signed/unsigned 64/32-bit bounds for scalars; kind,
 * offset, id and range for pointers), states are pruned against explored ones, and each instruction is
 * checked with the kernel's rules and words. It reads isa/ and object/ only: no kernel, vm or jit.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { loadCollectionSpec } from "tsbpf/object";
 * import { verify } from "tsbpf/verifier";
 * for (const p of verify(loadCollectionSpec(readFileSync("prog.o")))) console.log(p.name, p.verdict, p.message);
 * ```
 */
import type { Instruction } from "../isa/instruction.js";
import { CALL_KFUNC, LDDW_MAP_IDX, LDDW_MAP_IDX_VALUE } from "../isa/opcodes.js";
import type { Btf } from "../object/btf/parse.js";
import { resolveType, skipModsAndTypedefs, typeSize } from "../object/btf/resolve.js";
import type { BtfType } from "../object/btf/types.js";
import type { CollectionSpec } from "../object/collection.js";
import { applyCoreRelocations } from "../object/core/relocate.js";
import type { MapSpec } from "../object/maps.js";
import { type ProgramSpec, resolveReferences } from "../object/programs.js";
import type { ProgramType } from "../object/section-types.js";
import { buildCfg, cfgPrecision } from "./cfg.js";
import { danglingAddress } from "./dead-code.js";
import { Env, Rejection } from "./env.js";
import type { GlobalArg, GlobalFunction, VerifierMap } from "./reg.js";
import { checkStackDepth } from "./stack-depth.js";
import { globalState, initialState } from "./state.js";
import { Walker } from "./walk.js";

export { asVerified } from "./dead-code.js";
export { F_ANY_ALIGNMENT, F_STRICT_ALIGNMENT, F_TEST_STATE_FREQ } from "./env.js";
export { VerifierError } from "./errors.js";
export type { GlobalArg, GlobalFunction, VerifierMap } from "./reg.js";

export interface VerifyOptions {
  /** Program type per program name, for sections whose name does not say (default: the spec's). */
  types?: ReadonlyMap<string, ProgramType>;
  /** One type for every program. */
  type?: ProgramType;
  /** BPF_PROG_LOAD's prog_flags (2 = BPF_F_ANY_ALIGNMENT). */
  progFlags?: number;
  /** 0: no log; 1: the path that failed (default); 2: every instruction's state. */
  logLevel?: 0 | 1 | 2;
  /** Only these programs. */
  programs?: readonly string[];
  /**
   * How many CPUs the target kernel may have (its nr_cpu_ids, /sys/devices/system/cpu/possible): the bound
   * of bpf_get_smp_processor_id. Default 8192, the most a kernel is built for.
   */
  possibleCpus?: number;
  /**
   * The target kernel's BTF (its /sys/kernel/btf/vmlinux, parsed): the types of BTF-typed contexts (iterators)
   * and of the kernel structs pointers to them read. Without it such programs are refused as not checkable.
   */
  kernelBtf?: Btf;
}

export interface VerifyStats {
  processed: number;
  totalStates: number;
  peakStates: number;
  maxStatesPerInsn: number;
}

export interface VerifyResult {
  name: string;
  section: string;
  type: ProgramType;
  verdict: "accept" | "reject";
  /** The instruction (slot) the verifier stopped at, on rejection. */
  insn: number | null;
  /** The kernel's words for the rejection (its last log lines). */
  message: string | null;
  log: string;
  stats: VerifyStats;
  /** Milliseconds the verification took. */
  ms: number;
  /** The C source line of the rejected instruction (BTF line info), when the object has it. */
  sourceLine?: string;
  /** What usually fixes a rejection of this kind, in a person's words. */
  hint?: string;
  /**
   * On acceptance: 1 for each slot some path reached. The others are dead code, which the kernel removes
   * and a loader replaces (see asVerified) before it runs the program.
   */
  reached?: Uint8Array;
}

const HINTS: ReadonlyArray<[RegExp, string]> = [
  [/invalid mem access '\w+_or_null'/, "check the pointer against NULL (if (!p) return ...) before using it"],
  [/!read_ok/, "the register is read before anything was written to it"],
  [/outside of the packet/, "compare the pointer plus the access size against data_end before the access"],
  [/min value is negative|max value is outside|unbounded memory access/, "bound the offset with a comparison or a mask before the access"],
  [/cannot use helper/, "this program type may not call that helper: change the section (program type) or the helper"],
  [/Unreleased reference/, "every acquired object (ring buffer record, socket) must be submitted, discarded or released on every path"],
  [/At program exit the register R0/, "return a value in the range this program type allows"],
];

/** A program on its own: instructions whose lddw map references (src 5/6) index `maps`. */
export interface VerifierProgram {
  insns: readonly Instruction[];
  type: ProgramType;
  maps?: readonly VerifierMap[];
  license?: string;
  name?: string;
  section?: string;
  sourceLine?: (slot: number) => string | undefined;
  /** The expected attach type (libbpf's name, e.g. cgroup_inet4_post_bind): some hooks see more of the context. */
  attachType?: string;
  /** What a BTF-typed program attaches to (an iterator's target, e.g. "task"): its context's type. */
  attachTo?: string;
  /** Why this verifier cannot judge the program yet (it is then rejected with this message). */
  unsupported?: string;
  /** Global (non-static) functions by first slot: verified once against their BTF prototype. */
  globals?: ReadonlyMap<number, GlobalFunction>;
  /** Whether BTF func_info comes with the program (a callback's address may only be taken then). */
  hasFuncInfo?: boolean;
  /** First slots of every function of global linkage, modelled in `globals` or not (callbacks must be static). */
  globalSlots?: ReadonlySet<number>;
  /** First slots of the subprograms whose BTF prototype returns neither an integer nor an enum (void, pointers). */
  nonScalarReturns?: ReadonlySet<number>;
}

const GPL_COMPATIBLE = new Set(["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"]);

/** Verifies one program. */
export function verifyProgram(p: VerifierProgram, opts: Omit<VerifyOptions, "types" | "programs"> = {}): VerifyResult {
  const started = performance.now();
  const logLevel = opts.logLevel ?? 1;
  // The nearest line info at or before the slot, as the kernel attributes instructions to lines.
  const sourceAt = (slot: number): string | undefined => {
    for (let s = slot; s >= 0; s--) {
      const line = p.sourceLine?.(s);
      if (line !== undefined) return line;
    }
    return undefined;
  };
  let env: Env | undefined;
  const result = (verdict: "accept" | "reject", insn: number | null, message: string | null, reached?: Uint8Array): VerifyResult => {
    const hint = message === null ? undefined : HINTS.find(([re]) => re.test(message))?.[1];
    const sourceLine = insn === null ? undefined : sourceAt(insn);
    const stats = {
      processed: env?.processed ?? 0,
      totalStates: env?.totalStates ?? 0,
      peakStates: env?.peakStates ?? 0,
      maxStatesPerInsn: env?.maxStatesPerInsn ?? 0,
    };
    const lines = [...(env?.lines ?? [])];
    if (message !== null) lines.push(message);
    lines.push(
      `processed ${stats.processed} insns (limit 1000000) max_states_per_insn ${stats.maxStatesPerInsn} total_states ${stats.totalStates} peak_states ${stats.peakStates} mark_read 0`,
    );
    return {
      name: p.name ?? "",
      section: p.section ?? "",
      type: p.type,
      verdict,
      insn,
      message,
      log: logLevel > 0 ? `${lines.join("\n")}\n` : "",
      stats,
      ms: performance.now() - started,
      ...(sourceLine !== undefined ? { sourceLine } : {}),
      ...(hint !== undefined ? { hint } : {}),
      ...(reached ? { reached } : {}),
    };
  };
  try {
    if (p.unsupported) return result("reject", null, p.unsupported);
    const cfg = buildCfg(p.insns, p.maps ?? [], p.type, p.hasFuncInfo ?? false, p.nonScalarReturns);
    // Walk until no jump is found decided that the precision analysis did not count as decided: only then
    // is every pruning justified (a rejection on the way is real: it was found on a walked path).
    const decided = new Uint8Array(cfg.slots);
    // The log names each instruction's line as find_linfo does: the nearest line info at or before it.
    const covering: (string | undefined)[] = [];
    if (logLevel > 0 && p.sourceLine) {
      let last: string | undefined;
      for (let slot = 0; slot < cfg.slots; slot++) {
        last = p.sourceLine(slot) ?? last;
        covering.push(last);
      }
    }
    for (;;) {
      env = new Env(
        p.insns,
        cfg,
        p.type,
        p.maps ?? [],
        opts.progFlags ?? 0,
        GPL_COMPATIBLE.has(p.license ?? "GPL"),
        logLevel,
        (slot) => covering[slot],
        decided,
      );
      env.globals = p.globals ?? new Map();
      env.hasFuncInfo = p.hasFuncInfo ?? false;
      env.globalSlots = p.globalSlots ?? new Set(p.globals?.keys() ?? []);
      env.attachType = p.attachType;
      env.attachTo = p.attachTo;
      env.kernelBtf = opts.kernelBtf;
      if (opts.possibleCpus !== undefined) env.possibleCpus = opts.possibleCpus;
      new Walker(env).run(initialState());
      // Then each global function that was called, once, from its prototype's arguments.
      for (let k = 0; k < env.calledGlobals.length; k++) {
        const slot = env.calledGlobals[k] as number;
        const fn = p.globals?.get(slot) as GlobalFunction;
        env.log(`Validating ${fn.name}() func#${cfg.subprogs.indexOf(slot)}...`);
        new Walker(env).run(globalState(env, fn), slot);
      }
      if (!env.newlyDecided) {
        // Every path was safe: a level-1 log keeps none of them (only what follows, and the statistics).
        if (logLevel === 1) env.lines.length = 0;
        checkStackDepth(env);
        unwalkedCallbacks(env);
        return result("accept", null, null, env.seen);
      }
      cfg.precise = cfgPrecision(p.insns, cfg, decided);
    }
  } catch (e) {
    if (e instanceof Rejection) return result("reject", e.insn, e.message);
    throw e;
  }
}

/**
 * What this kernel (6.18) does with a callback no path called (bpf_loop with a count of 0): its code, never
 * reached, is removed as dead (dead-code.ts), and when its address is left pointing at no function while
 * more than one function is left to JIT, the JIT refuses the program as a verifier bug.
 */
function unwalkedCallbacks(env: Env): void {
  const target = danglingAddress(env.insns, env.cfg, env.seen);
  if (target === undefined) return;
  // The kernel names the slot in its rewritten program, which this verifier does not rewrite.
  throw new Rejection(
    `verifier bug: No program to jit at insn ${target} of the program without its dead code (subprog < 0): a callback is never called, so its code is removed`,
    null,
    "EINVAL",
  );
}

function verifierMap(m: MapSpec, index: number): VerifierMap {
  return {
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    index,
    ...(m.readOnly && m.contents ? { frozen: m.contents } : {}),
    ...(m.inner ? { inner: verifierMap(m.inner, -1) } : {}),
    ...valueFields(m),
  };
}

/** What the map's BTF says of its value: that it has BTF, and where its bpf_spin_lock and bpf_timer are. */
function valueFields(m: MapSpec): { btf?: true; spinLock?: number; timer?: number } {
  if (!m.btf || m.valueTypeId === undefined) return {};
  const btf = m.btf;
  // The fields may sit in nested structs (btf_find_field walks them), at their byte offsets in the value.
  const find = (name: string, id: number, base: number, depth: number): number | undefined => {
    const t = resolveType(btf, id, m.name);
    if (t.kind !== "STRUCT" || depth > 8) return undefined;
    if (t.name === name) return base;
    for (const member of t.members) {
      const at = find(name, member.type, base + member.bitOffset / 8, depth + 1);
      if (at !== undefined) return at;
    }
    return undefined;
  };
  try {
    const spinLock = find("bpf_spin_lock", m.valueTypeId, 0, 0);
    const timer = find("bpf_timer", m.valueTypeId, 0, 0);
    return { btf: true, ...(spinLock !== undefined ? { spinLock } : {}), ...(timer !== undefined ? { timer } : {}) };
  } catch {
    return { btf: true };
  }
}

/** The program with its map references as indexes into the object's map table (as BPF_PROG_LOAD's fd_array). */
export function programForVerifier(spec: CollectionSpec, p: ProgramSpec, type?: ProgramType): VerifierProgram {
  const names = [...spec.maps.keys()];
  const maps = names.map((n, k) => verifierMap(spec.maps.get(n) as MapSpec, k));
  // Data externs and kfunc calls (functions in the .ksyms section) need the kernel's symbols; a call to a
  // function the object lacks stays a call, as libbpf leaves it.
  const btf = spec.btf;
  const ksyms = new Set(
    btf?.types.flatMap((t) => (t.kind === "DATASEC" && t.name === ".ksyms" ? t.vars.map((v) => btf.type(v.type)?.name ?? "") : [])) ?? [],
  );
  const externs: string[] = [];
  const globals = globalFunctions(spec, p);
  const linkage = functionLinkage(spec, p);
  const insns = resolveReferences(p, (i, r) => {
    if (r.kind === "extern") {
      const kfunc = i.src === CALL_KFUNC || ksyms.has(r.name);
      if (!r.call || kfunc) externs.push(r.name);
      return undefined;
    }
    const index = names.indexOf(r.map);
    return r.kind === "map"
      ? { ...i, src: LDDW_MAP_IDX, imm: index, imm2: 0 }
      : { ...i, src: LDDW_MAP_IDX_VALUE, imm: index, imm2: r.offset };
  });
  // Source lines (BTF.ext line_info) by slot of the linked program, as the kernel prints them: "text @ file:line".
  const lines = new Map<number, string>();
  for (const f of p.functions) {
    for (const l of spec.btfExt?.lineInfo.get(f.section) ?? []) {
      if (l.insnOff < f.offset || l.insnOff >= f.offset + f.slots * 8) continue;
      const file = l.fileName.split("/").pop() ?? l.fileName;
      lines.set(f.slot + (l.insnOff - f.offset) / 8, `${l.line.trim()} @ ${file}:${l.lineNumber}`);
    }
  }
  return {
    insns,
    sourceLine: (slot) => lines.get(slot),
    ...(globals.size > 0 ? { globals } : {}),
    ...(linkage ? { hasFuncInfo: true, globalSlots: linkage, nonScalarReturns: nonScalarReturns(spec, p) } : {}),
    type: type ?? p.type,
    maps,
    license: p.license || spec.license || "GPL",
    name: p.name,
    section: p.section,
    // The section's attach type and target hold for the section's own type.
    ...(p.attachType !== undefined && (type === undefined || type === p.type) ? { attachType: p.attachType } : {}),
    ...(p.attachTo !== undefined && (type === undefined || type === p.type) ? { attachTo: p.attachTo } : {}),
    ...(externs.length > 0
      ? { unsupported: `this verifier does not resolve externs (kfuncs, ksyms, kconfig) yet: ${[...new Set(externs)].join(", ")}` }
      : {}),
  };
}

const CTX_STRUCTS = new Set([
  "__sk_buff",
  "xdp_md",
  "pt_regs",
  "bpf_sock",
  "bpf_sock_addr",
  "bpf_sock_ops",
  "sk_msg_md",
  "bpf_perf_event_data",
  "bpf_raw_tracepoint_args",
  "bpf_sysctl",
  "bpf_sockopt",
  "sk_reuseport_md",
  "bpf_sk_lookup",
]);

type LinkedFunction = ProgramSpec["functions"][number];

/** The func_info record of a linked function, if the object has one for it. */
function funcInfoOf(spec: CollectionSpec, f: LinkedFunction) {
  return spec.btfExt?.funcInfo.get(f.section)?.find((r) => r.insnOff === f.offset);
}

/** First slots of the functions of global linkage, when every function of the program has func_info. */
function functionLinkage(spec: CollectionSpec, p: ProgramSpec): Set<number> | undefined {
  if (!spec.btf || !spec.btfExt) return undefined;
  const out = new Set<number>();
  for (const f of p.functions) {
    const info = funcInfoOf(spec, f);
    if (!info) return undefined;
    const fn = spec.btf.type(info.typeId);
    if (f.slot !== 0 && fn?.kind === "FUNC" && fn.linkage === 1) out.add(f.slot);
  }
  return out;
}

/** First slots of the subprograms whose BTF prototype returns neither an integer (of up to 8 bytes) nor an enum. */
function nonScalarReturns(spec: CollectionSpec, p: ProgramSpec): Set<number> {
  const out = new Set<number>();
  const btf = spec.btf;
  if (!btf) return out;
  for (const f of p.functions) {
    const info = f.slot === 0 ? undefined : funcInfoOf(spec, f);
    const fn = info ? btf.type(info.typeId) : undefined;
    const proto = fn?.kind === "FUNC" ? btf.type(fn.type) : undefined;
    if (proto?.kind !== "FUNC_PROTO") continue;
    // btf_type_skip_modifiers: typedefs and qualifiers say nothing of the kind (a chain with no end is no scalar).
    let ret: BtfType | undefined;
    try {
      ret = btf.type(skipModsAndTypedefs(btf, proto.returnType));
    } catch {
      ret = undefined;
    }
    const scalar = proto.returnType !== 0 && ret && ((ret.kind === "INT" && ret.size <= 8) || ret.kind === "ENUM" || ret.kind === "ENUM64");
    if (!scalar) out.add(f.slot);
  }
  return out;
}

/** The linked program's global functions (func_info linkage global) with their arguments from BTF. */
function globalFunctions(spec: CollectionSpec, p: ProgramSpec): Map<number, GlobalFunction> {
  const out = new Map<number, GlobalFunction>();
  const btf = spec.btf;
  if (!btf || !spec.btfExt) return out;
  for (const f of p.functions) {
    if (f.slot === 0) continue;
    const info = funcInfoOf(spec, f);
    const fn = info ? btf.type(info.typeId) : undefined;
    if (fn?.kind !== "FUNC" || fn.linkage !== 1) continue;
    const proto = btf.type(fn.type);
    if (proto?.kind !== "FUNC_PROTO") continue;
    const args: GlobalArg[] = [];
    try {
      for (const param of proto.params) {
        const t = resolveType(btf, param.type, fn.name);
        if (t.kind === "INT" || t.kind === "ENUM" || t.kind === "ENUM64") args.push({ kind: "scalar" });
        else if (t.kind === "PTR") {
          const target = resolveType(btf, t.type, fn.name);
          if ((target.kind === "STRUCT" || target.kind === "UNION") && CTX_STRUCTS.has(target.name)) args.push({ kind: "ctx" });
          else if (target.kind === "INT" || target.kind === "ENUM" || target.kind === "STRUCT" || target.kind === "UNION")
            args.push({ kind: "mem", size: typeSize(btf, t.type, fn.name) });
          else args.push({ kind: "unknown" });
        } else args.push({ kind: "unknown" });
      }
    } catch {
      continue;
    }
    // A prototype this verifier cannot model is checked as a static function, inline at each call.
    if (args.some((a) => a.kind === "unknown")) continue;
    out.set(f.slot, { name: fn.name, args });
  }
  return out;
}

/** Verifies every program of an object (or those named in `opts.programs`). */
export function verify(spec: CollectionSpec, opts: VerifyOptions = {}): VerifyResult[] {
  const out: VerifyResult[] = [];
  // With the target kernel's BTF, CO-RE relocations are applied first, as the loader applies them.
  const relos = spec.btfExt?.coreRelos;
  const core = opts.kernelBtf && spec.btf && relos && relos.size > 0 ? { local: spec.btf, relos, target: opts.kernelBtf } : undefined;
  for (const [name, p] of spec.programs) {
    if (opts.programs && !opts.programs.includes(name)) continue;
    const type = opts.types?.get(name) ?? opts.type ?? p.type;
    let program = p;
    let unsupported: string | undefined;
    if (core) {
      try {
        program = applyCoreRelocations(p, core.local, core.relos, core.target).program;
      } catch (e) {
        unsupported = `CO-RE relocation failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    const vp = programForVerifier(spec, program, type);
    out.push(verifyProgram(unsupported ? { ...vp, unsupported } : vp, opts));
  }
  return out;
}
