/**
 * `tsbpf feature probe [kernel] [full]`: what this kernel offers, as `bpftool feature probe kernel` reports it —
 * program types, map types, the helpers each program type may call, and miscellaneous features — each found by
 * trying (kernel/probe.ts). bpftool's first two sections (kernel configuration, system call availability) are
 * not reproduced. Without `full`, the helpers whose probing writes to the kernel log are left out, as bpftool does.
 */
import { HELPER_NAMES } from "../helpers/names.js";
import {
  type MiscFeature,
  NEEDS_TARGET,
  supportsHelper,
  supportsMapType,
  supportsMiscFeature,
  supportsProgramType,
} from "../kernel/probe.js";
import { MAP_TYPES } from "../object/map-types.js";
import { PROGRAM_TYPE_IDS, type ProgramType } from "../object/section-types.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";

/** Helpers bpftool probes only in full mode: probing them warns in the kernel log. */
const NOISY_HELPERS = new Set(["trace_printk", "trace_vprintk", "probe_write_user"]);
const MISC: Array<[MiscFeature, string]> = [
  ["large_insn_limit", "Large program size limit"],
  ["bounded_loops", "Bounded loop support"],
  ["v2_isa_extension", "ISA extension v2"],
  ["v3_isa_extension", "ISA extension v3"],
];

export function featureCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const usage = "usage: tsbpf feature probe [kernel] [full] [--json]";
  if (sub !== "probe") throw new UsageError(usage);
  const p = parseArgs(rest, { json: {} });
  const words = p.positional.filter((w) => w !== "kernel");
  const full = words.includes("full");
  if (words.some((w) => w !== "full")) throw new UsageError(`feature probe: unexpected '${words.find((w) => w !== "full")}'; ${usage}`);

  const programTypes = (Object.entries(PROGRAM_TYPE_IDS) as Array<[ProgramType, number]>).sort((a, b) => a[1] - b[1]).map(([name]) => name);
  const programs = programTypes.map((name) => ({ name, available: supportsProgramType(name) }));
  const maps = MAP_TYPES.slice(1).map((name, i) => ({ name, available: supportsMapType(i + 1) }));
  const helpers = programs.map(({ name, available }) => {
    if (!available) return { name, helpers: [], why: "Program type not supported" };
    if (NEEDS_TARGET.has(name)) return { name, helpers: [], why: "Could not determine which helpers are available" };
    const ids = HELPER_NAMES.map((_, id) => id).filter((id) => id > 0 && (full || !NOISY_HELPERS.has(HELPER_NAMES[id] as string)));
    return { name, helpers: ids.filter((id) => supportsHelper(name, id)).map((id) => `bpf_${HELPER_NAMES[id]}`) };
  });
  const misc = MISC.map(([feature, text]) => ({ feature, text, available: supportsMiscFeature(feature) }));

  if (p.flags.has("json")) {
    const json = {
      program_types: Object.fromEntries(programs.map((x) => [`have_${x.name}_prog_type`, x.available])),
      map_types: Object.fromEntries(maps.map((x) => [`have_${x.name}_map_type`, x.available])),
      helpers: Object.fromEntries(helpers.map((x) => [`${x.name}_available_helpers`, x.helpers])),
      misc: Object.fromEntries(misc.map((x) => [`have_${x.feature}`, x.available])),
    };
    io.stdout(`${JSON.stringify(json)}\n`);
    return 0;
  }
  const is = (available: boolean): string => (available ? "is available" : "is NOT available");
  let out = "Scanning eBPF program types...\n";
  for (const x of programs) out += `eBPF program_type ${x.name} ${is(x.available)}\n`;
  out += "\nScanning eBPF map types...\n";
  for (const x of maps) out += `eBPF map_type ${x.name} ${is(x.available)}\n`;
  out += "\nScanning eBPF helper functions...\n";
  for (const x of helpers) {
    out += `eBPF helpers supported for program type ${x.name}:\n`;
    out += x.why ? `\t${x.why}\n` : x.helpers.map((h) => `\t- ${h}\n`).join("");
  }
  out += "\nScanning miscellaneous eBPF features...\n";
  for (const x of misc) out += `${x.text} ${is(x.available)}\n`;
  io.stdout(`${out}\n`);
  return 0;
}
