/**
 * Map definitions from an object: BTF-defined maps in `.maps` (libbpf's `__uint`/`__type`/`__array`
 * encoding), legacy `maps` sections (struct bpf_map_def, and iproute2's bpf_elf_map with id and pinning),
 * and global data sections (.data, .rodata, .bss, .data.*, .rodata.*) as single-entry array maps.
 */
import type { Btf } from "./btf/parse.js";
import { resolveType, typeSize } from "./btf/resolve.js";
import type { ElfFile, ElfSection, ElfSymbol } from "./elf.js";
import { SHT_NOBITS, STT_SECTION } from "./elf.js";
import { ObjectError } from "./errors.js";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, mapTypeName } from "./map-types.js";
import { ByteReader } from "./reader.js";

export interface MapSpec {
  readonly name: string;
  /** enum bpf_map_type value, and its name. */
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly numaNode?: number;
  /** map_extra: bloom filter hash count, arena address hint. */
  readonly mapExtra?: number;
  /** 0 none, 1 by name (LIBBPF_PIN_BY_NAME / iproute2 PIN_OBJECT_NS), 2 global (iproute2). */
  readonly pinning: number;
  /** BTF type ids of key and value, when the object's BTF describes them. */
  readonly keyTypeId?: number;
  readonly valueTypeId?: number;
  /** The BTF those ids refer to (the object's). */
  readonly btf?: Btf;
  /** For map-in-map: the inner map's definition. */
  readonly inner?: MapSpec;
  /** Initial `values` of prog arrays and map-in-maps: slot → program or map name. */
  readonly values?: ReadonlyMap<number, string>;
  /** Initial contents of global data maps (value of key 0). */
  readonly contents?: Uint8Array;
  /** .rodata and .rodata.*: frozen after loading. */
  readonly readOnly?: boolean;
  /** Which ELF section defined it. */
  readonly section: string;
  /** iproute2 legacy fields. */
  readonly legacyId?: number;
}

const GLOBAL_DATA = /^\.(data|rodata|bss)(\..+)?$/;

export function isGlobalDataSection(name: string): boolean {
  return GLOBAL_DATA.test(name);
}

export function isMapSection(name: string): boolean {
  return name === ".maps" || name === "maps" || name.startsWith("maps/");
}

/** `__uint(name, N)` is encoded as `int (*name)[N]`: a pointer to an array of N elements. */
function uintMember(btf: Btf, typeId: number, where: string): number {
  const ptr = resolveType(btf, typeId, where);
  if (ptr.kind !== "PTR") throw new ObjectError("EMAPDEF", `${where}: expected __uint() (a pointer to an array), found ${ptr.kind}`);
  const arr = resolveType(btf, ptr.type, where);
  if (arr.kind !== "ARRAY")
    throw new ObjectError("EMAPDEF", `${where}: expected __uint() (a pointer to an array), found a pointer to ${arr.kind}`);
  return arr.nelems;
}

