/**
 * `tsbpf iter pin OBJ PATH`: bpftool's — the object's first program, an iterator (SEC("iter/...")), attached
 * and its link pinned at PATH, so that every read of PATH (`cat PATH`) runs the iterator afresh.
 */
import { readFileSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import { loadKernelCollection } from "../kernel/collection.js";
import { attachIterator } from "../kernel/link.js";
import { loadCollectionSpec } from "../object/collection.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";

export function iterCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const usage = "usage: tsbpf iter pin OBJ PATH";
  if (sub !== "pin") throw new UsageError(usage);
  const p = parseArgs(rest, {});
  const [file, path, ...extra] = p.positional;
  if (file === undefined || path === undefined) throw new UsageError(usage);
  if (extra[0] === "map")
    throw new NotSupportedError("iter pin ... map MAP", "iterators over one map's elements (bpf_iter_link_info) are not built yet");
  if (extra.length > 0) throw new UsageError(`iter pin: unexpected '${extra[0]}'; ${usage}`);
  const spec = loadCollectionSpec(readFileSync(file));
  const first = [...spec.programs.values()][0];
  if (first?.attachType !== "trace_iter")
    throw new UsageError(
      `iter pin: ${file}'s first program${first ? ` (${first.name}, ${first.section})` : ""} is not an iterator (SEC("iter/..."))`,
    );
  using collection = loadKernelCollection(spec, { programs: [first.name] });
  using link = attachIterator(collection.programs.get(first.name) as NonNullable<ReturnType<typeof collection.programs.get>>);
  link.pin(path);
  io.stdout(`${first.name}: iterator attached; its link pinned at ${path} (read it to run the iterator)\n`);
  return 0;
}
