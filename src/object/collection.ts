/**
 * An object file as a `CollectionSpec`: programs, maps and BTF, described without touching any kernel
 * (cilium/ebpf's CollectionSpec; libbpf's bpf_object before load). Both backends consume it.
 */
import { type BtfExt, parseBtfExt } from "./btf/ext.js";
import { type Btf, parseBtf } from "./btf/parse.js";
import { fixDatasecs } from "./datasec.js";
import { type ElfFile, EM_BPF, parseElf } from "./elf.js";
import { ObjectError } from "./errors.js";
import { collectMaps, type MapSpec } from "./maps.js";
import { collectPrograms, type ProgramSpec } from "./programs.js";

export interface CollectionSpec {
  readonly programs: ReadonlyMap<string, ProgramSpec>;
  readonly maps: ReadonlyMap<string, MapSpec>;
  readonly btf?: Btf;
  readonly btfExt?: BtfExt;
  readonly license: string;
  readonly kernelVersion: number;
  /** The object file it came from; absent for generated collections (tracing scripts, test generators). */
  readonly elf?: ElfFile;
}

/** A collection read from an object file: its ELF is there. */
export interface ObjectCollectionSpec extends CollectionSpec {
  readonly elf: ElfFile;
}

const ET_REL = 1;
const EM_NONE = 0;

export function loadCollectionSpec(bytes: Uint8Array): ObjectCollectionSpec {
  const elf = parseElf(bytes);
  if (elf.type !== ET_REL) throw new ObjectError("ENOTBPF", `ELF type ${elf.type} is not a relocatable object (ET_REL)`, { offset: 16 });
  // Old LLVM wrote e_machine = EM_NONE; libbpf accepts both.
  if (elf.machine !== EM_BPF && elf.machine !== EM_NONE)
    throw new ObjectError("ENOTBPF", `ELF machine ${elf.machine} is not BPF (247)`, { offset: 18 });
  const licenseSection = elf.sectionByName("license");
  const license = licenseSection ? new TextDecoder().decode(licenseSection.data).replace(/\0.*$/s, "") : "";
  const versionSection = elf.sectionByName("version");
  const kernelVersion =
    versionSection && versionSection.data.byteLength >= 4
      ? new DataView(versionSection.data.buffer, versionSection.data.byteOffset).getUint32(0, elf.byteOrder === "little")
      : 0;
  const btfSection = elf.sectionByName(".BTF");
  const btf = btfSection ? fixDatasecs(parseBtf(btfSection.data), elf) : undefined;
  const extSection = elf.sectionByName(".BTF.ext");
  const btfExt = btf && extSection ? parseBtfExt(extSection.data, btf) : undefined;
  const maps = collectMaps(elf, btf);
  const programs = collectPrograms(elf, maps, { license, kernelVersion });
  return { programs, maps, license, kernelVersion, elf, ...(btf ? { btf } : {}), ...(btfExt ? { btfExt } : {}) };
}
