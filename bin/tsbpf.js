#!/usr/bin/env node
// The CLI entry point. It runs the CLI's bundle (dist/bundle/cli, built from the compiled TypeScript by
// `npm run build`): one module per command instead of ~50 files to resolve and load, which is most of the
// CLI's start-up. The bundle sits three folders below the package root, as dist/src/<concept>/ does, so paths
// the code takes relative to its own module (testdata/) resolve the same from both.
import { main } from "../dist/bundle/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
