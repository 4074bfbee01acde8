/**
 * What one verification shares across its steps: the program, its maps and type, the log, the id
 * generator, the counters the kernel reports, and the rejection type every check throws.
 */

import type { Instruction } from "../isa/instruction.js";
import type { Btf } from "../object/btf/parse.js";
import type { ProgramType } from "../object/section-types.js";
import type { Cfg } from "./cfg.js";
import type { GlobalFunction, VerifierMap } from "./reg.js";
import type { VState } from "./state.js";

/**
 * nr_cpu_ids when the caller does not say: the most CPUs an x86-64 kernel is built for (CONFIG_NR_CPUS with
 * MAXSMP): fewer would accept programs that index by CPU beyond what a larger machine has.
 */
export const DEFAULT_POSSIBLE_CPUS = 8192;

/** A rejection: the kernel's words and the instruction (slot) it was found at. */
export class Rejection extends Error {
  constructor(
    message: string,
    readonly insn: number | null,
    /** EACCES (a safety rule) or EINVAL (a malformed program), as the kernel returns them. */
    readonly errno: "EACCES" | "EINVAL" | "E2BIG" = "EACCES",
  ) {
    super(message);
  }
}

/** BPF_F_STRICT_ALIGNMENT and BPF_F_ANY_ALIGNMENT. */
export const F_STRICT_ALIGNMENT = 1;
export const F_ANY_ALIGNMENT = 2;
/** BPF_F_TEST_STATE_FREQ: a state is kept at every prune point (the selftests use it to test pruning). */
export const F_TEST_STATE_FREQ = 8;

export const INSN_LIMIT = 1_000_000;

export class Env {
  idGen = 0;
  processed = 0;
  jmpsProcessed = 0;
  prevJmps = 0;
  prevInsns = 0;
  totalStates = 0;
  peakStates = 0;
  curStates = 0;
  maxStatesPerInsn = 0;
  /** The source line the log printed last. */
  private lastSource: string | undefined = undefined;
  /** The slot being checked, and the last one checked before it on this path. */
  pc = 0;
  prevPc = 0;
  readonly lines: string[] = [];
  /** Lines the instruction being checked adds after its own (a call's frames, a return's). */
  readonly trailer: string[] = [];
  /** Conditional jumps whose outcome the bounds decided on some path (see precision.ts). */
  readonly decided: Uint8Array;
  /** The deepest stack use of each function (by first slot), over every path walked. */
  readonly stackDepths = new Map<number, number>();
  /** Functions given to bpf_timer_set_callback: walked, and stack-checked, as roots of their own. */
  readonly asyncCallbacks = new Set<number>();
  /** Slots some path reached (the kernel's insn_aux_data seen): the others are dead code it removes. */
  readonly seen: Uint8Array;
  /** The pointer kind each load or store instruction was first checked with (insn_aux_data's ptr_type). */
  readonly ptrKinds = new Map<number, string>();
  newlyDecided = false;
  cur!: VState;
  /** Global functions of the program, and those called so far (each is verified once, after the main walk). */
  globals: ReadonlyMap<number, GlobalFunction> = new Map();
  readonly calledGlobals: number[] = [];
  /** The program's expected attach type (libbpf's name, e.g. cgroup_inet4_post_bind), when it has one. */
  attachType: string | undefined = undefined;
  /** What a BTF-typed program attaches to (an iterator's target). */
  attachTo: string | undefined = undefined;
  /** The target kernel's BTF, when the caller gave it. */
  kernelBtf: Btf | undefined = undefined;
  /** nr_cpu_ids: how many CPUs the kernel may ever have (bounds bpf_get_smp_processor_id). */
  possibleCpus = DEFAULT_POSSIBLE_CPUS;
  /** Whether the program came with BTF func_info (callbacks need it), and its functions of global linkage. */
  hasFuncInfo = false;
  globalSlots: ReadonlySet<number> = new Set();
  /** Explores `state` from the instruction being checked later (set by the walker). */
  fork: (state: VState) => void = () => {
    throw new Error("no walker to fork to");
  };
  /** Explores `state` from slot `pc` later (a callback's first instruction). */
  forkTo: (state: VState, pc: number) => void = () => {
    throw new Error("no walker to fork to");
  };

  constructor(
    readonly insns: readonly Instruction[],
    readonly cfg: Cfg,
    readonly type: ProgramType,
    readonly maps: readonly VerifierMap[],
    readonly flags: number,
    readonly gpl: boolean,
    readonly logLevel: number,
    readonly sourceLine: (slot: number) => string | undefined,
    decided: Uint8Array,
  ) {
    this.decided = decided;
    this.seen = new Uint8Array(cfg.slots);
  }

  newId(): number {
    return ++this.idGen;
  }

  log(...lines: string[]): void {
    if (this.logLevel > 0) this.lines.push(...lines);
  }

  /** Each function's walk starts its log's source lines afresh (do_check_common). */
  resetSource(): void {
    this.lastSource = undefined;
  }

  /** The source line of the instruction at `pc`, unless it is the line printed last (verbose_linfo). */
  logSource(pc: number): void {
    const src = this.logLevel > 0 ? this.sourceLine(pc) : undefined;
    if (src === undefined || src === this.lastSource) return;
    this.lastSource = src;
    this.lines.push(`; ${src}`);
  }

  /** Throws the kernel's reason for rejecting the instruction being checked. */
  reject(message: string, errno: "EACCES" | "EINVAL" | "E2BIG" = "EACCES"): never {
    throw new Rejection(message, this.pc, errno);
  }

  get strictAlignment(): boolean {
    return (this.flags & F_STRICT_ALIGNMENT) !== 0 && (this.flags & F_ANY_ALIGNMENT) === 0;
  }
}
