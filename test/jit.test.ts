// The JIT against the interpreter, the reference: the bpf_conformance suite through `tsbpf plugin --engine jit`,
// and generated programs (every instruction class, input and stack accesses, loops, helper and bpf2bpf calls)
// that must give identical r0, memory and fault (kind, pc and message) in checked mode, and the same r0 and
// memory in trusted mode where the run does not fault. A failing program is printed as hex, to be kept below.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { VmError } from "../src/exec/errors.js";
import { encode, toHex } from "../src/isa/codec.js";
import { assemble } from "../src/isa/index.js";
import type { Instruction } from "../src/isa/instruction.js";
import { CONFORMANCE_HELPERS } from "../src/vm/conformance-helpers.js";
import { type Engine, Machine } from "../src/vm/machine.js";
import { pool, tsbpfAsync } from "./support/cli.js";
import { conformanceCases } from "./support/conformance.js";
import { INPUT_SIZE, jitProgram } from "./support/jit-gen.js";
import { sharedMissing } from "./support/paths.js";

/** Programs that once differed (hex of their bytes): kept as regression tests. */
const REGRESSIONS: string[] = [
  // w3 |= -1; *(u16 *)(r3 + 0) = r0: the checked JIT's stack test computed addr + size in 32 bits, which wraps
  // for an address just below 4 GiB (found by the robustness property test)
  "44030000ffffffff6b030000000000009500000000000000",
];

const BUDGET = 3000;
const input = Uint8Array.from({ length: INPUT_SIZE }, (_, i) => (i * 37 + 11) & 0xff);

function outcome(program: Instruction[], engine: Engine, mode: "checked" | "trusted" = "checked"): string {
  const loaded = new Machine().load(program, { helpers: CONFORMANCE_HELPERS, budget: BUDGET, engine, mode });
  try {
    const r = loaded.run({ input });
    return `r0=${r.r0.toString(16)} mem=${toHex(r.output)}`;
  } catch (e) {
    if (e instanceof VmError) return `fault ${e.code} pc ${e.pc}: ${e.message}`;
    throw e;
  }
}

