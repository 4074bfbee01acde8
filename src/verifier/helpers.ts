/**
 * Helper prototypes as the verifier sees them (the kernel's bpf_func_proto: argument and return kinds), and
 * which program types may call which helper (each type's get_func_proto, on this kernel, as root: lockdown
 * blocks bpf_probe_write_user, and there is no CONFIG_BPF_KPROBE_OVERRIDE).
 */
import type { ProgramType } from "../object/section-types.js";
import { KERNEL_HELPERS } from "./helper-table.js";

/**
 * Argument kinds: any value; a map pointer; a pointer to a key or value of that map; the context; readable
 * memory (`mem`), memory the helper writes (`uninit`), either possibly NULL (`?`); the size of the previous
 * memory argument (`size`, or `size0` when zero is allowed); an 8-byte slot the helper writes (`long`); a
 * ring buffer record to release; the size of a ring buffer record (`alloc`); a callback; a pointer into the
 * stack or NULL (`stack?`, a callback's context); socket pointers (`btf_sock_common` also takes a BTF pointer to one).
 */
export type ArgKind =
  | "any"
  | "map"
  | "key"
  | "value"
  | "ctx"
  | "mem"
  | "mem?"
  | "uninit"
  | "uninit?"
  | "size"
  | "size0"
  | "long"
  | "ringbuf_mem"
  | "alloc"
  | "func"
  | "stack?"
  | "ctx?"
  | "spin_lock"
  | "timer"
  | "const_str"
  | "sock_common"
  | "btf_sock_common"
  | "sock"
  | "btf_id";

export type RetKind =
  | "int"
  | "void"
  | "map_value"
  | "map_value?"
  | "ringbuf_mem?"
  | "sock?"
  | "sock_common?"
  | "tcp_sock?"
  | "btf_id"
  | "btf_id?";

export interface HelperProto {
  readonly args: readonly ArgKind[];
  readonly ret: RetKind;
  /** Changes packet data: every packet pointer is invalid afterwards. */
  readonly changesPacket?: boolean;
  /** Acquires a reference the program must release. */
  readonly acquires?: boolean;
  /** Releases the reference its first argument holds. */
  readonly releases?: boolean;
  readonly gplOnly?: boolean;
  /** A cast of its socket argument (sk_fullsock, tcp_sock): the result holds the argument's reference. */
  readonly castsArg?: boolean;
  /** May be given packet memory (pkt_access): map keys and values, csum_diff's buffers, socket tuples. */
  readonly pktAccess?: boolean;
  /** The kernel struct a `btf_id` argument points to. */
  readonly btfArg?: string;
  /** The kernel struct a `btf_id` return points to, and whether the pointer is trusted. */
  readonly btfRet?: { readonly name: string; readonly trusted: boolean };
}

const P = (args: ArgKind[], ret: RetKind = "int", more: Partial<HelperProto> = {}): HelperProto => ({ args, ret, ...more });

