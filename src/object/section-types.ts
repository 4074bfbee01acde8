/**
 * Program type and attach point from an ELF section name, following libbpf's section_defs
 * (tools/lib/bpf/libbpf.c) and, for objects that predate it, the conventions of samples/bpf/bpf_load.c,
 * iproute2 and Cilium (`xdp_*`, `socket*`, numbered tail-call sections such as `2/1`).
 */

export type ProgramType =
  | "socket_filter"
  | "kprobe"
  | "sched_cls"
  | "sched_act"
  | "tracepoint"
  | "xdp"
  | "perf_event"
  | "cgroup_skb"
  | "cgroup_sock"
  | "lwt_in"
  | "lwt_out"
  | "lwt_xmit"
  | "lwt_seg6local"
  | "sock_ops"
  | "sk_skb"
  | "cgroup_device"
  | "sk_msg"
  | "raw_tracepoint"
  | "cgroup_sock_addr"
  | "lirc_mode2"
  | "sk_reuseport"
  | "flow_dissector"
  | "cgroup_sysctl"
  | "raw_tracepoint_writable"
  | "cgroup_sockopt"
  | "tracing"
  | "struct_ops"
  | "ext"
  | "lsm"
  | "sk_lookup"
  | "syscall"
  | "netfilter";

/** Kernel enum bpf_prog_type values. */
export const PROGRAM_TYPE_IDS: Readonly<Record<ProgramType, number>> = {
  socket_filter: 1,
  kprobe: 2,
  sched_cls: 3,
  sched_act: 4,
  tracepoint: 5,
  xdp: 6,
  perf_event: 7,
  cgroup_skb: 8,
  cgroup_sock: 9,
  lwt_in: 10,
  lwt_out: 11,
  lwt_xmit: 12,
  sock_ops: 13,
  sk_skb: 14,
  cgroup_device: 15,
  sk_msg: 16,
  raw_tracepoint: 17,
  cgroup_sock_addr: 18,
  lwt_seg6local: 19,
  lirc_mode2: 20,
  sk_reuseport: 21,
  flow_dissector: 22,
  cgroup_sysctl: 23,
  raw_tracepoint_writable: 24,
  cgroup_sockopt: 25,
  tracing: 26,
  struct_ops: 27,
  ext: 28,
  lsm: 29,
  sk_lookup: 30,
  syscall: 31,
  netfilter: 32,
};

export interface SectionType {
  readonly type: ProgramType;
  /** Expected attach type (kernel enum bpf_attach_type name), where the section implies one. */
  readonly attachType?: string;
  /** What to attach to, from the section name: `kprobe/do_sys_open` → `do_sys_open`. */
  readonly attachTo?: string;
  /** Whether a sleepable variant (`.s`) was asked for. */
  readonly sleepable?: boolean;
  /** "section" when the name said it, "default" when nothing matched and socket_filter was assumed. */
  readonly source: "section" | "default";
}

interface Def {
  /** Section name or prefix; "+" at the end means "followed by / and a target, or nothing". */
  readonly name: string;
  readonly type: ProgramType;
  readonly attachType?: string;
  readonly sleepable?: boolean;
}

