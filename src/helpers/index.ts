/**
 * helpers/ — BPF helper functions by id with the kernel's semantics, for the userspace machine. A helper
 * the machine does not implement fails the run with a typed error naming it (never a silent 0).
 */
import { VmError } from "../exec/errors.js";
import type { Helper } from "../exec/state.js";
import { MAP_HELPERS } from "./map-helpers.js";
import { MISC_HELPERS } from "./misc-helpers.js";
import { helperName } from "./names.js";
import { PACKET_HELPERS } from "./packet-helpers.js";
import type { HelperImpl, HelperRuntime } from "./runtime.js";

export { CALLBACK_TAG } from "./map-helpers.js";
export { HELPER_NAMES, helperName } from "./names.js";
export type { HelperRuntime, PacketState, TaskInfo } from "./runtime.js";

const ALL: ReadonlyMap<number, HelperImpl> = new Map([...MAP_HELPERS, ...MISC_HELPERS, ...PACKET_HELPERS]);

/** Ids of every helper the machine implements. */
export function implementedHelpers(): number[] {
  return [...ALL.keys()].sort((a, b) => a - b);
}

/**
 * The helper table for a program: every id it calls, bound to `rt`. Ids the machine lacks are bound to a
 * function that fails the run (only if the program actually reaches the call) naming the helper.
 */
export function bindHelpers(ids: Iterable<number>, rt: HelperRuntime): Map<number, Helper> {
  const out = new Map<number, Helper>();
  for (const id of ids) {
    const impl = ALL.get(id);
    out.set(
      id,
      impl
        ? (call) => impl(call, rt)
        : (call) => {
            throw new VmError(
              "UNSUPPORTED",
              `${helperName(id)} (${id}) at pc ${call.pc} is not implemented in the userspace machine`,
              call.pc,
            );
          },
    );
  }
  return out;
}
