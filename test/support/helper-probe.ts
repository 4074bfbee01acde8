/**
 * Which helpers each program type may call, asked of the live kernel: a program that only calls helper N is
 * refused with "cannot use helper" (or "unknown func") when the type may not, and with anything else (an
 * argument it did not get) when it may. The verifier's table (src/verifier/helper-table.ts) is this,
 * recorded; the suite checks it still holds.
 */
import { insn } from "../../src/isa/instruction.js";
import type { ProgramType } from "../../src/object/section-types.js";
import type { KernelOracle } from "./verifier-diff.js";

/** Types a program loads as without an attach target (the others need BTF or a hook). */
export const PROBED_TYPES: readonly ProgramType[] = [
  "socket_filter",
  "kprobe",
  "sched_cls",
  "sched_act",
  "tracepoint",
  "xdp",
  "perf_event",
  "cgroup_skb",
  "cgroup_sock",
  "lwt_in",
  "lwt_out",
  "lwt_xmit",
  "sock_ops",
  "sk_skb",
  "cgroup_device",
  "sk_msg",
  "raw_tracepoint",
  "lwt_seg6local",
  "flow_dissector",
  "cgroup_sysctl",
  "raw_tracepoint_writable",
  "sk_lookup",
  "sk_reuseport",
];

/**
 * The expected attach type a probed type needs to load at all (libbpf's names). Types whose helpers depend on
 * the attach type (cgroup_sock_addr, cgroup_sockopt) are not probed.
 */
export const PROBE_ATTACH: Partial<Record<ProgramType, string>> = {
  sk_lookup: "sk_lookup",
  sk_reuseport: "sk_reuseport_select",
};

/** The highest helper id probed (this kernel's __BPF_FUNC_MAX_ID is below it). */
export const MAX_HELPER_ID = 255;

/** Tracing programs, probed as one of each attach type this kernel loads (key: "tracing/<attach type>"). */
export const PROBED_ATTACHED: Readonly<Record<string, { type: ProgramType; attachType: string; attachTo: string }>> = {
  "tracing/trace_iter": { type: "tracing", attachType: "trace_iter", attachTo: "bpf_iter_task" },
  "tracing/trace_raw_tp": { type: "tracing", attachType: "trace_raw_tp", attachTo: "btf_trace_sched_switch" },
};

/** The ids `type` may call, as a bit set in hex (bit N = helper N), as the kernel answers. */
export function probeHelpers(oracle: KernelOracle, type: ProgramType, attached?: { attachType: string; attachTo: string }): string {
  let bits = 0n;
  for (let id = 1; id <= MAX_HELPER_ID; id++) {
    const k = oracle.judge(
      [insn({ op: 0x85, imm: id }), insn({ op: 0xb7, dst: 0, imm: 0 }), insn({ op: 0x95 })],
      type,
      0,
      attached?.attachType ?? PROBE_ATTACH[type],
      false,
      attached?.attachTo,
    );
    if (!/cannot use helper|invalid func|unknown func/.test(k.message ?? "")) bits |= 1n << BigInt(id);
  }
  return bits.toString(16);
}