/** Prototypes by helper id. */
export const HELPER_PROTOS: ReadonlyMap<number, HelperProto> = new Map<number, HelperProto>([
  [1, P(["map", "key"], "map_value?", { pktAccess: true })], // map_lookup_elem
  [2, P(["map", "key", "value", "any"], "int", { pktAccess: true })], // map_update_elem
  [3, P(["map", "key"], "int", { pktAccess: true })], // map_delete_elem
  [4, P(["uninit", "size0", "any"], "int", { gplOnly: true })], // probe_read
  [5, P([])], // ktime_get_ns
  [6, P(["mem", "size"], "int", { gplOnly: true })], // trace_printk: only its format is checked
  [7, P([])], // get_prandom_u32
  [8, P([])], // get_smp_processor_id
  [9, P(["ctx", "any", "mem", "size", "any"], "int", { changesPacket: true })], // skb_store_bytes
  [10, P(["ctx", "any", "any", "any", "any"], "int", { changesPacket: true })], // l3_csum_replace
  [11, P(["ctx", "any", "any", "any", "any"], "int", { changesPacket: true })], // l4_csum_replace
  [12, P(["ctx", "map", "any"], "void")], // tail_call
  [13, P(["ctx", "any", "any"], "int", { changesPacket: true })], // clone_redirect
  [14, P([])], // get_current_pid_tgid
  [15, P([])], // get_current_uid_gid
  [16, P(["uninit", "size"])], // get_current_comm
  [17, P(["ctx"])], // get_cgroup_classid
  [18, P(["ctx", "any", "any"], "int", { changesPacket: true })], // skb_vlan_push
  [19, P(["ctx"], "int", { changesPacket: true })], // skb_vlan_pop
  [20, P(["ctx", "uninit", "size", "any"])], // skb_get_tunnel_key
  [21, P(["ctx", "mem", "size", "any"])], // skb_set_tunnel_key
  [22, P(["map", "any"], "int", { gplOnly: true })], // perf_event_read
  [23, P(["any", "any"])], // redirect
  [24, P(["ctx"])], // get_route_realm
  [25, P(["ctx", "map", "any", "mem", "size0"])], // perf_event_output
  [26, P(["ctx", "any", "uninit", "size"])], // skb_load_bytes
  [27, P(["ctx", "map", "any"])], // get_stackid
  [28, P(["mem?", "size0", "mem?", "size0", "any"], "int", { pktAccess: true })], // csum_diff
  [29, P(["ctx", "uninit", "size"])], // skb_get_tunnel_opt
  [30, P(["ctx", "mem", "size"])], // skb_set_tunnel_opt
  [31, P(["ctx", "any", "any"], "int", { changesPacket: true })], // skb_change_proto
  [32, P(["ctx", "any"])], // skb_change_type
  [33, P(["ctx", "map", "any"])], // skb_under_cgroup
  [34, P(["ctx"])], // get_hash_recalc
  [35, P([], "int", { gplOnly: true })], // get_current_task
  [36, P(["any", "mem", "size"], "int", { gplOnly: true })], // probe_write_user
  [37, P(["map", "any"], "int", { gplOnly: true })], // current_task_under_cgroup
  [38, P(["ctx", "any", "any"], "int", { changesPacket: true })], // skb_change_tail
  [39, P(["ctx", "any"], "int", { changesPacket: true })], // skb_pull_data
  [40, P(["ctx", "any"])], // csum_update
  [41, P(["ctx"], "void")], // set_hash_invalid
  [42, P([])], // get_numa_node_id
  [43, P(["ctx", "any", "any"], "int", { changesPacket: true })], // skb_change_head
  [44, P(["ctx", "any"], "int", { changesPacket: true })], // xdp_adjust_head
  [45, P(["uninit", "size", "any"], "int", { gplOnly: true })], // probe_read_str
  [46, P(["ctx"])], // get_socket_cookie
  [47, P(["ctx"])], // get_socket_uid
  [48, P(["ctx", "any"])], // set_hash
  [49, P(["ctx", "any", "any", "mem", "size"])], // setsockopt
  [50, P(["ctx", "any", "any", "any"], "int", { changesPacket: true })], // skb_adjust_room
  [51, P(["map", "any", "any"])], // redirect_map
  [52, P(["ctx", "map", "any", "any"])], // sk_redirect_map
  [53, P(["ctx", "map", "key", "any"])], // sock_map_update
  [54, P(["ctx", "any"], "int", { changesPacket: true })], // xdp_adjust_meta
  [55, P(["map", "any", "uninit", "size"], "int", { gplOnly: true })], // perf_event_read_value
  [56, P(["ctx", "uninit", "size"], "int", { gplOnly: true })], // perf_prog_read_value
  [57, P(["ctx", "any", "any", "uninit", "size"])], // getsockopt
  [58, P(["ctx", "any"], "int", { gplOnly: true })], // override_return
  [59, P(["ctx", "any"])], // sock_ops_cb_flags_set
  [65, P(["ctx", "any"], "int", { changesPacket: true })], // xdp_adjust_tail
  [67, P(["ctx", "uninit?", "size0", "any"])], // get_stack
  [69, P(["ctx", "uninit", "size", "any"])], // fib_lookup
  [84, P(["ctx", "mem", "size", "any", "any"], "sock?", { acquires: true, pktAccess: true })], // sk_lookup_tcp
  [85, P(["ctx", "mem", "size", "any", "any"], "sock?", { acquires: true, pktAccess: true })], // sk_lookup_udp
  [86, P(["btf_sock_common"], "int", { releases: true })], // sk_release
  [87, P(["map", "value", "any"], "int", { pktAccess: true })], // map_push_elem
  [88, P(["map", "uninit"])], // map_pop_elem
  [89, P(["map", "uninit"])], // map_peek_elem
  [106, P(["mem", "size", "any", "long"])], // strtoul
  [105, P(["mem", "size", "any", "long"])], // strtol
  [112, P(["uninit", "size0", "any"], "int", { gplOnly: true })], // probe_read_user
  [113, P(["uninit", "size0", "any"], "int", { gplOnly: true })], // probe_read_kernel
  [114, P(["uninit", "size0", "any"], "int", { gplOnly: true })], // probe_read_user_str
  [115, P(["uninit", "size0", "any"], "int", { gplOnly: true })], // probe_read_kernel_str
  [125, P([])], // ktime_get_boot_ns
  [130, P(["map", "mem", "size0", "any"])], // ringbuf_output
  [131, P(["map", "alloc", "any"], "ringbuf_mem?", { acquires: true })], // ringbuf_reserve
  [132, P(["ringbuf_mem", "any"], "void", { releases: true })], // ringbuf_submit
  [133, P(["ringbuf_mem", "any"], "void", { releases: true })], // ringbuf_discard
  [134, P(["map", "any"])], // ringbuf_query
  [118, P([])], // jiffies64
  [80, P([])], // get_current_cgroup_id
  [60, P(["ctx", "map", "any", "any"])], // msg_redirect_map
  [61, P(["ctx", "any"])], // msg_apply_bytes
  [62, P(["ctx", "any"])], // msg_cork_bytes
  [63, P(["ctx", "any", "any", "any"], "int", { changesPacket: true })], // msg_pull_data
  [64, P(["ctx", "mem", "size"])], // bind
  [66, P(["ctx", "any", "uninit", "size", "any"])], // skb_get_xfrm_state
  [68, P(["ctx", "any", "uninit", "size", "any"])], // skb_load_bytes_relative
  [70, P(["ctx", "map", "key", "any"])], // sock_hash_update
  [71, P(["ctx", "map", "key", "any"])], // msg_redirect_hash
  [72, P(["ctx", "map", "key", "any"])], // sk_redirect_hash
  [73, P(["ctx", "any", "mem", "size"], "int", { changesPacket: true })], // lwt_push_encap
  [79, P(["ctx"])], // skb_cgroup_id
  [81, P(["map", "any"], "map_value")], // get_local_storage
  [83, P(["ctx", "any"])], // skb_ancestor_cgroup_id
  [90, P(["ctx", "any", "any", "any"], "int", { changesPacket: true })], // msg_push_data
  [91, P(["ctx", "any", "any", "any"], "int", { changesPacket: true })], // msg_pop_data
  [93, P(["spin_lock"], "void")], // spin_lock
  [94, P(["spin_lock"], "void")], // spin_unlock
  [95, P(["sock_common"], "sock?", { castsArg: true })], // sk_fullsock
  [96, P(["sock_common"], "tcp_sock?", { castsArg: true })], // tcp_sock
  [97, P(["ctx"])], // skb_ecn_set_ce
  [98, P(["sock_common"], "sock?")], // get_listener_sock
  [99, P(["ctx", "mem", "size", "any", "any"], "sock_common?", { acquires: true, pktAccess: true })], // skc_lookup_tcp
  [101, P(["ctx", "uninit", "size", "any"])], // sysctl_get_name
  [102, P(["ctx", "uninit", "size"])], // sysctl_get_current_value
  [103, P(["ctx", "uninit", "size"])], // sysctl_get_new_value
  [104, P(["ctx", "mem", "size"])], // sysctl_set_new_value
  [109, P(["any"])], // send_signal
  [117, P(["any"])], // send_signal_thread
  [120, P(["any", "any", "uninit", "size"])], // get_ns_current_pid_tgid
  [122, P(["ctx?"])], // get_netns_cookie
  [123, P(["any"])], // get_current_ancestor_cgroup_id
  [135, P(["ctx", "any"])], // csum_level
  [142, P(["ctx", "mem", "size", "any"])], // load_hdr_opt
  [143, P(["ctx", "mem", "size", "any"])], // store_hdr_opt
  [144, P(["ctx", "any", "any"])], // reserve_hdr_opt
  [151, P(["ctx"])], // skb_cgroup_classid
  [152, P(["any", "mem?", "size0", "any"])], // redirect_neigh
  [155, P(["any", "any"])], // redirect_peer
  [160, P([])], // ktime_get_coarse_ns
  [173, P(["ctx"])], // get_func_ip
  [174, P(["ctx"])], // get_attach_cookie
  [186, P([])], // get_retval
  [187, P(["any"])], // set_retval
  [188, P(["ctx"])], // xdp_get_buff_len
  [189, P(["ctx", "any", "uninit", "size"])], // xdp_load_bytes
  [190, P(["ctx", "any", "mem", "size"])], // xdp_store_bytes
  [192, P(["ctx", "any", "any"])], // skb_set_tstamp
  [195, P(["map", "key", "any"], "map_value?", { pktAccess: true })], // map_lookup_percpu_elem
  [208, P([])], // ktime_get_tai_ns
  [164, P(["map", "func", "stack?", "any"])], // for_each_map_elem
  [177, P(["mem", "size", "mem?", "size0"], "int", { gplOnly: true })], // trace_vprintk: its format is checked when it runs
  [182, P(["mem", "size", "const_str"])], // strncmp
  [165, P(["mem?", "size0", "const_str", "mem?", "size0"], "int", { gplOnly: true })], // snprintf: its format is checked too
  [169, P(["timer", "map", "any"], "int", { gplOnly: true })], // timer_init
  [170, P(["timer", "func"], "int", { gplOnly: true })], // timer_set_callback
  [171, P(["timer", "any", "any"], "int", { gplOnly: true })], // timer_start
  [172, P(["timer"], "int", { gplOnly: true })], // timer_cancel
  [181, P(["any", "func", "stack?", "any"])], // loop
  // Helpers of BTF-typed programs: kernel structs in and out, checked against the kernel's BTF.
  [126, P(["btf_id", "mem", "size", "mem?", "size0"], "int", { btfArg: "seq_file" })], // seq_printf
  [127, P(["btf_id", "mem", "size0"], "int", { btfArg: "seq_file" })], // seq_write
  [141, P(["btf_id", "uninit", "size0", "any"], "int", { btfArg: "task_struct" })], // get_task_stack
  [158, P([], "btf_id", { btfRet: { name: "task_struct", trusted: true } })], // get_current_task_btf
  [175, P(["btf_id"], "btf_id", { btfArg: "task_struct", btfRet: { name: "pt_regs", trusted: false } })], // task_pt_regs
  ...(
    [
      [136, "tcp6_sock"],
      [137, "tcp_sock"],
      [138, "tcp_timewait_sock"],
      [139, "tcp_request_sock"],
      [140, "udp6_sock"],
      [178, "unix_sock"],
    ] as const
  ).map(([id, name]): [number, HelperProto] => [
    id,
    P(["btf_sock_common"], "btf_id?", { castsArg: true, btfRet: { name, trusted: false } }),
  ]), // skc_to_*
]);

