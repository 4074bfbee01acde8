/**
 * The verifier's differential run: each generated program goes to the live kernel's verifier and to ours,
 * and the verdicts (and, on rejection, the reason and the instruction) are compared. The kernel is the
 * oracle; a program it rejects and we accept is the worst disagreement (we would run what it refuses).
 */
import { assemble } from "../../src/isa/index.js";
import type { Instruction } from "../../src/isa/instruction.js";
import { LDDW_MAP_FD, LDDW_MAP_IDX, LDDW_MAP_IDX_VALUE, LDDW_MAP_VALUE, OP_LDDW } from "../../src/isa/opcodes.js";
import { ATTACH_TYPE_IDS } from "../../src/kernel/attach-types.js";
import { loadBtf } from "../../src/kernel/btf-load.js";
import { KernelMap, possibleCpus } from "../../src/kernel/map.js";
import { KernelProgram } from "../../src/kernel/program.js";
import { linuxSys } from "../../src/kernel/sys.js";
import { VerifierError } from "../../src/kernel/verifier-error.js";
import { vmlinuxBtf } from "../../src/kernel/vmlinux.js";
import type { ProgramType } from "../../src/object/section-types.js";
import { F_TEST_STATE_FREQ, type VerifierMap, verifyProgram } from "../../src/verifier/index.js";
import { funcInfoBtf, specialValueBtf } from "./func-info.js";
import { mutate } from "./mutate.js";
import { rng } from "./rng.js";
import { GEN_MAPS, type GenProgram, generateProgram } from "./verifier-gen.js";
import { genMapSpec } from "./verifier-gen-core.js";

export interface Judgement {
  verdict: "accept" | "reject";
  insn: number | null;
  /** The kernel's reason (its last log line) or our message. */
  message: string | null;
}

export interface Disagreement {
  program: GenProgram;
  kernel: Judgement;
  ours: Judgement;
}

export interface DiffReport {
  total: number;
  /** Same verdict. */
  agree: number;
  /** Rejected by both, with our message containing the kernel's reason and the same instruction. */
  sameRejection: number;
  rejectedByKernel: number;
  /** The kernel rejects, we accept. */
  falseAccepts: Disagreement[];
  /** The kernel accepts, we reject. */
  falseRejects: Disagreement[];
  /** Both reject, for different reasons or at different instructions. */
  otherRejections: Disagreement[];
  kernelMs: number;
  oursMs: number;
}

/**
 * The generator's maps in the kernel, and BPF_PROG_LOAD of programs that refer to them by index. Each
 * program type (and attach type) gets maps of its own: a prog array belongs to the type of the first
 * program that used it, and the kernel refuses programs of others that use it (outside the verifier, with
 * no log).
 */
export class KernelOracle {
  private readonly maps = new Map<string, KernelMap[]>();
  constructor(private readonly specs: readonly VerifierMap[] = GEN_MAPS) {}

  private mapsFor(type: ProgramType, attachType = ""): KernelMap[] {
    const key = `${type}/${attachType}`;
    let maps = this.maps.get(key);
    if (maps) return maps;
    maps = [];
    this.maps.set(key, maps);
    for (const m of this.specs) {
      if (m.spinLock !== undefined || m.timer !== undefined) {
        // A value with a lock or a timer needs BTF saying where it is (see func-info.ts).
        const sys = linuxSys();
        const b = specialValueBtf();
        const btfFd = loadBtf(sys, b.btf);
        const valueTypeId = m.timer !== undefined ? b.timerValueTypeId : b.lockValueTypeId;
        try {
          maps.push(KernelMap.create({ ...genMapSpec(m), keyTypeId: b.keyTypeId, valueTypeId }, { btfFd }));
        } finally {
          sys.close(btfFd);
        }
        continue;
      }
      if (!m.inner) {
        maps.push(KernelMap.create(genMapSpec(m)));
        continue;
      }
      // A map of maps is made from a template of its inner maps, and holds one of them at key 0.
      const inner = KernelMap.create(genMapSpec(m.inner));
      try {
        const outer = KernelMap.create(genMapSpec(m), { innerMapFd: inner.fd });
        maps.push(outer);
        outer.set(new Uint8Array(4), new Uint8Array(new Uint32Array([inner.fd]).buffer));
      } finally {
        inner.close();
      }
    }
    return maps;
  }

  /** The instructions with map indexes turned into this oracle's map fds. */
  withFds(insns: readonly Instruction[], type: ProgramType, attachType?: string): Instruction[] {
    const maps = this.mapsFor(type, attachType);
    return insns.map((i) => {
      if (i.op !== OP_LDDW || (i.src !== LDDW_MAP_IDX && i.src !== LDDW_MAP_IDX_VALUE)) return i;
      const map = maps[i.imm];
      if (!map) return i;
      return { ...i, src: i.src === LDDW_MAP_IDX ? LDDW_MAP_FD : LDDW_MAP_VALUE, imm: map.fd };
    });
  }