describe("JIT", () => {
  it("passes the 313 conformance tests through `tsbpf plugin --engine jit`", { skip: sharedMissing() }, async () => {
    const cases = conformanceCases("tests");
    const results = await pool(cases, 4, async (c) => {
      const mem = c.data.mem ? [toHex(c.data.mem).replace(/ /g, "")] : [];
      return { c, r: await tsbpfAsync(["plugin", "--engine", "jit", ...mem], c.expectedHex ?? "") };
    });
    let passed = 0;
    for (const { c, r } of results) {
      assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
      assert.equal(BigInt(`0x${r.stdout.trim()}`), c.data.result, c.name);
      passed++;
    }
    console.log(`# conformance through tsbpf plugin --engine jit: ${passed}/${cases.length} passed`);
    assert.equal(passed, 313);
  });

  it("keeps the regression programs identical to the interpreter", () => {
    for (const hex of REGRESSIONS) {
      const program = new Machine().load(Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16)))
        .instructions as Instruction[];
      assert.equal(outcome(program, "jit"), outcome(program, "interp"), hex);
    }
  });

  it("reads a network-order halfword (ldxh then be16, compiled as two byte loads) as the interpreter does", () => {
    for (const source of [
      "ldxh %r3, [%r1+6]\nbe16 %r3\nmov %r0, %r3\nexit",
      "ldxh %r1, [%r1]\nbe16 %r1\nmov %r0, %r1\nexit", // the base register is the destination
      "mov %r2, %r1\nadd %r2, 7\nldxh %r0, [%r2-1]\nbe16 %r0\nexit", // negative offset
      "mov %r0, 0\nstxh [%r10-2], %r1\nldxh %r0, [%r10-2]\nbe16 %r0\nexit", // the stack
      `ldxh %r0, [%r1+${INPUT_SIZE - 1}]\nbe16 %r0\nexit`, // one byte past the input: faults at pc 0
      "ldxh %r0, [%r1+2]\nbe16 %r3\nexit", // a swap of another register is not the pair
    ]) {
      const program = assemble(source);
      const reference = outcome(program, "interp");
      assert.equal(outcome(program, "jit", "checked"), reference, source);
      if (!reference.startsWith("fault")) assert.equal(outcome(program, "jit", "trusted"), reference, source);
    }
  });

  it("checked: an access the last run's region allowed faults once the region has shrunk", () => {
    // r0 = the 8 bytes at input + 56: inside a 64-byte input, outside a 16-byte one (and r1 = 0 for none)
    const program = new Machine().load(assemble("ldxdw %r0, [%r1+56]\nexit"), { engine: "jit" });
    const reference = new Machine().load(assemble("ldxdw %r0, [%r1+56]\nexit"), { engine: "interp" });
    for (const p of [program, reference]) {
      assert.equal(p.run({ input: new Uint8Array(64).fill(1) }).r0, 0x0101010101010101n);
      assert.throws(
        () => p.run({ input: new Uint8Array(16) }),
        (e: unknown) => e instanceof VmError && e.code === "OUT_OF_BOUNDS",
      );
      assert.equal(p.run({ input: new Uint8Array(64) }).r0, 0n);
    }
    // a pointer into the stack kept in a register, near the top: the inline check leaves it to the slow path
    const top = new Machine().load(assemble("mov %r2, %r10\nstw [%r2-4], 7\nldxw %r0, [%r2-4]\nldxw %r0, [%r2-2]\nexit"));
    assert.throws(
      () => top.run(),
      (e: unknown) => e instanceof VmError && e.code === "OUT_OF_BOUNDS",
    );
  });

  it("unrolls one-block loops without a visible difference: results, the budget's exact pc, faults mid-copy", () => {
    // a checksum loop over the input (7 instructions: four copies), ended by its count, by the budget at every
    // instruction of every copy, or by a load that leaves the input at iteration k
    const loop = (limit: number): string =>
      `mov %r0, 0\nmov %r6, 0\nmov %r3, 0\nloop:\nmov %r4, %r1\nadd %r4, %r3\nldxh %r5, [%r4]\nadd %r0, %r5\nadd %r6, %r0\nadd %r3, 2\njlt %r3, ${limit}, loop\nlsh %r6, 16\nor %r0, %r6\nexit`;
    const check = (program: Instruction[], budget: number, what: string): void => {
      const run = (engine: Engine, mode: "checked" | "trusted"): string => {
        const loaded = new Machine().load(program, { budget, engine, mode });
        try {
          return `r0=${loaded.run({ input }).r0.toString(16)}`;
        } catch (e) {
          if (e instanceof VmError) return `fault ${e.code} pc ${e.pc}: ${e.message}`;
          throw e;
        }
      };
      const reference = run("interp", "checked");
      assert.equal(run("jit", "checked"), reference, what);
      if (!reference.startsWith("fault")) assert.equal(run("jit", "trusted"), reference, what);
    };
    for (const limit of [2, 6, 8, 10, 30, INPUT_SIZE - 2]) check(assemble(loop(limit)), 100_000, `limit ${limit}`);
    for (let budget = 1; budget <= 80; budget++) check(assemble(loop(INPUT_SIZE - 2)), budget, `budget ${budget}`);
    for (const limit of [INPUT_SIZE + 2, INPUT_SIZE + 6, INPUT_SIZE + 10])
      check(assemble(loop(limit)), 100_000, `past the input, ${limit}`);
  });

  it("gives the interpreter's r0, memory and faults on 100,000 generated programs, in both safety modes", () => {
    let faults = 0;
    let trustedRuns = 0;
    fc.assert(
      fc.property(jitProgram, (program) => {
        const reference = outcome(program, "interp");
        const checked = outcome(program, "jit", "checked");
        if (checked !== reference)
          throw new Error(
            `checked JIT differs on ${toHex(encode(program)).replace(/ /g, "")}:\n  interp ${reference}\n  jit    ${checked}`,
          );
        if (reference.startsWith("fault")) faults++;
        else {
          trustedRuns++;
          const trusted = outcome(program, "jit", "trusted");
          if (trusted !== reference)
            throw new Error(
              `trusted JIT differs on ${toHex(encode(program)).replace(/ /g, "")}:\n  interp ${reference}\n  jit    ${trusted}`,
            );
        }
      }),
      { numRuns: Number(process.env.JIT_RUNS ?? 100_000), seed: 6 },
    );
    console.log(
      `# JIT differential: 100000 programs, ${faults} faulting runs compared in checked mode, ${trustedRuns} also in trusted mode`,
    );
  });
});
