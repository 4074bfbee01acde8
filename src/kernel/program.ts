/** Programs in the kernel: load (with a readable VerifierError on rejection), test-run, pin, close. */
import { encode } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { PROGRAM_TYPE_IDS, type ProgramType } from "../object/section-types.js";
import { type ProgLoadAttr, progLoad, progLoadAsync, progTestRun, type TestRunResult } from "./bpf.js";
import { KernelError } from "./errors.js";
import { KernelFdObject } from "./fd-object.js";
import { type Failed, runSteps, runStepsAsync, settle, settleAsync } from "./steps.js";
import { linuxSys, type Sys } from "./sys.js";
import { VerifierError } from "./verifier-error.js";

export interface KernelProgramOptions {
  type: ProgramType;
  name?: string;
  license?: string;
  expectedAttachType?: number;
  kernelVersion?: number;
  attachBtfId?: number;
  /** BPF_PROG_LOAD's prog_flags (BPF_F_STRICT_ALIGNMENT 1, BPF_F_ANY_ALIGNMENT 2, BPF_F_SLEEPABLE 16...). */
  progFlags?: number;
  /** Ask for the verifier's log even when it accepts, at this level (1 or 2): `verifierLog` keeps it. */
  logLevel?: 1 | 2;
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
    const { fd, log } = runSteps(loadAttempts(insns, opts), (a) => settle(() => progLoad(sys, a)));
    return new KernelProgram(fd, opts.name ?? DEFAULT_NAME, opts.type, insns, log, sys);
  }

  /** `load` with the verification on a worker thread: Node's event loop goes on while the kernel verifies. */
  static async loadAsync(insns: readonly Instruction[], opts: KernelProgramOptions): Promise<KernelProgram> {
    const sys = opts.sys ?? linuxSys();
    const { fd, log } = await runStepsAsync(loadAttempts(insns, opts), (a) => settleAsync(progLoadAsync(sys, a)));
    return new KernelProgram(fd, opts.name ?? DEFAULT_NAME, opts.type, insns, log, sys);
  }

  /** BPF_PROG_TEST_RUN: runs the program in the kernel on data/ctx. */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    this.assertOpen();
    return progTestRun(this.sys, this.fd, opts);
  }
}

const DEFAULT_NAME = "tsbpf_prog";

/**
 * The size a whole log needs, as a refused load's error carries it; 0 when the kernel does not say. Kernels
 * from 6.4 on say, and rotate an overflowing log: it then holds the tail, with the reason and the failing
 * instruction, which is all an explanation needs, so a program that reached the complexity limit (a log of
 * 50 MB and more) is not verified again and again.
 */
function logTrueSize(e: KernelError): number {
  return (e as KernelError & { logTrueSize?: number }).logTrueSize ?? 0;
}

/**
 * How a program is loaded, one BPF_PROG_LOAD per yield: first without a log; a refusal is tried again with a
 * log (grown on ENOSPC until the verifier's explanation fits, unless the kernel kept its tail) and becomes a
 * VerifierError. A load the kernel gave up on with EAGAIN (a signal interrupted the verifier) is made again
 * with this thread's signals held back, so that a profiler's constant signals cannot starve it; libbpf and
 * cilium/ebpf only retry, and fail under one.
 */
function* loadAttempts(
  insns: readonly Instruction[],
  opts: KernelProgramOptions,
): Generator<ProgLoadAttr, { fd: number; log: string }, { fd: number; log: string } | Failed> {
  const name = opts.name ?? DEFAULT_NAME;
  const base = {
    type: PROGRAM_TYPE_IDS[opts.type],
    insns: encode(insns),
    license: opts.license ?? "GPL",
    name,
    ...(opts.expectedAttachType !== undefined ? { expectedAttachType: opts.expectedAttachType } : {}),
    ...(opts.kernelVersion !== undefined ? { kernVersion: opts.kernelVersion } : {}),
    ...(opts.attachBtfId !== undefined ? { attachBtfId: opts.attachBtfId } : {}),
    ...(opts.progFlags !== undefined ? { flags: opts.progFlags } : {}),
    ...(opts.btf ? { btfFd: opts.btf.fd, funcInfo: opts.btf.funcInfo, ...(opts.btf.lineInfo ? { lineInfo: opts.btf.lineInfo } : {}) } : {}),
  };
  let logSize = opts.logLevel !== undefined ? 1 << 20 : 0;
  let interrupted = 0;
  let firstError: KernelError | undefined;
  for (;;) {
    const outcome = yield {
      ...base,
      logSize,
      logLevel: logSize > 0 ? (opts.logLevel ?? 1) : 0,
      ...(interrupted > 0 ? { holdSignals: true } : {}),
    };
    if (!("error" in outcome)) return outcome; // accepted (with a log: on retry, which is rare)
    const e = outcome.error;
    if (!(e instanceof KernelError)) throw e;
    if (e.code === "EAGAIN") {
      if (++interrupted < 5) continue;
      throw new KernelError(e.operation, e.errno, `the verifier was interrupted by a signal ${interrupted} times in a row`);
    }
    interrupted = 0;
    if (logSize === 0) {
      // Any refusal may be the verifier's (EPROTO for a bad map index, E2BIG for a program too large...):
      // ask again with a log, and keep the kernel's error when the log stays empty.
      if (e.code === "EPERM" || e.code === "ENOMEM") throw e;
      firstError = e;
      logSize = 1 << 20;
    } else if (e.code === "ENOSPC" && logSize < MAX_LOG && !(opts.logLevel === undefined && logTrueSize(e) > 0)) {
      // A log asked for gets all of it, sized at once when the kernel says how much it needs.
      const needed = logTrueSize(e);
      logSize = Math.min(MAX_LOG, needed > logSize ? needed : logSize * 4);
    } else {
      const log = (e as KernelError & { log?: string }).log ?? "";
      if (log.trim() === "" && firstError && firstError.code !== "EACCES" && firstError.code !== "EINVAL") throw firstError;
      // An overflowing log is not why the program was refused: the first load (with no log) says why.
      const errno = e.code === "ENOSPC" && firstError ? firstError.errno : e.errno;
      throw new VerifierError(name, errno, log, opts.sourceLine);
    }
  }
}