  /** The kernel's verdict; with `funcInfo`, the program goes with BTF naming its subprograms (see func-info.ts). */
  judge(
    insns: readonly Instruction[],
    type: ProgramType,
    progFlags = 0,
    attachType?: string,
    funcInfo = false,
    /** A BTF-typed program's attach target: the kernel function (or typedef) it is named after. */
    attachTo?: string,
  ): Judgement {
    const expected = attachType !== undefined ? ATTACH_TYPE_IDS[attachType] : undefined;
    const btf = attachTo !== undefined ? vmlinuxBtf() : undefined;
    const attachBtfId =
      btf && attachTo !== undefined ? btf.idsNamed(attachTo).find((x) => ["FUNC", "TYPEDEF"].includes(btf.kindOf(x) ?? "")) : undefined;
    const sys = linuxSys();
    const info = funcInfo ? funcInfoBtf(insns) : undefined;
    const btfFd = info ? loadBtf(sys, info.btf) : undefined;
    try {
      KernelProgram.load(this.withFds(insns, type, attachType), {
        type,
        name: "tsbpf_vdiff",
        ...(progFlags ? { progFlags } : {}),
        ...(expected !== undefined ? { expectedAttachType: expected } : {}),
        ...(attachBtfId !== undefined ? { attachBtfId } : {}),
        ...(info && btfFd !== undefined ? { btf: { fd: btfFd, funcInfo: { recSize: 8, records: info.records, count: info.count } } } : {}),
      }).close();
      return { verdict: "accept", insn: null, message: null };
    } catch (e) {
      if (!(e instanceof VerifierError)) throw e;
      return { verdict: "reject", insn: e.failure.insn ?? null, message: e.failure.reason };
    } finally {
      if (btfFd !== undefined) sys.close(btfFd);
    }
  }

  close(): void {
    for (const maps of this.maps.values()) for (const m of maps) m.close();
    this.maps.clear();
  }
}

/** The kernel's nr_cpu_ids here: our verifier is told it, as the kernel knows it. */
const HOST_CPUS = possibleCpus();

/** Our verdict on a program whose maps are the generator's (for this host's kernel). */
export function ourJudgement(
  insns: readonly Instruction[],
  type: ProgramType,
  progFlags = 0,
  attachType?: string,
  funcInfo = false,
): Judgement {
  const r = verifyProgram(
    { insns, type, maps: GEN_MAPS, hasFuncInfo: funcInfo, ...(attachType !== undefined ? { attachType } : {}) },
    { logLevel: 0, progFlags, possibleCpus: HOST_CPUS },
  );
  return { verdict: r.verdict, insn: r.insn, message: r.message };
}

/** Whether our rejection is the kernel's: its reason within our message, at the same instruction. */
export function sameRejection(kernel: Judgement, ours: Judgement): boolean {
  return (
    kernel.verdict === "reject" &&
    ours.verdict === "reject" &&
    ours.insn === kernel.insn &&
    (ours.message ?? "").includes(kernel.message ?? "")
  );
}

/** Runs seeds first..first+count-1 through both verifiers; every fourth program is mutated (see mutate). */
export function runDifferential(oracle: KernelOracle, first: number, count: number): DiffReport {
  const report: DiffReport = {
    total: 0,
    agree: 0,
    sameRejection: 0,
    rejectedByKernel: 0,
    falseAccepts: [],
    falseRejects: [],
    otherRejections: [],
    kernelMs: 0,
    oursMs: 0,
  };
  for (let seed = first; seed < first + count; seed++) {
    const program = generateProgram(seed);
    const insns = seed % 4 === 0 ? mutate(assemble(program.text), rng(seed)) : assemble(program.text);
    // Some are loaded with BPF_F_TEST_STATE_FREQ: a state at every prune point, as the selftests ask for.
    const flags = seed % 8 === 3 || process.env.VERIFIER_DIFF_STATE_FREQ ? F_TEST_STATE_FREQ : 0;
    let t = performance.now();
    const kernel = oracle.judge(insns, program.type, flags, program.attachType, program.funcInfo);
    report.kernelMs += performance.now() - t;
    t = performance.now();
    const ours = ourJudgement(insns, program.type, flags, program.attachType, program.funcInfo);
    report.oursMs += performance.now() - t;
    report.total++;
    if (kernel.verdict === "reject") report.rejectedByKernel++;
    if (kernel.verdict === ours.verdict) report.agree++;
    else (kernel.verdict === "reject" ? report.falseAccepts : report.falseRejects).push({ program, kernel, ours });
    if (kernel.verdict === "reject" && ours.verdict === "reject") {
      if (sameRejection(kernel, ours)) report.sameRejection++;
      else report.otherRejections.push({ program, kernel, ours });
    }
  }
  return report;
}

/** One line per disagreement, for the console. */
export function describe(d: Disagreement): string {
  const j = (x: Judgement): string => (x.verdict === "accept" ? "accept" : `reject at ${x.insn}: ${x.message?.split("\n").pop()}`);
  return `seed ${d.program.seed} (${d.program.type}${d.program.attachType ? `/${d.program.attachType}` : ""}): kernel ${j(d.kernel)}; ours ${j(d.ours)}`;
}
