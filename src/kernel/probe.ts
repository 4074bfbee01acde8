/**
 * What this kernel supports, found by trying (libbpf's libbpf_probe_bpf_map_type/prog_type/helper) and
 * cached for the process: a map type by creating a tiny map, a program type by loading `r0 = 0; exit`,
 * a helper by loading a call to it and reading the verifier's answer.
 */

import { encode } from "../isa/codec.js";
import { insn } from "../isa/instruction.js";
import type { Btf } from "../object/btf/parse.js";
import { PROGRAM_TYPE_IDS, type ProgramType } from "../object/section-types.js";
import { mapCreate, progLoad } from "./bpf.js";
import { KernelError } from "./errors.js";
import { linuxSys, type NativeMemory, type Sys, withNative } from "./sys.js";
import { vmlinuxBtf } from "./vmlinux.js";

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

export type LinkType =
  | "raw_tracepoint"
  | "tracing"
  | "cgroup"
  | "iter"
  | "netns"
  | "xdp"
  | "perf_event"
  | "kprobe_multi"
  | "struct_ops"
  | "netfilter"
  | "tcx"
  | "uprobe_multi"
  | "netkit"
  | "sockmap";

const BPF_LINK_CREATE = 28;

/**
 * Whether this kernel has bpf_links of a type: the kernel's own `enum bpf_link_type` (vmlinux BTF) lists the
 * types its UAPI knows; kprobe_multi, uprobe_multi and netfilter links also need parts a kernel can be built
 * without (fprobe, uprobes, CONFIG_NETFILTER_BPF_LINK) — for those, a link is created for a target that does
 * not exist, and the error says whether the kernel got as far as looking at it.
 */
export function supportsLinkType(type: LinkType, sys: Sys = linuxSys(), btf?: Btf): boolean {
  return cached(`link:${type}`, () => {
    const known = (btf ?? vmlinuxBtf()).types.some(
      (t) => t.kind === "ENUM" && t.name === "bpf_link_type" && t.values.some((v) => v.name === `BPF_LINK_TYPE_${type.toUpperCase()}`),
    );
    if (!known) return false;
    const probe = LINK_PROBES[type];
    return probe ? linkCreateGetsFarther(sys, type, probe) : true;
  });
}

interface LinkProbe {
  programType: ProgramType;
  attachType: number;
  /** A string the attr points at (a symbol, a path). */
  target?: string;
  /** Fills link_create's type-specific part (from byte 16) for a target that does not exist. */
  fill(v: DataView, target: bigint, scratch: NativeMemory): void;
}

const LINK_PROBES: Partial<Record<LinkType, LinkProbe>> = {
  // kprobe_multi {flags, cnt, syms}: one symbol that no kernel has (ENOENT once fprobe looks it up)
  kprobe_multi: {
    programType: "kprobe",
    attachType: 42,
    target: "tsbpf_no_such_function",
    fill(v, target, scratch) {
      new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset, 8).setBigUint64(0, target, true);
      v.setUint32(20, 1, true);
      v.setBigUint64(24, scratch.address, true);
    },
  },
  // uprobe_multi {path, offsets, ref_ctr_offsets, cookies, cnt}: "/" is no regular file (EBADF)
  uprobe_multi: {
    programType: "kprobe",
    attachType: 48,
    target: "/",
    fill(v, target, scratch) {
      v.setBigUint64(16, target, true);
      v.setBigUint64(24, scratch.address, true);
      v.setUint32(48, 1, true);
    },
  },
  // netfilter {pf, hooknum, priority, flags}: protocol family 255 (EAFNOSUPPORT)
  netfilter: {
    programType: "netfilter",
    attachType: 45,
    fill(v) {
      v.setUint32(16, 255, true);
    },
  },
};

function linkCreateGetsFarther(sys: Sys, type: LinkType, probe: LinkProbe): boolean {
  let program: number;
  try {
    program = progLoad(sys, {
      type: PROGRAM_TYPE_IDS[probe.programType],
      insns: TRIVIAL,
      license: "GPL",
      name: "tsbpf_probe",
      logSize: 0,
      logLevel: 0,
      expectedAttachType: probe.attachType,
    }).fd;
  } catch (e) {
    if (e instanceof KernelError && e.code === "EINVAL") return false; // the program type is not built in
    throw e;
  }
  try {
    return withNative(sys, [new TextEncoder().encode(`${probe.target ?? ""}\0`), 8], ([target, scratch]) => {
      const attr = new Uint8Array(144);
      const v = new DataView(attr.buffer);
      v.setUint32(0, program, true);
      v.setUint32(8, probe.attachType, true);
      probe.fill(v, (target as NativeMemory).address, scratch as NativeMemory);
      try {
        sys.close(sys.bpf(BPF_LINK_CREATE, attr, `probe ${type} link`));
        return true;
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        // EINVAL: the attach type is unknown here; EOPNOTSUPP: its support was left out of this build
        return e.code !== "EOPNOTSUPP" && e.code !== "ENOTSUP" && e.code !== "EINVAL";
      }
    });
  } finally {
    sys.close(program);
  }
}
