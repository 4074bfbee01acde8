/** The JIT module's imported host functions, in import order, and the fault kinds reported to `fault`. */

export const F_FAULT = 0;
export const F_HELPER = 1;
export const F_BUDGET = 2;
/** The first subprogram function; `run` and `scan` come after the last. */
export const F_FIRST = 3;

export const FAULT_LOAD = 0;
export const FAULT_STORE = 1;
export const FAULT_CALL_DEPTH = 3;
