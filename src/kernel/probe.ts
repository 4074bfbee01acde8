/**
 * What this kernel supports, found by trying (libbpf's libbpf_probe_bpf_map_type/prog_type/helper) and
 * cached for the process: a map type by creating a tiny map, a program type by loading `r0 = 0; exit`,
 * a helper by loading a call to it and reading the verifier's answer.
 */

import { NotSupportedError } from "../errors.js";
import { encode } from "../isa/codec.js";
import { insn } from "../isa/instruction.js";
import type { Btf } from "../object/btf/parse.js";
import { BPF_F_MMAPABLE, MAP_TYPES } from "../object/map-types.js";
import { PROGRAM_TYPE_IDS, type ProgramType } from "../object/section-types.js";
import { ATTACH_TYPE_IDS } from "./attach-types.js";
import { type MapCreateAttr, mapCreate, type ProgLoadAttr, progLoad } from "./bpf.js";
import { loadBtf } from "./btf-load.js";
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

/**
 * How libbpf creates a probe map of each type (libbpf_probes.c, probe_map_create): the shape the type accepts,
 * an inner map for map-in-maps, BTF for local storage, and for struct_ops the error that says "known".
 */
function mapProbe(type: number): { attr: Omit<MapCreateAttr, "type">; innerMap?: boolean; localStorageBtf?: boolean; expect?: string } {
  const base = { keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, name: "tsbpf_probe" };
  switch (MAP_TYPES[type]) {
    case "stack_trace":
      return { attr: { ...base, valueSize: 8 } };
    case "lpm_trie":
      return { attr: { ...base, keySize: 8, valueSize: 8, flags: BPF_F_NO_PREALLOC } };
    case "cgroup_storage":
    case "percpu_cgroup_storage":
      return { attr: { ...base, keySize: 16 /* struct bpf_cgroup_storage_key */, valueSize: 8, maxEntries: 0 } };
    case "queue":
    case "stack":
      return { attr: { ...base, keySize: 0 } };
    case "sk_storage":
    case "inode_storage":
    case "task_storage":
    case "cgrp_storage":
      return {
        attr: { ...base, valueSize: 8, maxEntries: 0, flags: BPF_F_NO_PREALLOC, btfKeyTypeId: 1, btfValueTypeId: 3 },
        localStorageBtf: true,
      };
    case "ringbuf":
    case "user_ringbuf":
      return { attr: { ...base, keySize: 0, valueSize: 0, maxEntries: 4096 } };
    case "struct_ops":
      // no struct_ops type has id 1 in vmlinux BTF: a kernel that knows the map type says ENOTSUPP
      return { attr: { ...base, btfVmlinuxValueTypeId: 1 }, expect: "ENOTSUPP" };
    case "bloom_filter":
      return { attr: { ...base, keySize: 0 } };
    case "arena":
      return { attr: { ...base, keySize: 0, valueSize: 0, flags: BPF_F_MMAPABLE } };
    case "array_of_maps":
    case "hash_of_maps":
      return { attr: base, innerMap: true };
    default:
      return { attr: base };
  }
}

const BPF_F_NO_PREALLOC = 1;

/** Whether the kernel can create maps of this type (enum bpf_map_type), probed as libbpf probes it. */
export function supportsMapType(type: number, sys: Sys = linuxSys()): boolean {
  return cached(`map:${type}`, () => {
    const probe = mapProbe(type);
    const held: number[] = [];
    try {
      if (probe.innerMap) held.push(mapCreate(sys, { type: 1, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, name: "tsbpf_probe" }));
      if (probe.localStorageBtf) held.push(loadBtf(sys, LOCAL_STORAGE_BTF));
      const attr: MapCreateAttr = {
        type,
        ...probe.attr,
        ...(probe.innerMap ? { innerMapFd: held[0] as number } : {}),
        ...(probe.localStorageBtf ? { btfFd: held[0] as number } : {}),
      };
      try {
        held.push(mapCreate(sys, attr));
        return probe.expect === undefined;
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        return probe.expect !== undefined && e.code === probe.expect;
      }
    } finally {
      for (const fd of held) sys.close(fd);
    }
  });
}

