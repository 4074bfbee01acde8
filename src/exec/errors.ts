/** Errors of the machine at run time: every one names the pc of the instruction that failed. */
import { TsbpfError } from "../errors.js";

export type VmErrorCode =
  | "OUT_OF_BOUNDS" // load/store outside every region the program may touch
  | "READ_ONLY" // store into a read-only region
  | "BUDGET" // instruction budget exhausted
  | "CALL_DEPTH" // more than MAX_CALL_FRAMES nested local calls
  | "UNKNOWN_HELPER"
  | "HELPER_FAILED"
  | "UNSUPPORTED";

export class VmError extends TsbpfError {
  declare readonly code: VmErrorCode;
  readonly pc: number;
  /** Faulting address (hex) for memory errors. */
  readonly address: string | undefined;

  constructor(code: VmErrorCode, message: string, pc: number, extra: { address?: string; cause?: unknown } = {}) {
    super(code, message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.pc = pc;
    this.address = extra.address;
  }
}
