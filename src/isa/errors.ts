/** Errors of the isa/ domain: decoding, assembling and load-time validation, each carrying a location. */
import { TsbpfError } from "../errors.js";

export interface IsaLocation {
  /** Slot index of the offending instruction. */
  pc?: number;
  /** Byte offset in the program bytes. */
  byteOffset?: number;
  /** 1-based source line (assembler). */
  line?: number;
}

export class IsaError extends TsbpfError {
  readonly pc: number | undefined;
  readonly byteOffset: number | undefined;
  readonly line: number | undefined;

  constructor(code: string, message: string, where: IsaLocation = {}) {
    super(code, message);
    this.pc = where.pc;
    this.byteOffset = where.byteOffset;
    this.line = where.line;
  }
}

/** Bytes that are not a sequence of instructions. */
export class DecodeError extends IsaError {}

/** Assembly text that does not assemble; the message starts with `line N:`. */
export class AsmError extends IsaError {
  constructor(message: string, line: number) {
    super("EASM", `line ${line}: ${message}`, { line });
  }
}

/** Kinds of load-time validation failures (the `code` of a ValidationError). */
export type ValidationCode =
  | "UNKNOWN_OPCODE"
  | "BAD_REGISTER"
  | "R10_WRITE"
  | "RESERVED_FIELD"
  | "BAD_FIELD"
  | "JUMP_OUT_OF_RANGE"
  | "JUMP_INTO_LDDW"
  | "INCOMPLETE_LDDW"
  | "BAD_CALL_TARGET"
  | "FALL_OFF_END"
  | "EMPTY_PROGRAM"
  | "UNKNOWN_HELPER"
  | "UNSUPPORTED";

/** A program the machine refuses to load; the message ends with `at pc N`. */
export class ValidationError extends IsaError {
  declare readonly code: ValidationCode;

  constructor(code: ValidationCode, what: string, pc: number) {
    super(code, `${what} at pc ${pc}`, { pc, byteOffset: pc * 8 });
  }
}
