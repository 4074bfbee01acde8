/**
 * vm/ — the userspace machine: a linear-memory model and the reference interpreter with the kernel's exact
 * semantics (RFC 9669). Loading validates the program; running maps input memory (r1 = address, r2 = length).
 *
 * @example
 * ```ts
 * import { assemble } from "tsbpf/isa";
 * import { Machine } from "tsbpf/vm";
 * const program = new Machine().load(assemble("ldxb %r0, [%r1+1]\nexit"));
 * program.run({ input: new Uint8Array([7, 9]) }).r0; // 9n
 * ```
 */

export { VmError, type VmErrorCode } from "../exec/errors.js";
export { GUARD_SIZE, Memory, type Region } from "../exec/memory.js";
export type { Helper, HelperCall } from "../exec/state.js";
export {
  loadVmCollection,
  VmCollection,
  type VmLoadOptions,
  VmProgram,
  type VmTestRunOptions,
  type VmTestRunResult,
} from "./collection.js";
export { CONFORMANCE_HELPERS } from "./conformance-helpers.js";
export {
  DEFAULT_BUDGET,
  LoadedProgram,
  type LoadOptions,
  Machine,
  type MachineOptions,
  type Registers,
  type RunOptions,
  type RunResult,
} from "./machine.js";
export {
  parseTracepointFormat,
  type TracepointField,
  type TracepointFormat,
  TracepointFormatError,
  tracepointContext,
} from "./tracepoint.js";
