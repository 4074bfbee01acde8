#!/usr/bin/env node
// The CLI entry point: the compiled CLI as one bundle with V8's code cache (see load-cli.cjs), which saves
// most of a command's start-up. `npm run build` makes both.
"use strict";
const { loadCli } = require("./load-cli.cjs");

// A reader that stops early (`tsbpf btf dump … --format c | head`) closes the pipe: the command then stops
// quietly, as bpftool and tcpdump do, instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
}

loadCli()
  .main(process.argv.slice(2))
  .then((status) => {
    process.exitCode = status;
  });