// Order matters where names share a prefix: the first match wins (as in libbpf).
const DEFS: readonly Def[] = [
  { name: "socket", type: "socket_filter" },
  { name: "sk_reuseport/migrate", type: "sk_reuseport", attachType: "sk_reuseport_select_or_migrate" },
  { name: "sk_reuseport", type: "sk_reuseport", attachType: "sk_reuseport_select" },
  { name: "kprobe.multi+", type: "kprobe", attachType: "trace_kprobe_multi" },
  { name: "kretprobe.multi+", type: "kprobe", attachType: "trace_kprobe_multi" },
  { name: "uprobe.multi+", type: "kprobe", attachType: "trace_uprobe_multi" },
  { name: "uretprobe.multi+", type: "kprobe", attachType: "trace_uprobe_multi" },
  { name: "kprobe+", type: "kprobe" },
  { name: "uprobe+", type: "kprobe" },
  { name: "uprobe.s+", type: "kprobe", sleepable: true },
  { name: "kretprobe+", type: "kprobe" },
  { name: "uretprobe+", type: "kprobe" },
  { name: "uretprobe.s+", type: "kprobe", sleepable: true },
  { name: "ksyscall+", type: "kprobe" },
  { name: "kretsyscall+", type: "kprobe" },
  { name: "usdt+", type: "kprobe" },
  { name: "usdt.s+", type: "kprobe", sleepable: true },
  { name: "tc/ingress", type: "sched_cls", attachType: "tcx_ingress" },
  { name: "tc/egress", type: "sched_cls", attachType: "tcx_egress" },
  { name: "tcx/ingress", type: "sched_cls", attachType: "tcx_ingress" },
  { name: "tcx/egress", type: "sched_cls", attachType: "tcx_egress" },
  { name: "tc", type: "sched_cls" },
  { name: "classifier", type: "sched_cls" },
  { name: "action", type: "sched_act" },
  { name: "netkit/primary", type: "sched_cls", attachType: "netkit_primary" },
  { name: "netkit/peer", type: "sched_cls", attachType: "netkit_peer" },
  { name: "tracepoint+", type: "tracepoint" },
  { name: "tp+", type: "tracepoint" },
  { name: "raw_tracepoint+", type: "raw_tracepoint" },
  { name: "raw_tp+", type: "raw_tracepoint" },
  { name: "raw_tracepoint.w+", type: "raw_tracepoint_writable" },
  { name: "raw_tp.w+", type: "raw_tracepoint_writable" },
  { name: "tp_btf+", type: "tracing", attachType: "trace_raw_tp" },
  { name: "fentry+", type: "tracing", attachType: "trace_fentry" },
  { name: "fmod_ret+", type: "tracing", attachType: "modify_return" },
  { name: "fexit+", type: "tracing", attachType: "trace_fexit" },
  { name: "fentry.s+", type: "tracing", attachType: "trace_fentry", sleepable: true },
  { name: "fmod_ret.s+", type: "tracing", attachType: "modify_return", sleepable: true },
  { name: "fexit.s+", type: "tracing", attachType: "trace_fexit", sleepable: true },
  { name: "freplace+", type: "ext" },
  { name: "lsm+", type: "lsm", attachType: "lsm_mac" },
  { name: "lsm.s+", type: "lsm", attachType: "lsm_mac", sleepable: true },
  { name: "lsm_cgroup+", type: "lsm", attachType: "lsm_cgroup" },
  { name: "iter+", type: "tracing", attachType: "trace_iter" },
  { name: "iter.s+", type: "tracing", attachType: "trace_iter", sleepable: true },
  { name: "syscall", type: "syscall", sleepable: true },
  { name: "xdp.frags/devmap", type: "xdp", attachType: "xdp_devmap" },
  { name: "xdp/devmap", type: "xdp", attachType: "xdp_devmap" },
  { name: "xdp.frags/cpumap", type: "xdp", attachType: "xdp_cpumap" },
  { name: "xdp/cpumap", type: "xdp", attachType: "xdp_cpumap" },
  { name: "xdp.frags", type: "xdp", attachType: "xdp" },
  { name: "xdp", type: "xdp", attachType: "xdp" },
  { name: "perf_event", type: "perf_event" },
  { name: "lwt_in", type: "lwt_in" },
  { name: "lwt_out", type: "lwt_out" },
  { name: "lwt_xmit", type: "lwt_xmit" },
  { name: "lwt_seg6local", type: "lwt_seg6local" },
  { name: "sockops", type: "sock_ops", attachType: "cgroup_sock_ops" },
  { name: "sk_skb/stream_parser", type: "sk_skb", attachType: "sk_skb_stream_parser" },
  { name: "sk_skb/stream_verdict", type: "sk_skb", attachType: "sk_skb_stream_verdict" },
  { name: "sk_skb/verdict", type: "sk_skb", attachType: "sk_skb_verdict" },
  { name: "sk_skb", type: "sk_skb" },
  { name: "sk_msg", type: "sk_msg", attachType: "sk_msg_verdict" },
  { name: "lirc_mode2", type: "lirc_mode2", attachType: "lirc_mode2" },
  { name: "flow_dissector", type: "flow_dissector", attachType: "flow_dissector" },
  { name: "cgroup_skb/ingress", type: "cgroup_skb", attachType: "cgroup_inet_ingress" },
  { name: "cgroup_skb/egress", type: "cgroup_skb", attachType: "cgroup_inet_egress" },
  { name: "cgroup/skb", type: "cgroup_skb" },
  { name: "cgroup/sock_create", type: "cgroup_sock", attachType: "cgroup_inet_sock_create" },
  { name: "cgroup/sock_release", type: "cgroup_sock", attachType: "cgroup_inet_sock_release" },
  { name: "cgroup/sock", type: "cgroup_sock", attachType: "cgroup_inet_sock_create" },
  { name: "cgroup/post_bind4", type: "cgroup_sock", attachType: "cgroup_inet4_post_bind" },
  { name: "cgroup/post_bind6", type: "cgroup_sock", attachType: "cgroup_inet6_post_bind" },
  { name: "cgroup/bind4", type: "cgroup_sock_addr", attachType: "cgroup_inet4_bind" },
  { name: "cgroup/bind6", type: "cgroup_sock_addr", attachType: "cgroup_inet6_bind" },
  { name: "cgroup/connect4", type: "cgroup_sock_addr", attachType: "cgroup_inet4_connect" },
  { name: "cgroup/connect6", type: "cgroup_sock_addr", attachType: "cgroup_inet6_connect" },
  { name: "cgroup/connect_unix", type: "cgroup_sock_addr", attachType: "cgroup_unix_connect" },
  { name: "cgroup/sendmsg4", type: "cgroup_sock_addr", attachType: "cgroup_udp4_sendmsg" },
  { name: "cgroup/sendmsg6", type: "cgroup_sock_addr", attachType: "cgroup_udp6_sendmsg" },
  { name: "cgroup/sendmsg_unix", type: "cgroup_sock_addr", attachType: "cgroup_unix_sendmsg" },
  { name: "cgroup/recvmsg4", type: "cgroup_sock_addr", attachType: "cgroup_udp4_recvmsg" },
  { name: "cgroup/recvmsg6", type: "cgroup_sock_addr", attachType: "cgroup_udp6_recvmsg" },
  { name: "cgroup/recvmsg_unix", type: "cgroup_sock_addr", attachType: "cgroup_unix_recvmsg" },
  { name: "cgroup/getpeername4", type: "cgroup_sock_addr", attachType: "cgroup_inet4_getpeername" },
  { name: "cgroup/getpeername6", type: "cgroup_sock_addr", attachType: "cgroup_inet6_getpeername" },
  { name: "cgroup/getpeername_unix", type: "cgroup_sock_addr", attachType: "cgroup_unix_getpeername" },
  { name: "cgroup/getsockname4", type: "cgroup_sock_addr", attachType: "cgroup_inet4_getsockname" },
  { name: "cgroup/getsockname6", type: "cgroup_sock_addr", attachType: "cgroup_inet6_getsockname" },
  { name: "cgroup/getsockname_unix", type: "cgroup_sock_addr", attachType: "cgroup_unix_getsockname" },
  { name: "cgroup/sysctl", type: "cgroup_sysctl", attachType: "cgroup_sysctl" },
  { name: "cgroup/getsockopt", type: "cgroup_sockopt", attachType: "cgroup_getsockopt" },
  { name: "cgroup/setsockopt", type: "cgroup_sockopt", attachType: "cgroup_setsockopt" },
  { name: "cgroup/dev", type: "cgroup_device", attachType: "cgroup_device" },
  { name: "struct_ops+", type: "struct_ops" },
  { name: "struct_ops.s+", type: "struct_ops", sleepable: true },
  { name: "sk_lookup", type: "sk_lookup", attachType: "sk_lookup" },
  { name: "netfilter", type: "netfilter", attachType: "netfilter" },
];

