#!/usr/bin/env node
// The CLI entry point: the compiled CLI as one bundle with V8's code cache (see load-cli.cjs), which saves
// most of a command's start-up. `npm run build` makes both.
"use strict";
const { loadCli } = require("./load-cli.cjs");

loadCli()
  .main(process.argv.slice(2))
  .then((status) => {
    process.exitCode = status;
  });
