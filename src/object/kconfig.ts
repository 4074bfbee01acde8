/**
 * `.kconfig` externs (`extern unsigned int CONFIG_HZ __kconfig;`): resolved from the kernel configuration,
 * as libbpf does, into a read-only `.kconfig` array map that the program reads through map-value references.
 * LINUX_KERNEL_VERSION comes from the release string; a weak extern that the config lacks reads as 0.
 */
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import { resolveType, typeSize } from "./btf/resolve.js";
import type { CollectionSpec } from "./collection.js";
import { STB_WEAK } from "./elf.js";
import { ObjectError } from "./errors.js";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from "./map-types.js";
import type { MapSpec } from "./maps.js";
import type { ProgramSpec, Reference } from "./programs.js";

export interface KernelConfig {
  /** CONFIG_* options as written in the config file (`y`, `m`, `250`, `"string"`). */
  readonly options: ReadonlyMap<string, string>;
  /** The kernel release, e.g. "6.18.44". */
  readonly release: string;
}

/** Parses a kernel .config text. */
export function parseKernelConfig(text: string, kernelRelease: string): KernelConfig {
  const options = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line.trim());
    if (m) options.set(m[1] as string, m[2] as string);
  }
  return { options, release: kernelRelease };
}

/** The running kernel's configuration from /proc/config.gz or /boot/config-$(uname -r). */
export function readKernelConfig(): KernelConfig {
  const rel = release();
  try {
    return parseKernelConfig(gunzipSync(readFileSync("/proc/config.gz")).toString("utf8"), rel);
  } catch {
    try {
      return parseKernelConfig(readFileSync(`/boot/config-${rel}`, "utf8"), rel);
    } catch (e) {
      throw new ObjectError(
        "EKCONFIG",
        `cannot read the kernel configuration (/proc/config.gz, /boot/config-${rel}): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}

/** KERNEL_VERSION(a, b, c) of a release string, with c capped at 255 as the kernel does. */
export function kernelVersionCode(rel: string): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (!m) throw new ObjectError("EKCONFIG", `cannot parse kernel release '${rel}'`);
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

function encodeValue(name: string, raw: string | undefined, size: number, out: DataView, at: number): void {
  if (raw === undefined) return; // weak and absent: zeros
  if (raw === "y" || raw === "m" || raw === "n") {
    // bool/tristate: libbpf stores y=1, m=2, n=0 (tristate enums use the same numbering)
    out.setUint8(at, raw === "y" ? 1 : raw === "m" ? 2 : 0);
    return;
  }
  if (raw.startsWith('"')) {
    const bytes = new TextEncoder().encode(JSON.parse(raw) as string);
    if (bytes.length >= size) throw new ObjectError("EKCONFIG", `${name}: string value does not fit ${size} bytes`);
    new Uint8Array(out.buffer, out.byteOffset + at, size).set(bytes);
    return;
  }
  const value = BigInt(raw);
  if (size === 8) out.setBigUint64(at, BigInt.asUintN(64, value), true);
  else if (size === 4) out.setUint32(at, Number(BigInt.asUintN(32, value)), true);
  else if (size === 2) out.setUint16(at, Number(BigInt.asUintN(16, value)), true);
  else if (size === 1) out.setUint8(at, Number(BigInt.asUintN(8, value)));
  else throw new ObjectError("EKCONFIG", `${name}: cannot store a number in ${size} bytes`);
}

/**
 * Resolves the collection's `.kconfig` externs against a kernel configuration: adds a `.kconfig` map holding
 * their values and turns each program's references to them into reads of that map. A strong extern the
 * configuration does not define is an error naming it.
 */
export function resolveKconfig(spec: CollectionSpec, config: KernelConfig): CollectionSpec {
  const datasec = spec.btf?.types.find((t) => t.kind === "DATASEC" && t.name === ".kconfig");
  if (datasec?.kind !== "DATASEC" || !spec.btf) return spec;
  const btf = spec.btf;
  // Lay the externs out in declaration order, each aligned to its size (capped at 8).
  const layout = new Map<string, { offset: number; size: number }>();
  let offset = 0;
  for (const v of datasec.vars) {
    const variable = resolveType(btf, v.type, ".kconfig");
    if (variable.kind !== "VAR") throw new ObjectError("EKCONFIG", `.kconfig entry ${v.type} is not a variable`);
    const size = typeSize(btf, variable.type, `kconfig ${variable.name}`);
    const align = Math.min(8, 2 ** Math.floor(Math.log2(Math.max(1, size))));
    offset = Math.ceil(offset / align) * align;
    layout.set(variable.name, { offset, size });
    offset += size;
  }
  const contents = new Uint8Array(Math.max(offset, 1));
  const view = new DataView(contents.buffer);
  for (const [name, { offset: at, size }] of layout) {
    const sym = spec.elf?.symbols.find((s) => s.name === name);
    const weak = sym?.bind === STB_WEAK;
    const raw = name === "LINUX_KERNEL_VERSION" ? String(kernelVersionCode(config.release)) : config.options.get(name);
    if (raw === undefined && !weak)
      throw new ObjectError("EKCONFIG", `unresolved kconfig extern ${name}: the kernel configuration does not set it`);
    encodeValue(name, raw, size, view, at);
  }
  const map: MapSpec = {
    name: ".kconfig",
    type: 2,
    typeName: "array",
    keySize: 4,
    valueSize: contents.length,
    maxEntries: 1,
    flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
    pinning: 0,
    section: ".kconfig",
    contents,
    readOnly: true,
  };
  const programs = new Map<string, ProgramSpec>();
  for (const [name, p] of spec.programs) {
    const references = new Map<number, Reference>();
    for (const [slot, r] of p.references) {
      const place = r.kind === "extern" ? layout.get(r.name) : undefined;
      references.set(slot, place ? { kind: "map_value", map: ".kconfig", offset: place.offset } : r);
    }
    programs.set(name, { ...p, references });
  }
  return { ...spec, programs, maps: new Map([...spec.maps, [".kconfig", map]]) };
}