/**
 * Helpers that call a callback before they return (is_sync_callback_calling_function): for_each_map_elem,
 * find_vma, loop, user_ringbuf_drain. The walk returns from the callback to the call itself, which may call
 * it again, until the states there repeat.
 */
export const SYNC_CALLBACK_HELPERS: ReadonlySet<number> = new Set([164, 180, 181, 209]);

/** Helpers every program type gets (bpf_base_func_proto, for a privileged loader). */
const BASE = [1, 2, 3, 87, 88, 89, 7, 8, 42, 12, 5, 125, 118, 130, 131, 132, 133, 134, 6, 35, 14, 16, 112, 113, 114, 115, 105, 106];
/** bpf_tracing_func_proto's additions. */
const TRACING = [35, 14, 15, 16, 22, 37, 4, 45, 112, 114, 55, 80];
const SKB_COMMON = [26, 46, 47, 25];

const TC = [
  ...SKB_COMMON,
  9,
  10,
  11,
  13,
  17,
  18,
  19,
  20,
  21,
  23,
  24,
  28,
  29,
  30,
  31,
  32,
  33,
  34,
  38,
  39,
  40,
  41,
  43,
  48,
  50,
  69,
  84,
  85,
  86,
];

/** Helper ids each program type may call, besides BASE. */
const ALLOWED: Partial<Record<ProgramType, readonly number[]>> = {
  socket_filter: SKB_COMMON,
  sched_cls: TC,
  sched_act: TC,
  xdp: [25, 28, 44, 54, 23, 51, 65, 69, 84, 85, 86],
  kprobe: [...TRACING, 25, 27, 67],
  tracepoint: [...TRACING, 25, 27, 67],
  raw_tracepoint: [...TRACING, 25, 27, 67],
  raw_tracepoint_writable: [...TRACING, 25, 27, 67],
  perf_event: [...TRACING, 25, 27, 67, 56],
  sock_ops: [49, 57, 59, 53, 46, 25],
  cgroup_sock: [15, 14, 16, 46, 25, 80],
  cgroup_sock_addr: [15, 14, 16, 46, 25, 80, 84, 85, 86],
  cgroup_skb: [...SKB_COMMON, 84, 85, 86],
  cgroup_sysctl: [105, 106, 15, 14, 16, 80],
  lwt_in: [26, 39, 28, 17, 24, 34, 25],
  lwt_out: [26, 39, 28, 17, 24, 34, 25],
  lwt_xmit: [26, 39, 28, 17, 24, 34, 25, 9, 10, 11, 13, 38, 43, 23],
  sk_skb: [26, 9, 39, 38, 43, 46, 47, 52, 25],
  sk_msg: [25, 14, 15],
  flow_dissector: [26],
  netfilter: [],
  tracing: [...TRACING, 25, 27, 67],
};

