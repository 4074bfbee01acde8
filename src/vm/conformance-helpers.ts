/**
 * The helpers a bpf_conformance plugin offers. Helper 5, "unwind", returns its argument and, when that is
 * 0, ends the program — uBPF's test plugin registers the same; the suite's call_unwind_fail and callx
 * tests call it.
 */
import type { Helper } from "../exec/state.js";

export const CONFORMANCE_HELPERS: ReadonlyMap<number, Helper> = new Map([
  [
    5,
    (c) => {
      c.lo[0] = c.lo[1] as number;
      c.hi[0] = c.hi[1] as number;
      if (c.lo[0] === 0 && c.hi[0] === 0) c.exit();
    },
  ],
]);
