/**
 * `tsbpf test-run OBJ PROG [--data-in F] [--data-out F] [--ctx-in F] [--ctx-out F] [--repeat N] [--json]
 * [--backend vm|kernel]`: runs one program of an object on a packet and/or context, as `bpftool prog run`
 * does through BPF_PROG_TEST_RUN — by default in the userspace machine (no root needed), or in the kernel.
 */
import { writeFileSync } from "node:fs";
import { loadKernelCollection } from "../kernel/collection.js";
import { loadCollectionSpec } from "../object/collection.js";
import { loadVmCollection } from "../vm/collection.js";
import { intFlag, parseArgs, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { readInput } from "./program-file.js";

const FLAGS = {
  "data-in": { value: true },
  "data-out": { value: true },
  "ctx-in": { value: true },
  "ctx-out": { value: true },
  repeat: { value: true },
  json: {},
  backend: { value: true, choices: ["vm", "kernel"] },
  // vm backend: load without verifying first (the program then runs checked).
  "no-verify": {},
} as const;

export function testRunCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, FLAGS);
  if (p.positional.length !== 2)
    throw new UsageError("usage: tsbpf test-run OBJ PROG [--data-in F] [--ctx-in F] [--repeat N] [--json] [--no-verify]");
  const [objPath, name] = p.positional as [string, string];
  const spec = loadCollectionSpec(readInput(objPath));
  if (!spec.programs.has(name))
    throw new UsageError(`${objPath} has no program '${name}' (it has: ${[...spec.programs.keys()].join(", ")})`);
  const dataIn = stringFlag(p, "data-in");
  const ctxIn = stringFlag(p, "ctx-in");
  const repeat = intFlag(p, "repeat") ?? 1;
  if (repeat < 1) throw new UsageError("--repeat must be at least 1");
  const opts = {
    ...(dataIn ? { data: readInput(dataIn) } : {}),
    ...(ctxIn ? { ctx: readInput(ctxIn) } : {}),
    repeat,
  };
  let result: { retval: number; duration: number; dataOut: Uint8Array; ctxOut: Uint8Array };
  if (stringFlag(p, "backend") === "kernel") {
    using collection = loadKernelCollection(spec, { programs: [name] });
    result = (collection.programs.get(name) as NonNullable<ReturnType<typeof collection.programs.get>>).testRun({
      ...opts,
      dataOutSize: 65536,
    });
  } else {
    const program = loadVmCollection(spec, { programs: [name], verify: !p.flags.has("no-verify") }).programs.get(name);
    if (!program) throw new UsageError(`program '${name}' was not loaded`);
    result = program.testRun(opts);
  }
  const dataOut = stringFlag(p, "data-out");
  const ctxOut = stringFlag(p, "ctx-out");
  if (dataOut) writeFileSync(dataOut, result.dataOut);
  if (ctxOut) writeFileSync(ctxOut, result.ctxOut);
  if (p.flags.has("json")) {
    io.stdout(
      `${JSON.stringify({ retval: result.retval, duration: Math.round(result.duration), data_out_size: result.dataOut.length })}\n`,
    );
  } else {
    io.stdout(`Return value: ${result.retval}, duration${repeat > 1 ? " (average)" : ""}: ${Math.round(result.duration)}ns\n`);
  }
  return 0;
}