/** Parses one BTF map definition struct (the VAR's type in .maps, or an inner map's struct). */
function btfMapDef(
  btf: Btf,
  name: string,
  structId: number,
  section: string,
  depth = 0,
): MapSpec & { valuesMember?: { bitOffset: number } } {
  const where = `map ${name}`;
  const def = resolveType(btf, structId, where);
  if (def.kind !== "STRUCT") throw new ObjectError("EMAPDEF", `${where}: definition is ${def.kind}, expected a struct`, { section });
  let type = 0;
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let keyTypeId: number | undefined;
  let valueTypeId: number | undefined;
  let maxEntries = 0;
  let flags = 0;
  let numaNode: number | undefined;
  let mapExtra: number | undefined;
  let pinning = 0;
  let inner: MapSpec | undefined;
  let valuesMember: { bitOffset: number } | undefined;
  for (const m of def.members) {
    const mwhere = `${where} field ${m.name}`;
    switch (m.name) {
      case "type":
        type = uintMember(btf, m.type, mwhere);
        break;
      case "max_entries":
        maxEntries = uintMember(btf, m.type, mwhere);
        break;
      case "map_flags":
        flags = uintMember(btf, m.type, mwhere);
        break;
      case "numa_node":
        numaNode = uintMember(btf, m.type, mwhere);
        break;
      case "pinning":
        pinning = uintMember(btf, m.type, mwhere);
        break;
      case "map_extra":
        mapExtra = uintMember(btf, m.type, mwhere);
        break;
      case "key_size":
        keySize = uintMember(btf, m.type, mwhere);
        break;
      case "value_size":
        valueSize = uintMember(btf, m.type, mwhere);
        break;
      case "key":
      case "value": {
        const ptr = resolveType(btf, m.type, mwhere);
        if (ptr.kind !== "PTR")
          throw new ObjectError("EMAPDEF", `${mwhere}: expected __type() (a pointer), found ${ptr.kind}`, { section });
        const size = typeSize(btf, ptr.type, mwhere);
        if (m.name === "key") {
          keyTypeId = ptr.type;
          keySize = size;
        } else {
          valueTypeId = ptr.type;
          valueSize = size;
        }
        break;
      }
      case "values": {
        // __array(values, struct inner): an array (of 0 elements) of pointers to the inner definition.
        const arr = resolveType(btf, m.type, mwhere);
        if (arr.kind !== "ARRAY") throw new ObjectError("EMAPDEF", `${mwhere}: expected __array(), found ${arr.kind}`, { section });
        const ptr = resolveType(btf, arr.type, mwhere);
        if (ptr.kind !== "PTR")
          throw new ObjectError("EMAPDEF", `${mwhere}: expected __array() of pointers, found ${ptr.kind}`, { section });
        const target = resolveType(btf, ptr.type, mwhere);
        if (target.kind === "STRUCT" && depth === 0) {
          const innerDef = btfMapDef(btf, `${name}.inner`, ptr.type, section, depth + 1);
          if (innerDef.inner) throw new ObjectError("EMAPDEF", `${mwhere}: inner maps cannot hold maps themselves`, { section });
          inner = innerDef;
        } else if (target.kind !== "FUNC_PROTO" && target.kind !== "STRUCT") {
          throw new ObjectError("EMAPDEF", `${mwhere}: __array() must point to a map definition or a program`, { section });
        }
        valuesMember = { bitOffset: m.bitOffset };
        break;
      }
      default:
        throw new ObjectError("EMAPDEF", `${where}: unknown map definition field '${m.name}'`, { section });
    }
  }
  // Map-in-maps hold map fds, prog arrays program fds: 4-byte values where the definition leaves them out.
  const isMapOfMaps = type === 12 || type === 13;
  if (valueSize === undefined && (isMapOfMaps || type === 3)) valueSize = 4;
  return {
    name,
    type,
    typeName: mapTypeName(type),
    keySize: keySize ?? 0,
    valueSize: valueSize ?? 0,
    maxEntries,
    flags,
    pinning,
    section,
    ...(numaNode !== undefined ? { numaNode } : {}),
    ...(mapExtra !== undefined ? { mapExtra } : {}),
    ...(keyTypeId !== undefined ? { keyTypeId } : {}),
    ...(valueTypeId !== undefined ? { valueTypeId } : {}),
    ...(inner ? { inner } : {}),
    ...(valuesMember ? { valuesMember } : {}),
  };
}

/** BTF-defined maps of the `.maps` section, with initial `values` from its relocations. */
function btfMaps(elf: ElfFile, btf: Btf | undefined, section: ElfSection): MapSpec[] {
  if (!btf) throw new ObjectError("EMAPDEF", "a .maps section needs the object's BTF (compile with -g)", { section: ".maps" });
  const datasec = btf.types.find((t) => t.kind === "DATASEC" && t.name === ".maps");
  if (datasec?.kind !== "DATASEC")
    throw new ObjectError("EMAPDEF", "BTF has no DATASEC .maps describing the .maps section", { section: ".maps" });
  const relocs = elf.relocationsOf(section.index);
  return datasec.vars.map((v) => {
    const variable = btf.type(v.type);
    if (variable?.kind !== "VAR")
      throw new ObjectError("EMAPDEF", `.maps entry refers to type ${v.type}, not a variable`, { section: ".maps" });
    const def = btfMapDef(btf, variable.name, variable.type, ".maps");
    const { valuesMember, ...spec } = def;
    if (!valuesMember) return spec;
    // Each relocation inside this variable's `values` array initializes one slot. clang leaves DATASEC
    // offsets at 0 in objects (libbpf fixes them up from the symbols), so locate the variable by symbol.
    const sym = elf.symbols.find((s) => s.shndx === section.index && s.name === variable.name);
    const varOffset = sym ? sym.value : v.offset;
    const varSize = sym ? sym.size : v.size;
    const start = varOffset + valuesMember.bitOffset / 8;
    const values = new Map<number, string>();
    for (const r of relocs) {
      if (r.offset < start || r.offset >= varOffset + varSize) continue;
      const sym = elf.symbols[r.symbol] as ElfSymbol;
      values.set((r.offset - start) / 8, sym.name);
    }
    return { ...spec, values };
  });
}

/** Legacy `maps` sections (`maps`, `maps/*`): one fixed-size definition per symbol, indexed across all of them. */
function legacyMaps(elf: ElfFile, sections: readonly ElfSection[]): MapSpec[] {
  const parsed = sections.map((section) => legacySection(elf, section));
  const all = parsed.flatMap((p) => p.specs);
  const refs = parsed.flatMap((p) => p.inners);
  const iproute2 = parsed.some((p) => p.iproute2);
  // Map-in-maps name their inner template by index (bpf_load.c) or by id (iproute2).
  return all.map((m, k) => {
    const ref = refs[k];
    if (ref === undefined) return m;
    const inner = iproute2 ? all.find((x) => x.legacyId === ref) : all[ref];
    if (!inner)
      throw new ObjectError("EMAPDEF", `map ${m.name}: inner map ${iproute2 ? `id ${ref}` : `#${ref}`} does not exist`, {
        section: m.section,
      });
    return { ...m, inner };
  });
}

