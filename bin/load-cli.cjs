// Loads the CLI's bundle (dist/bundle/cli/tsbpf.cjs, one CommonJS file built by scripts/bundle-cli.js from the
// compiled TypeScript) through a vm.Script that reuses V8's code cache written beside it at build time: the
// functions a command runs arrive already compiled to bytecode instead of being parsed and compiled on every
// start. A cache V8 rejects (another Node version or flags) is ignored and the bundle compiles as usual.
// CommonJS, like the bin, so that starting the CLI does not start Node's ES module loader.
"use strict";
const { readFileSync, statSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join } = require("node:path");
const { Script } = require("node:vm");

/** Three folders below the package root, as dist/src/<concept>/ is, so module-relative paths (testdata/) agree. */
const BUNDLE = join(__dirname, "..", "dist", "bundle", "cli", "tsbpf.cjs");
const CODE_CACHE = `${BUNDLE}.cache`;
/** tsc's record of its last build: newer than the bundle means the bundle no longer holds the compiled code. */
const TSC_BUILD_INFO = join(__dirname, "..", "dist", ".tsbuildinfo");

/**
 * False when there is no bundle (only tsc ran) or tsc ran after the last `npm run build`; a published
 * package has no build info.
 */
function bundleIsCurrent() {
  const bundle = statSync(BUNDLE, { throwIfNoEntry: false });
  const built = statSync(TSC_BUILD_INFO, { throwIfNoEntry: false });
  return bundle !== undefined && (!built || bundle.mtimeMs >= built.mtimeMs);
}

function loadCli() {
  if (!bundleIsCurrent()) {
    // Run tsc's output itself rather than a stale bundle (slower to start; `npm run build` makes a new one).
    const compiled = join(__dirname, "..", "dist", "src", "cli", "main.js");
    const url = require("node:url").pathToFileURL(compiled).href;
    return { main: async (argv, io) => (await import(url)).main(argv, io), script: undefined };
  }
  const source = readFileSync(BUNDLE, "utf8");
  let cachedData;
  try {
    cachedData = readFileSync(CODE_CACHE);
  } catch {
    cachedData = undefined; // not built yet: compile without
  }
  // Node's own CommonJS wrapper, on the source's first line so stack traces keep the bundle's line numbers.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE,
    cachedData,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return { main: module.exports.main, script };
}

module.exports = { BUNDLE, CODE_CACHE, loadCli };
