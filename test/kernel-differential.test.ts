// The kernel as the oracle for the userspace machine: programs the verifier accepts run through
// BPF_PROG_TEST_RUN and on the interpreter must give the same r0 — all 64 bits, the high half read through a
// variant that shifts r0 right by 32 before every exit (test-run returns 32 bits).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { assemble } from "../src/isa/index.js";
import type { Instruction } from "../src/isa/instruction.js";
import { insn } from "../src/isa/instruction.js";
import { KernelError } from "../src/kernel/errors.js";
import { KernelProgram } from "../src/kernel/program.js";
import { VerifierError } from "../src/kernel/verifier-error.js";
import { Machine } from "../src/vm/machine.js";
import { conformanceCases } from "./support/conformance.js";
import { verifiableProgram } from "./support/gen.js";
import { beforeMainExits, bpfMissing } from "./support/kernel.js";
import { sharedMissing } from "./support/paths.js";

const RSH32 = insn({ op: 0x77, dst: 0, imm: 32 });
const PACKET = new Uint8Array(64);

/** r0 from the kernel (64 bits), or undefined when the verifier refuses the program. */
function kernelR0(insns: readonly Instruction[]): bigint | undefined {
  const run = (program: readonly Instruction[]): number | undefined => {
    let p: KernelProgram;
    try {
      p = KernelProgram.load(program, { type: "socket_filter", name: "tsbpf_diff" });
    } catch (e) {
      if (e instanceof VerifierError) return undefined;
      throw e;
    }
    try {
      return p.testRun({ data: PACKET }).retval;
    } finally {
      p.close();
    }
  };
  const lo = run(insns);
  if (lo === undefined) return undefined;
  const hi = run(beforeMainExits(insns, RSH32));
  assert.ok(hi !== undefined, "the high-half variant must verify too");
  return (BigInt(hi) << 32n) | BigInt(lo);
}

const machine = new Machine();
const interpR0 = (insns: readonly Instruction[], input: Uint8Array = new Uint8Array(0)): bigint =>
  machine.load(insns, { engine: "interp" }).run({ input }).r0;
/** r0 on the interpreter, and the same from the JIT in both modes (the kernel verified these programs). */
const machineR0 = (insns: readonly Instruction[], input: Uint8Array = new Uint8Array(0)): bigint => {
  const a = interpR0(insns, input);
  for (const mode of ["checked", "trusted"] as const) {
    const j = machine.load(insns, { engine: "jit", mode }).run({ input }).r0;
    assert.equal(j, a, `the ${mode} JIT gives 0x${j.toString(16)}, the interpreter 0x${a.toString(16)}`);
  }
  return a;
};

describe("kernel vs interpreter and JIT", { skip: bpfMissing() }, () => {
  it("agree on every conformance program the kernel accepts", { skip: sharedMissing() }, () => {
    let accepted = 0;
    let compared = 0;
    for (const c of conformanceCases("tests")) {
      const insns = assemble(c.data.asm ?? "");
      // The kernel passes a context, not the test's memory, in r1: compare only programs whose result
      // does not depend on r1/r2, and that call no helper (kernel helper ids mean other things).
      if (insns.some((i) => (i.op === 0x85 && i.src !== 1) || i.op === 0x8d)) continue;
      let a: bigint;
      try {
        a = interpR0(insns, c.data.mem ?? new Uint8Array(0));
        if (interpR0(insns, new Uint8Array(c.data.mem?.length ?? 0).fill(0x5a)) !== a) continue;
      } catch {
        continue; // needs its memory
      }
      const k = kernelR0(insns);
      if (k === undefined) continue;
      accepted++;
      a = machineR0(insns, c.data.mem ?? new Uint8Array(0));
      assert.equal(a, k, `${c.name}: machine 0x${a.toString(16)}, kernel 0x${k.toString(16)}`);
      compared++;
    }
    console.log(`# conformance programs accepted by the kernel and compared: ${compared}`);
    assert.ok(accepted >= 150, `only ${accepted} accepted`);
  });

  it("agree on generated programs (FUZZ_RUNS, default 10,000)", () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(verifiableProgram, (insns) => {
        let k: bigint | undefined;
        try {
          k = kernelR0(insns);
        } catch (e) {
          if (e instanceof KernelError) throw new Error(`kernel error: ${e.message}`);
          throw e;
        }
        if (k === undefined) {
          rejected++;
          return;
        }
        accepted++;
        assert.equal(machineR0(insns), k);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 10_000) },
    );
    console.log(`# generated programs: ${accepted} accepted by the kernel and identical, ${rejected} refused by the verifier`);
    assert.equal(rejected, 0, "the generator makes only programs the verifier accepts");
  });
});
