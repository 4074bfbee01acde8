// The verifier's soundness: every generated program it accepts (test/support/soundness.ts) runs in the checked
// interpreter on random packets, contexts, map contents and helper results, twice with different bytes in the
// registers it calls uninitialised, and never faults or ends differently. The suite runs a fixed slice
// (SOUNDNESS_RUNS seeds, default 10000); scripts/verifier-soundness.sh runs a million accepted programs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runSoundness } from "./support/soundness.js";

const RUNS = Number(process.env.SOUNDNESS_RUNS ?? 10000);

describe("verifier soundness", () => {
  it(`programs the verifier accepts never fault in the machine (${RUNS} seeds)`, () => {
    const r = runSoundness(1, RUNS);
    console.log(
      `# soundness: ${r.generated} generated, ${r.accepted} accepted, ${r.runs} runs, ${r.budget} stopped by the budget, ` +
        `${r.faults.length} faults, ${Math.round((r.generated / r.ms) * 1000)} programs/s`,
    );
    for (const [reason, n] of r.unsupported) console.log(`#   not modelled by the machine (${n} programs): ${reason}`);
    assert.deepEqual(
      r.faults.map((f) => `seed ${f.program.seed} (${f.program.type}) run ${f.run}: ${f.code} ${f.message}`),
      [],
    );
    // the slice must judge something: most accepted programs run to the end on every input
    assert.ok(r.accepted > RUNS / 4 && r.runs > r.accepted * 2, `${r.accepted} accepted, ${r.runs} runs`);
  });

  it("the seeds the long runs found faults in run clean now", () => {
    // 824300: a read at offset 8 through a map-in-map's inner map pointer, past the 8 bytes the machine mapped
    for (const seed of [824300])
      assert.deepEqual(
        runSoundness(seed, 1).faults.map((f) => f.message),
        [],
        `seed ${seed}`,
      );
  });

  it("the same runs do fault on the programs the verifier rejects (so a fault would be seen)", () => {
    const r = runSoundness(1, 1000, true);
    const codes = Object.fromEntries(r.rejectedFaultCodes);
    console.log(`# soundness control: ${r.rejectedFaults} of ${r.rejectedRun} rejected programs fault: ${JSON.stringify(codes)}`);
    for (const code of ["OUT_OF_BOUNDS", "UNINIT", "HELPER_FAILED"])
      assert.ok((codes[code] ?? 0) > 0, `no ${code} among ${JSON.stringify(codes)}`);
  });
});
