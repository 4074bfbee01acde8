/**
 * isa/ — the eBPF instruction set (RFC 9669, https://www.rfc-editor.org/rfc/rfc9669): opcodes, the
 * logical `Instruction`, byte encoding, load-time validation, and assemblers/disassemblers for two
 * dialects — bpf_conformance's (`mov32 %r0, 1`) and llvm's/the kernel's (`w0 = 1`).
 *
 * @example
 * ```ts
 * import { assemble, disassemble, encode } from "tsbpf/isa";
 * const insns = assemble("mov %r0, 42\nexit");
 * encode(insns); // Uint8Array of 16 bytes
 * disassemble(insns, { dialect: "llvm" }); // "r0 = 0x2a\nexit\n"
 * ```
 */
import { assembleConformance, disassembleConformance } from "./conformance.js";
import type { Instruction } from "./instruction.js";
import { assembleLlvm, disassembleLlvm, type LlvmFormatOptions } from "./llvm.js";

export type Dialect = "conformance" | "llvm";

/** Assembles text in the given dialect (default: conformance). */
export function assemble(text: string, dialect: Dialect = "conformance"): Instruction[] {
  return dialect === "llvm" ? assembleLlvm(text) : assembleConformance(text);
}

/** Disassembles instructions to text in the given dialect (default: conformance), one per line. */
export function disassemble(insns: readonly Instruction[], options: { dialect?: Dialect } & LlvmFormatOptions = {}): string {
  return options.dialect === "llvm" ? disassembleLlvm(insns, options) : disassembleConformance(insns);
}

export * from "./codec.js";
export { assembleConformance, disassembleConformance, formatConformance } from "./conformance.js";
export { type DataFile, parseDataFile } from "./data-format.js";
export * from "./errors.js";
export * from "./instruction.js";
export { formatKernel, type KernelTextOptions } from "./kernel-text.js";
export { assembleLlvm, disassembleLlvm, formatLlvm, type LlvmFormatOptions } from "./llvm.js";
export * as opcodes from "./opcodes.js";
export { type OpInfo, type OpKind, opInfo, validOpcodes } from "./table.js";
export { type ValidatedProgram, validate } from "./validate.js";
