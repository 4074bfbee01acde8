/**
 * tsbpf — the eBPF system in TypeScript. This entry re-exports the instruction set (isa) and the
 * userspace machine (vm); import `tsbpf/isa` or `tsbpf/vm` directly to pull in less.
 */
export { loadCollection } from "./collection.js";
export * from "./errors.js";
export * from "./isa/index.js";
export * from "./object/index.js";
export { type VerifierProgram, type VerifyOptions, type VerifyResult, verify, verifyProgram } from "./verifier/index.js";
export * from "./vm/index.js";