function legacySection(elf: ElfFile, section: ElfSection): { specs: MapSpec[]; inners: Array<number | undefined>; iproute2: boolean } {
  const symbols = elf.symbols
    .filter((s) => s.shndx === section.index && s.type !== STT_SECTION && s.name !== "")
    .sort((a, b) => a.value - b.value);
  if (symbols.length === 0) return { specs: [], inners: [], iproute2: false };
  const defSize = Math.floor(section.size / symbols.length);
  if (defSize < 16)
    throw new ObjectError("EMAPDEF", `legacy map definitions of ${defSize} bytes are too small (at least 16)`, { section: section.name });
  const r = new ByteReader(section.data, elf.byteOrder, `legacy maps section ${section.name}`, section.offset);
  // Two layouts share the name "maps": samples/bpf's bpf_load.c (28 bytes: ..., map_flags, inner_map_idx,
  // numa_node) and iproute2's bpf_elf_map (36 bytes: ..., flags, id, pinning, inner_id, inner_idx).
  const iproute2 = defSize >= 36;
  const inners: Array<number | undefined> = [];
  const specs = symbols.map((sym): MapSpec => {
    if (sym.value % 4 !== 0 || sym.value + Math.min(defSize, 20) > section.size) {
      throw new ObjectError("EMAPDEF", `map ${sym.name} at offset ${sym.value} does not fit the section`, {
        section: section.name,
        offset: section.offset + sym.value,
      });
    }
    r.seek(sym.value, `map ${sym.name}`);
    const type = r.u32(`map ${sym.name} type`);
    const keySize = r.u32("key_size");
    const valueSize = r.u32("value_size");
    const maxEntries = r.u32("max_entries");
    const flags = defSize >= 20 ? r.u32("map_flags") : 0;
    let legacyId: number | undefined;
    let pinning = 0;
    let numaNode: number | undefined;
    const mapOfMaps = type === 12 || type === 13;
    if (iproute2) {
      legacyId = r.u32("id");
      pinning = r.u32("pinning");
      const innerId = r.u32("inner_id");
      r.u32("inner_idx");
      inners.push(mapOfMaps && innerId !== 0 ? innerId : undefined);
    } else if (defSize >= 28) {
      const innerIdx = r.u32("inner_map_idx");
      numaNode = r.u32("numa_node");
      inners.push(mapOfMaps ? innerIdx : undefined);
    } else {
      inners.push(undefined);
    }
    return {
      name: sym.name,
      type,
      typeName: mapTypeName(type),
      keySize,
      valueSize: valueSize === 0 && mapOfMaps ? 4 : valueSize, // map-in-maps hold 4-byte ids
      maxEntries,
      flags,
      pinning,
      section: section.name,
      ...(legacyId !== undefined ? { legacyId } : {}),
      ...(numaNode ? { numaNode } : {}),
    };
  });
  return { specs, inners, iproute2 };
}

/** A global data section as a single-entry array map. */
function globalDataMap(btf: Btf | undefined, section: ElfSection): MapSpec {
  const readOnly = section.name.startsWith(".rodata");
  const datasec = btf?.types.find((t) => t.kind === "DATASEC" && t.name === section.name);
  return {
    name: section.name,
    type: 2,
    typeName: "array",
    keySize: 4,
    valueSize: section.size,
    maxEntries: 1,
    flags: (readOnly ? BPF_F_RDONLY_PROG : 0) | BPF_F_MMAPABLE,
    pinning: 0,
    section: section.name,
    contents: section.type === SHT_NOBITS ? new Uint8Array(section.size) : section.data,
    ...(readOnly ? { readOnly } : {}),
    ...(datasec ? { valueTypeId: datasec.id } : {}),
  };
}

/** The spec (and its inner map's) with a reference to the BTF its type ids refer to. */
function withBtf(m: MapSpec, btf: Btf | undefined): MapSpec {
  if (!btf || (m.keyTypeId === undefined && m.valueTypeId === undefined && !m.inner)) return m;
  return { ...m, btf, ...(m.inner ? { inner: withBtf(m.inner, btf) } : {}) };
}

/** Every map an object defines, by name. */
export function collectMaps(elf: ElfFile, btf: Btf | undefined): Map<string, MapSpec> {
  const maps = new Map<string, MapSpec>();
  const add = (m: MapSpec): void => {
    if (maps.has(m.name)) throw new ObjectError("EMAPDEF", `map ${m.name} is defined twice`, { section: m.section });
    maps.set(m.name, withBtf(m, btf));
  };
  legacyMaps(
    elf,
    elf.sections.filter((s) => s.name !== ".maps" && isMapSection(s.name)),
  ).forEach(add);
  for (const section of elf.sections) {
    if (section.name === ".maps") btfMaps(elf, btf, section).forEach(add);
    else if (isGlobalDataSection(section.name) && section.size > 0) {
      if (section.size > 1 << 28)
        throw new ObjectError("EMAPDEF", `global data section of ${section.size} bytes is too large`, { section: section.name });
      add(globalDataMap(btf, section));
    }
  }
  return maps;
}
