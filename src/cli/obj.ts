/** `tsbpf obj info OBJ`: the object's programs and maps as JSON. */
import { loadCollectionSpec } from "../object/collection.js";
import type { MapSpec } from "../object/maps.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { readInput } from "./program-file.js";

function mapInfo(m: MapSpec): Record<string, unknown> {
  return {
    name: m.name,
    type: m.typeName,
    key_size: m.keySize,
    value_size: m.valueSize,
    max_entries: m.maxEntries,
    flags: m.flags,
    ...(m.pinning ? { pinning: m.pinning } : {}),
    ...(m.inner ? { inner: mapInfo(m.inner) } : {}),
    ...(m.values ? { values: Object.fromEntries(m.values) } : {}),
    section: m.section,
  };
}

export function objCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  if (sub !== "info") throw new UsageError("usage: tsbpf obj info OBJ");
  const p = parseArgs(rest, {});
  if (p.positional.length !== 1) throw new UsageError("obj info needs exactly one OBJ");
  const spec = loadCollectionSpec(readInput(p.positional[0] as string));
  const info = {
    license: spec.license,
    kernel_version: spec.kernelVersion,
    programs: [...spec.programs.values()].map((prog) => {
      const helpers = new Set<number>();
      for (const i of prog.instructions) if (i.op === 0x85 && i.src === 0) helpers.add(i.imm);
      return {
        name: prog.name,
        section: prog.section,
        type: prog.type,
        type_source: prog.typeSource,
        ...(prog.attachType ? { attach_type: prog.attachType } : {}),
        ...(prog.attachTo !== undefined ? { attach_to: prog.attachTo } : {}),
        insn_count: prog.instructions.reduce((n, i) => n + (i.op === 0x18 ? 2 : 1), 0),
        functions: prog.functions.map((f) => f.name),
        helpers: [...helpers].sort((a, b) => a - b),
        maps: [...new Set([...prog.references.values()].flatMap((r) => (r.kind === "extern" ? [] : [r.map])))],
      };
    }),
    maps: [...spec.maps.values()].map(mapInfo),
  };
  io.stdout(`${JSON.stringify(info, null, 2)}\n`);
  return 0;
}
