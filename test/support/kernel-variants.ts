/**
 * Kernels of this machine's kind are not all built alike: a few helpers that some builds give a program type
 * and others refuse (6.18.44-fc refuses bpf_xdp_adjust_meta to XDP; the kernel that recorded ../shared's
 * verdicts, and that our helper table was probed on, allowed it). Tests that compare with the live kernel
 * ask here whether a difference is one of these — probed on the live kernel itself — and print it instead
 * of failing. Nothing else is excused.
 */

import { HELPER_NAMES } from "../../src/helpers/names.js";
import { assemble } from "../../src/isa/index.js";
import type { ProgramType } from "../../src/object/section-types.js";
import { KernelOracle } from "./verifier-diff.js";

/** The (program type, helper id) pairs known to differ between builds. */
const VARIANTS: ReadonlyArray<{ readonly type: ProgramType; readonly helper: number }> = [{ type: "xdp", helper: 54 }];

let refused: Array<{ type: ProgramType; helper: number }> | undefined;

/** The variant pairs the live kernel refuses (probed once: the helper called with a context and a zero). */
export function liveRefusals(): ReadonlyArray<{ readonly type: string; readonly helper: number }> {
  if (refused) return refused;
  const oracle = new KernelOracle();
  try {
    refused = VARIANTS.filter(({ type, helper }) => {
      const insns = assemble(`mov %r2, 0\ncall ${helper}\nmov %r0, 0\nexit`);
      const j = oracle.judge(insns, type, 0, undefined, false);
      return j.verdict === "reject" && (j.message ?? "").includes("cannot use helper");
    });
  } finally {
    oracle.close();
  }
  for (const r of refused)
    console.log(`# this kernel refuses bpf_${HELPER_NAMES[r.helper]} to ${r.type} programs (a build variant): not compared`);
  return refused;
}

/** Whether the live kernel refuses this helper to this program type as a known build variant. */
export function refusedVariant(type: string, helper: number): boolean {
  return liveRefusals().some((r) => r.type === type && r.helper === helper);
}

/** Whether the kernel's rejection of a `type` program is such a refusal ("... cannot use helper bpf_X#N"). */
export function isVariantRefusal(type: string, message: string): boolean {
  const m = /cannot use helper \w+#(\d+)/.exec(message);
  return m !== null && refusedVariant(type, Number(m[1]));
}

/** The helper-table bits of `type` with its refused variants cleared (hex, as helper-table.ts keeps them). */
export function withoutVariants(type: string, hex: string): string {
  let bits = BigInt(`0x${hex}`);
  for (const r of liveRefusals()) if (r.type === type) bits &= ~(1n << BigInt(r.helper));
  return bits.toString(16);
}
