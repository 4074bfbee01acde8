// The verifier's per-type helper table against the live kernel (see test/support/helper-probe.ts). With
// REGENERATE_HELPER_TABLE=1 (scripts/helper-table.sh) it writes the table instead of checking it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { KERNEL_HELPERS } from "../src/verifier/helper-table.js";
import { PROBED_TYPES, probeHelpers } from "./support/helper-probe.js";
import { bpfMissing } from "./support/kernel.js";
import { REPO } from "./support/paths.js";
import { KernelOracle } from "./support/verifier-diff.js";

describe("the helper table", () => {
  it("is what the live kernel allows each program type", { skip: bpfMissing() }, () => {
    const oracle = new KernelOracle();
    const found: Record<string, string> = {};
    try {
      for (const type of PROBED_TYPES) found[type] = probeHelpers(oracle, type);
    } finally {
      oracle.close();
    }
    if (process.env.REGENERATE_HELPER_TABLE) {
      const rows = PROBED_TYPES.map((t) => `  ${t}: "${found[t]}",`).join("\n");
      writeFileSync(
        join(REPO, "src", "verifier", "helper-table.ts"),
        `/**\n * Which helpers each program type may call on this kernel (bit N of the hex number = helper N), as the\n * live kernel answered test/support/helper-probe.ts (regenerate with scripts/helper-table.sh).\n */\nimport type { ProgramType } from "../object/section-types.js";\n\nexport const KERNEL_HELPERS: Partial<Record<ProgramType, string>> = {\n${rows}\n};\n`,
      );
      return;
    }
    for (const type of PROBED_TYPES) assert.equal(KERNEL_HELPERS[type], found[type], `${type}: the kernel's helpers changed`);
  });
});
