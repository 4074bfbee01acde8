/**
 * object/btf — BPF Type Format (https://docs.kernel.org/bpf/btf.html): parse .BTF sections and
 * /sys/kernel/btf/vmlinux, and print them as `bpftool btf dump ... format raw` does.
 */
export { dumpBtfC } from "./c-dump.js";
export { dumpBtfRaw } from "./dump.js";
export { BTF_MAGIC, type Btf, parseBtf } from "./parse.js";
export * from "./types.js";

import { parseElf } from "../elf.js";
import { ObjectError } from "../errors.js";
import { type Btf, parseBtf } from "./parse.js";

/** BTF from a file's bytes: raw BTF (vmlinux) or an ELF object's .BTF section. */
export function btfFromFile(bytes: Uint8Array, name: string): Btf {
  const raw = (bytes[0] === 0x9f && bytes[1] === 0xeb) || (bytes[0] === 0xeb && bytes[1] === 0x9f);
  if (raw) return parseBtf(bytes, name);
  const section = parseElf(bytes).sectionByName(".BTF");
  if (!section) throw new ObjectError("ENOBTF", `${name} has no .BTF section`);
  return parseBtf(section.data, `${name} .BTF`);
}
export { type BtfExt, CORE_RELO_KINDS, type CoreRelo, type CoreReloKind, type FuncInfo, type LineInfo, parseBtfExt } from "./ext.js";
