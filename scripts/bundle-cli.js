// Bundles the compiled CLI (dist/src/cli/main.js, tsc's output) into dist/bundle/cli/: one module for the
// dispatcher plus one per command and shared chunks, so a command loads a handful of files instead of ~50.
// Run by `npm run build`; the previous bundle is removed first so no stale chunk lingers.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}dist/bundle/cli`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/src/cli/main.js`],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // koffi is a native module loaded through require() only by the kernel commands.
  external: ["koffi"],
  outdir,
  logLevel: "warning",
});
