/** Programs in the kernel: load (with a readable VerifierError on rejection), test-run, pin, close. */
import { encode } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { PROGRAM_TYPE_IDS, type ProgramType } from "../object/section-types.js";
import { progLoad, progTestRun, type TestRunResult } from "./bpf.js";
import { KernelError } from "./errors.js";
import { KernelFdObject } from "./fd-object.js";
import { linuxSys, type Sys } from "./sys.js";
import { VerifierError } from "./verifier-error.js";

export interface KernelProgramOptions {
  type: ProgramType;
  name?: string;
  license?: string;
  expectedAttachType?: number;
  kernelVersion?: number;
  attachBtfId?: number;
  /** The object's BTF in the kernel, with this program's func_info/line_info (slot-based records). */
  btf?: {
    fd: number;
    funcInfo: { recSize: number; records: Uint8Array; count: number };
    lineInfo?: { recSize: number; records: Uint8Array; count: number };
  };
  /** Source line of a slot, for VerifierError summaries. */
  sourceLine?: (slot: number) => string | undefined;
  sys?: Sys;
}

export interface TestRunOptions {
  data?: Uint8Array;
  ctx?: Uint8Array;
  repeat?: number;
  dataOutSize?: number;
  ctxOutSize?: number;
}

const MAX_LOG = 64 << 20;

export class KernelProgram extends KernelFdObject {
  private constructor(
    fd: number,
    readonly name: string,
    readonly type: ProgramType,
    readonly instructions: readonly Instruction[],
    readonly verifierLog: string,
    sys: Sys,
  ) {
    super(fd, sys);
  }

  protected get label(): string {
    return `program ${this.name}`;
  }

  /**
   * Loads instructions into the kernel. First without a log (fast); when the verifier refuses, again with a
   * log big enough to explain why, and the refusal becomes a VerifierError.
   */
  static load(insns: readonly Instruction[], opts: KernelProgramOptions): KernelProgram {
    const sys = opts.sys ?? linuxSys();
    const name = opts.name ?? "tsbpf_prog";
    const base = {
      type: PROGRAM_TYPE_IDS[opts.type],
      insns: encode(insns),
      license: opts.license ?? "GPL",
      name,
      ...(opts.expectedAttachType !== undefined ? { expectedAttachType: opts.expectedAttachType } : {}),
      ...(opts.kernelVersion !== undefined ? { kernVersion: opts.kernelVersion } : {}),
      ...(opts.attachBtfId !== undefined ? { attachBtfId: opts.attachBtfId } : {}),
      ...(opts.btf
        ? { btfFd: opts.btf.fd, funcInfo: opts.btf.funcInfo, ...(opts.btf.lineInfo ? { lineInfo: opts.btf.lineInfo } : {}) }
        : {}),
    };
    try {
      const { fd } = progLoad(sys, { ...base, logSize: 0, logLevel: 0 });
      return new KernelProgram(fd, name, opts.type, insns, "", sys);
    } catch (e) {
      if (!(e instanceof KernelError) || (e.code !== "EACCES" && e.code !== "EINVAL" && e.code !== "ENOENT")) throw e;
    }
    for (let logSize = 1 << 20; ; logSize *= 4) {
      try {
        const { fd, log } = progLoad(sys, { ...base, logSize, logLevel: 1 });
        return new KernelProgram(fd, name, opts.type, insns, log, sys); // accepted on retry (rare)
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        if (e.code === "ENOSPC" && logSize < MAX_LOG) continue;
        const log = (e as KernelError & { log?: string }).log ?? "";
        throw new VerifierError(name, e.errno, log, opts.sourceLine);
      }
    }
  }

  /** BPF_PROG_TEST_RUN: runs the program in the kernel on data/ctx. */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    this.assertOpen();
    return progTestRun(this.sys, this.fd, opts);
  }
}