/**
 * libbpf's BTF for probing local storage maps: `struct val { int cnt; struct bpf_spin_lock l; }`, the value
 * type (id 3) the kernel wants for sk/inode/task/cgrp storage, with int (id 1) as the key.
 */
const LOCAL_STORAGE_BTF = (() => {
  const strings = new TextEncoder().encode("\0bpf_spin_lock\0val\0cnt\0l\0");
  const types = [
    [0, 0x01000000, 4, (1 << 24) | 32], // [1] int: INT, size 4, signed, 32 bits
    [1, 0x04000001, 4, 15, 1, 0], // [2] struct bpf_spin_lock { int val; }
    [15, 0x04000002, 8, 19, 1, 0, 23, 2, 32], // [3] struct val { int cnt; struct bpf_spin_lock l; }
  ].flat();
  const bytes = new Uint8Array(24 + types.length * 4 + strings.length);
  const v = new DataView(bytes.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, types.length * 4, true);
  v.setUint32(16, types.length * 4, true);
  v.setUint32(20, strings.length, true);
  types.forEach((x, i) => {
    v.setUint32(24 + i * 4, x, true);
  });
  bytes.set(strings, 24 + types.length * 4);
  return bytes;
})();

const TRIVIAL = encode([insn({ op: 0xb7 }), insn({ op: 0x95 })]);

/**
 * Loads a probe program (GPL, named tsbpf_probe) and returns its fd; a refusal throws the KernelError, with the
 * verifier's log when `logSize` asked for one.
 */
function loadProbe(sys: Sys, type: ProgramType, insns: Uint8Array, attr: Partial<ProgLoadAttr> = {}, logSize = 0): number {
  return progLoad(sys, {
    type: PROGRAM_TYPE_IDS[type],
    insns,
    license: "GPL",
    name: "tsbpf_probe",
    logSize,
    logLevel: logSize > 0 ? 1 : 0,
    ...attr,
  }).fd;
}

/**
 * How libbpf loads a probe program of each type (libbpf_probes.c, probe_prog_load): the attach type, flags or
 * attach target the type needs to load at all, and for types that only load against a real attach target the
 * error (and log line) that says the kernel knows the type.
 */
function programProbe(type: ProgramType): { attr: Partial<ProgLoadAttr>; expect?: { code: string; log: string } } {
  switch (type) {
    case "cgroup_sock_addr":
      return { attr: { expectedAttachType: ATTACH_TYPE_IDS.cgroup_inet4_connect as number } };
    case "cgroup_sockopt":
      return { attr: { expectedAttachType: ATTACH_TYPE_IDS.cgroup_getsockopt as number } };
    case "sk_lookup":
      return { attr: { expectedAttachType: ATTACH_TYPE_IDS.sk_lookup as number } };
    case "lirc_mode2":
      return { attr: { expectedAttachType: ATTACH_TYPE_IDS.lirc_mode2 as number } };
    case "netfilter":
      return { attr: { expectedAttachType: ATTACH_TYPE_IDS.netfilter as number } };
    case "syscall":
      return { attr: { flags: 16 /* BPF_F_SLEEPABLE */ } };
    case "tracing":
      return {
        attr: { expectedAttachType: ATTACH_TYPE_IDS.trace_fentry as number, attachBtfId: 1 },
        expect: { code: "EINVAL", log: "attach_btf_id 1 is not a function" },
      };
    case "lsm":
      return {
        attr: { expectedAttachType: ATTACH_TYPE_IDS.modify_return as number, attachBtfId: 1 },
        expect: { code: "EINVAL", log: "attach_btf_id 1 is not a function" },
      };
    case "ext":
      return { attr: { attachBtfId: 1 }, expect: { code: "EINVAL", log: "Cannot replace kernel functions" } };
    case "struct_ops":
      return { attr: {}, expect: { code: "ENOTSUPP", log: "" } };
    default:
      return { attr: {} };
  }
}

/** Program types whose programs load only against an attach target: their helpers cannot be probed. */
export const NEEDS_TARGET: ReadonlySet<ProgramType> = new Set(["tracing", "lsm", "ext", "struct_ops"]);