const kernelSets = new Map<string, bigint>();

/**
 * Whether `type` may call helper `id`: the kernel's answer where it was recorded (helper-table.ts), else the
 * lists above (undefined: this verifier knows no list for the type, or not the helper).
 */
export function helperAllowed(type: ProgramType, id: number, attachType?: string): boolean | undefined {
  // Tracing programs' helpers depend on how they attach: recorded as "tracing/<attach type>".
  const key = type === "tracing" ? `${type}/${attachType ?? ""}` : type;
  const recorded = KERNEL_HELPERS[key];
  if (recorded !== undefined) {
    let set = kernelSets.get(key);
    if (set === undefined) {
      set = BigInt(`0x${recorded}`);
      kernelSets.set(key, set);
    }
    return id >= 0 && ((set >> BigInt(id)) & 1n) === 1n;
  }
  const extra = ALLOWED[type];
  if (extra === undefined || !HELPER_PROTOS.has(id)) return undefined;
  return BASE.includes(id) || extra.includes(id);
}

/**
 * Where bpf_get_cgroup_classid reads the packet's classid (from its ctx argument); every other type that may
 * call it gets the current task's, with no argument (bpf_get_cgroup_classid_curr_proto).
 */
const CLASSID_FROM_SKB: ReadonlySet<ProgramType> = new Set(["sched_cls", "sched_act", "lwt_in", "lwt_out", "lwt_xmit", "lwt_seg6local"]);
const CLASSID_OF_CURRENT = P([]);

/** A helper's prototype as a program of `type` sees it (a few helpers have one per kind of program). */
export function helperProto(type: ProgramType, id: number): HelperProto | undefined {
  if (id === 17 && !CLASSID_FROM_SKB.has(type)) return CLASSID_OF_CURRENT;
  return HELPER_PROTOS.get(id);
}

/** Registers a helper call reads, and those whose value it checks (sizes): bit sets. */
export function helperArgs(id: number): { reads: number; sized: number; count: number } {
  const proto = HELPER_PROTOS.get(id);
  if (!proto) return { reads: 0x3e, sized: 0x3e, count: 5 };
  let reads = 0;
  let sized = 0;
  proto.args.forEach((k, n) => {
    reads |= 1 << (n + 1);
    if (k === "size" || k === "size0" || k === "alloc") sized |= 1 << (n + 1);
  });
  return { reads, sized, count: proto.args.length };
}
