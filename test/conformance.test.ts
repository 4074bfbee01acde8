// The bpf_conformance suite (../shared/conformance): every program assembles to the suite's bytes, runs to
// the expected r0 in-process, and passes through `tsbpf plugin` exactly as the official runner drives it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encode, toHex } from "../src/isa/codec.js";
import { assemble } from "../src/isa/index.js";
import { CONFORMANCE_HELPERS } from "../src/vm/conformance-helpers.js";
import { Machine } from "../src/vm/machine.js";
import { pool, tsbpfAsync } from "./support/cli.js";
import { conformanceCases } from "./support/conformance.js";
import { sharedMissing } from "./support/paths.js";

const skip = sharedMissing();

describe("bpf_conformance suite", { skip }, () => {
  const cases = skip ? [] : conformanceCases("tests");

  it("has all 313 tests", () => {
    assert.equal(cases.length, 313);
  });

  it("assembles every program to the suite's pre-assembled bytes", () => {
    for (const c of cases) {
      assert.ok(c.data.asm !== undefined, `${c.name} has an asm section`);
      assert.equal(toHex(encode(assemble(c.data.asm))), c.expectedHex, c.name);
    }
  });

  it("runs every program to the expected r0 on the interpreter", () => {
    for (const c of cases) {
      const program = new Machine().load(assemble(c.data.asm ?? ""), { helpers: CONFORMANCE_HELPERS });
      const r0 = program.run(c.data.mem ? { input: c.data.mem } : {}).r0;
      assert.equal(r0, c.data.result, c.name);
    }
  });

  it("passes every test through `tsbpf plugin` (program hex on stdin, memory hex in argv)", async () => {
    const results = await pool(cases, 4, async (c) => {
      const mem = c.data.mem ? [toHex(c.data.mem).replace(/ /g, "")] : [];
      const r = await tsbpfAsync(["plugin", "--engine", "interp", ...mem], c.expectedHex ?? "");
      return { c, r };
    });
    let passed = 0;
    for (const { c, r } of results) {
      assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
      assert.equal(BigInt(`0x${r.stdout.trim()}`), c.data.result, c.name);
      passed++;
    }
    console.log(`# conformance through tsbpf plugin: ${passed}/${cases.length} passed`);
    assert.equal(passed, 313);
  });
});