/** Whether the kernel can load programs of this type, probed as libbpf probes it. */
export function supportsProgramType(type: ProgramType, sys: Sys = linuxSys()): boolean {
  return cached(`prog:${type}`, () => {
    const { attr, expect } = programProbe(type);
    try {
      sys.close(loadProbe(sys, type, TRIVIAL, attr, expect ? 4096 : 0));
      return expect === undefined;
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      return expect !== undefined && e.code === expect.code && ((e as { log?: string }).log ?? "").includes(expect.log);
    }
  });
}

/**
 * Whether programs of `type` may call helper `id` here: a call to it is loaded, and the verifier's answer read
 * (libbpf's libbpf_probe_bpf_helper, with the newer kernels' "cannot use helper" understood as a no too).
 * Program types that load only against an attach target (tracing, lsm, ext, struct_ops) cannot be probed so.
 */
export function supportsHelper(type: ProgramType, id: number, sys: Sys = linuxSys()): boolean {
  if (NEEDS_TARGET.has(type))
    throw new NotSupportedError(`probing the helpers of ${type} programs`, "such programs load only against an attach target");
  return cached(`helper:${type}:${id}`, () => {
    const insns = encode([insn({ op: 0x85, imm: id }), insn({ op: 0x95 })]);
    try {
      sys.close(loadProbe(sys, type, insns, programProbe(type).attr, 1 << 16));
      return true;
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      const log = (e as { log?: string }).log ?? "";
      // Refused for its arguments (we pass none) means the helper exists for this type.
      return !/invalid func |unknown func |program of this type cannot use helper/.test(log);
    }
  });
}

/** The miscellaneous features bpftool feature probe reports, each probed by loading a program that needs it. */
export type MiscFeature = "large_insn_limit" | "bounded_loops" | "v2_isa_extension" | "v3_isa_extension";

const MOV_R0 = (imm: number) => insn({ op: 0xb7, imm });
const EXIT = insn({ op: 0x95 });
const MISC_PROBES: Record<MiscFeature, { type: ProgramType; insns: () => Uint8Array; refusedMeansNo?: readonly string[] }> = {
  // more than BPF_MAXINSNS (4096) instructions: older kernels answer E2BIG (EINVAL), others verify them
  large_insn_limit: {
    type: "sched_cls",
    insns: () => encode([...Array.from({ length: 4096 }, () => MOV_R0(1)), EXIT]),
    refusedMeansNo: ["E2BIG", "EINVAL"],
  },
  // r0 = 10; loop: r0 -= 1; if r0 != 0 goto loop
  bounded_loops: {
    type: "socket_filter",
    insns: () => encode([MOV_R0(10), insn({ op: 0x17, imm: 1 }), insn({ op: 0x55, off: -2 }), EXIT]),
  },
  // jlt (v2) and its 32-bit form (v3)
  v2_isa_extension: { type: "socket_filter", insns: () => encode([MOV_R0(0), insn({ op: 0xa5, off: 1 }), MOV_R0(1), EXIT]) },
  v3_isa_extension: { type: "socket_filter", insns: () => encode([MOV_R0(0), insn({ op: 0xa6, off: 1 }), MOV_R0(1), EXIT]) },
};

/** Whether the kernel has a miscellaneous feature (bpftool feature probe's last section), probed as bpftool does. */
export function supportsMiscFeature(feature: MiscFeature, sys: Sys = linuxSys()): boolean {
  return cached(`misc:${feature}`, () => {
    const probe = MISC_PROBES[feature];
    try {
      sys.close(loadProbe(sys, probe.type, probe.insns()));
      return true;
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      return probe.refusedMeansNo !== undefined && !probe.refusedMeansNo.includes(e.code);
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
    const kernelBtf = btf ?? vmlinuxBtf();
    const known = kernelBtf.idsNamed("bpf_link_type").some((id) => {
      const t = kernelBtf.type(id);
      return t?.kind === "ENUM" && t.values.some((v) => v.name === `BPF_LINK_TYPE_${type.toUpperCase()}`);
    });
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
    program = loadProbe(sys, probe.programType, TRIVIAL, { expectedAttachType: probe.attachType });
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
