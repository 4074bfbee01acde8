/**
 * What this kernel supports, found by trying (libbpf's libbpf_probe_bpf_map_type/prog_type/helper) and
 * cached for the process: a map type by creating a tiny map, a program type by loading `r0 = 0; exit`,
 * a helper by loading a call to it and reading the verifier's answer.
 */

import { encode } from "../isa/codec.js";
import { insn } from "../isa/instruction.js";
import { PROGRAM_TYPE_IDS, type ProgramType } from "../object/section-types.js";
import { mapCreate, progLoad } from "./bpf.js";
import { KernelError } from "./errors.js";
import { linuxSys, type Sys } from "./sys.js";

const cache = new Map<string, boolean>();

function cached(key: string, probe: () => boolean): boolean {
  let v = cache.get(key);
  if (v === undefined) {
    v = probe();
    cache.set(key, v);
  }
  return v;
}

// Key/value sizes, entries and flags a map of each type accepts (map-in-maps need an inner map: not probed here).
function mapShape(type: number): { keySize: number; valueSize: number; maxEntries: number; flags: number } {
  switch (type) {
    case 11: // lpm_trie
      return { keySize: 8, valueSize: 8, maxEntries: 1, flags: 1 };
    case 22: // queue
    case 23: // stack
      return { keySize: 0, valueSize: 4, maxEntries: 1, flags: 0 };
    case 27: // ringbuf
    case 31: // user_ringbuf
      return { keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 };
    case 30: // bloom_filter
      return { keySize: 0, valueSize: 4, maxEntries: 1, flags: 0 };
    case 7: // stack_trace
      return { keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 };
    default:
      return { keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 };
  }
}

/** Whether the kernel can create maps of this type (enum bpf_map_type). */
export function supportsMapType(type: number, sys: Sys = linuxSys()): boolean {
  return cached(`map:${type}`, () => {
    try {
      sys.close(mapCreate(sys, { type, ...mapShape(type), name: "tsbpf_probe" }));
      return true;
    } catch (e) {
      if (e instanceof KernelError && (e.code === "EINVAL" || e.code === "ENOTSUP" || e.code === "EOPNOTSUPP")) return false;
      throw e;
    }
  });
}

const TRIVIAL = encode([insn({ op: 0xb7 }), insn({ op: 0x95 })]);

/** Whether the kernel knows this program type (types that need an attach target count as known). */
export function supportsProgramType(type: ProgramType, sys: Sys = linuxSys()): boolean {
  return cached(`prog:${type}`, () => {
    try {
      sys.close(
        progLoad(sys, { type: PROGRAM_TYPE_IDS[type], insns: TRIVIAL, license: "GPL", name: "tsbpf_probe", logSize: 0, logLevel: 0 }).fd,
      );
      return true;
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      // An unknown type is EINVAL before any verifier log; known types refused for other reasons (missing
      // attach target, privileges) answer differently or log why.
      if (e.code !== "EINVAL") return true;
      const withLog = (() => {
        try {
          progLoad(sys, { type: PROGRAM_TYPE_IDS[type], insns: TRIVIAL, license: "GPL", name: "tsbpf_probe", logSize: 4096, logLevel: 1 });
          return "";
        } catch (e2) {
          return (e2 as { log?: string }).log ?? "";
        }
      })();
      return withLog.trim() !== "";
    }
  });
}

/** Whether programs of `type` may call helper `id` here. */
export function supportsHelper(type: ProgramType, id: number, sys: Sys = linuxSys()): boolean {
  return cached(`helper:${type}:${id}`, () => {
    const insns = encode([insn({ op: 0x85, imm: id }), insn({ op: 0xb7 }), insn({ op: 0x95 })]);
    try {
      sys.close(
        progLoad(sys, { type: PROGRAM_TYPE_IDS[type], insns, license: "GPL", name: "tsbpf_probe", logSize: 1 << 16, logLevel: 1 }).fd,
      );
      return true;
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      const log = (e as { log?: string }).log ?? "";
      // Refused for its arguments (we pass none) means the helper exists for this type.
      return !/invalid func|unknown func|program of this type cannot use helper/.test(log);
    }
  });
}
