/**
 * The bin runs the CLI from a bundle with V8's code cache (bin/load-cli.cjs): the bundle must be the
 * compiled code — a command prints the same through it as through tsc's output — and V8 must take the cache.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import type { Io } from "../src/cli/commands.js";
import { main } from "../src/cli/main.js";
import { REPO } from "./support/paths.js";

interface LoadedCli {
  main(argv: string[], io?: Io): Promise<number>;
  script?: { cachedDataRejected?: boolean };
}
const loader = createRequire(import.meta.url)(join(REPO, "bin", "load-cli.cjs")) as { loadCli(): LoadedCli };

function capture(): { io: Io; text(): string } {
  let out = "";
  const add = (t: string | Uint8Array): void => {
    out += typeof t === "string" ? t : Buffer.from(t).toString("hex");
  };
  return {
    io: { stdout: add, stderr: add, stdin: () => new Uint8Array(0) },
    text: () => out,
  };
}

test("the bundle prints what tsc's output prints, for a dump, an error and a usage error", async () => {
  const bundled = loader.loadCli();
  for (const argv of [
    ["filter", "-ddd", "tcp port 80 and not host 10.0.0.1"],
    ["filter", "-d", "tcp port"],
    ["filter", "-d"],
  ]) {
    const a = capture();
    const b = capture();
    const statusBundled = await bundled.main(argv, a.io);
    const statusCompiled = await main(argv, b.io);
    assert.equal(statusBundled, statusCompiled, argv.join(" "));
    assert.equal(a.text(), b.text(), argv.join(" "));
  }
});

test("V8 accepts the code cache written at build time", () => {
  // a fresh process, as the bin starts: the cache is checked against this Node's version and flags
  const r = spawnSync(
    process.execPath,
    [
      "-e",
      `const s = require(${JSON.stringify(join(REPO, "bin", "load-cli.cjs"))}).loadCli().script; console.log(s ? String(s.cachedDataRejected) : "stale")`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.stdout.trim(), "false", r.stderr);
});
