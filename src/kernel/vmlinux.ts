/** The running kernel's BTF, read and parsed once per process (CO-RE, ksyms and attach targets all use it). */
import { readFileSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import { type Btf, parseBtf } from "../object/btf/parse.js";

export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";
const VMLINUX = VMLINUX_BTF;
let cached: Btf | undefined;

export function vmlinuxBtf(): Btf {
  if (cached) return cached;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(VMLINUX);
  } catch (e) {
    throw new NotSupportedError(
      "kernel BTF",
      `${VMLINUX} is not readable (CONFIG_DEBUG_INFO_BTF): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  cached = parseBtf(bytes, VMLINUX);
  return cached;
}