function match(def: Def, section: string): { attachTo?: string } | undefined {
  const plus = def.name.endsWith("+");
  const name = plus ? def.name.slice(0, -1) : def.name;
  if (section === name) return {};
  if (plus && section.startsWith(`${name}/`)) {
    const rest = section.slice(name.length + 1);
    return rest === "" ? {} : { attachTo: rest };
  }
  return undefined;
}

// Conventions of objects older than libbpf's table, in the order bpf_load.c and Cilium checked them.
const LEGACY: ReadonlyArray<[RegExp, ProgramType]> = [
  [/^xdp/, "xdp"],
  [/^socket/, "socket_filter"],
  [/^kprobe/, "kprobe"],
  [/^kretprobe/, "kprobe"],
  [/^tracepoint/, "tracepoint"],
  [/^raw_tracepoint/, "raw_tracepoint"],
  [/^perf_event/, "perf_event"],
  [/^(\d+\/(0x[0-9a-f]+|\d+)|from-\w+|to-\w+)$/, "sched_cls"], // Cilium: tail-call slots and entry points
];

/** The program type a section name implies. */
export function sectionType(section: string): SectionType {
  for (const def of DEFS) {
    const m = match(def, section);
    if (!m) continue;
    return {
      type: def.type,
      ...(def.attachType ? { attachType: def.attachType } : {}),
      ...(m.attachTo !== undefined ? { attachTo: m.attachTo } : {}),
      ...(def.sleepable ? { sleepable: true } : {}),
      source: "section",
    };
  }
  // libbpf before 1.0 (SEC_SLOPPY_PFX) let any name extend a definition: `xdp_prog`, `cgroup/sock1`.
  for (const def of DEFS) {
    if (def.name.endsWith("+") || !section.startsWith(def.name)) continue;
    return { type: def.type, ...(def.attachType ? { attachType: def.attachType } : {}), source: "section" };
  }
  for (const [re, type] of LEGACY) if (re.test(section)) return { type, source: "section" };
  return { type: "socket_filter", source: "default" };
}
