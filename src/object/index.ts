/**
 * object/ — reading BPF ELF objects as clang writes them (`clang -O2 -g -target bpf -c`): the ELF reader,
 * BTF and BTF.ext, program/map specs with libbpf's conventions, relocation and bpf2bpf linking, and
 * `llvm-objdump`-style disassembly. Nothing here touches the kernel; the result is a CollectionSpec.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { loadCollectionSpec } from "tsbpf/object";
 * const spec = loadCollectionSpec(readFileSync("prog.o"));
 * for (const [name, p] of spec.programs) console.log(name, p.type, p.instructions.length);
 * ```
 */
export * from "./btf/index.js";
export { type CollectionSpec, loadCollectionSpec, type ObjectCollectionSpec } from "./collection.js";
export { applyCoreRelocations, type CoreOutcome, POISON_HELPER } from "./core/relocate.js";
export * from "./elf.js";
export { ObjectError } from "./errors.js";
export { type KernelConfig, kernelVersionCode, parseKernelConfig, readKernelConfig, resolveKconfig } from "./kconfig.js";
export { type KernelSymbols, parseKallsyms, readKallsyms, resolveKsyms, unresolvedExterns } from "./ksyms.js";
export { MAP_TYPES, mapTypeName } from "./map-types.js";
export type { MapSpec } from "./maps.js";
export { type ObjdumpOptions, objdump } from "./objdump.js";
export type { ProgramSpec, Reference } from "./programs.js";
export { PROGRAM_TYPE_IDS, type ProgramType, sectionType } from "./section-types.js";
