/**
 * Context access rules per program type (the kernel's *_is_valid_access for each type, x86-64 layouts): which
 * offsets and sizes a program may read or write in its ctx, and which fields load packet pointers.
 */
import type { ProgramType } from "../object/section-types.js";
import type { RegKind } from "./reg.js";

export interface CtxAccess {
  /** What the loaded register becomes; default an unknown scalar. */
  readonly kind?: RegKind;
  readonly maybeNull?: boolean;
  /** btf_id: the kernel type the pointer points to, and how far it is trusted ("trusted_"). */
  readonly btf?: { readonly name: string; readonly flavour: string };
}

/** A type's ctx check: an access at `off` of `size` bytes, given BPF_PROG_LOAD's flags and expected attach type. */
type Rule = (off: number, size: number, write: boolean, flags: number, attachType?: string) => CtxAccess | undefined;

const OK: CtxAccess = {};
const inRange = (off: number, start: number, end: number): boolean => off >= start && off < end;
/** A narrow read of a 4- or 8-byte field: any power-of-two size up to the field's. */
const narrowOk = (size: number, fieldSize: number): boolean => size <= fieldSize && (size & (size - 1)) === 0;

// struct __sk_buff
const SKB = {
  len: 0,
  mark: 8,
  queue_mapping: 12,
  priority: 32,
  tc_index: 44,
  cb: 48,
  cbEnd: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  napi_id: 84,
  family: 88,
  remote_ip4: 92,
  local_ip4: 96,
  remote_ip6: 100,
  local_ip6: 116,
  local_port: 136,
  data_meta: 140,
  flow_keys: 144,
  tstamp: 152,
  wire_len: 160,
  sk: 168,
  tstamp_type: 180,
  hwtstamp: 184,
  size: 192,
};

const field = (off: number, start: number, size = 4): boolean => inRange(off, start, start + size);

/** bpf_skb_is_valid_access: the rules every __sk_buff user shares. */
function skbCommon(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= SKB.size || off % size !== 0) return undefined;
  if (inRange(off, SKB.cb, SKB.cbEnd)) return off + size > SKB.cbEnd ? undefined : OK;
  if (inRange(off, SKB.remote_ip4, SKB.local_ip6 + 16) || field(off, SKB.data) || field(off, SKB.data_meta) || field(off, SKB.data_end))
    return size === 4 ? OK : undefined;
  if (field(off, SKB.flow_keys, 8)) return undefined;
  if (field(off, SKB.hwtstamp, 8)) return write || size !== 8 ? undefined : OK;
  if (field(off, SKB.tstamp, 8)) return size !== 8 ? undefined : OK;
  if (off === SKB.sk) return write || size !== 8 ? undefined : { kind: "sock_common", maybeNull: true };
  if (inRange(off, SKB.sk, SKB.sk + 8)) return undefined;
  if (inRange(off, SKB.tstamp_type, SKB.hwtstamp)) return undefined;
  if (write) return size === 4 ? OK : undefined;
  return narrowOk(size, 4) ? OK : undefined;
}

const PACKET_FIELDS = (off: number): CtxAccess | undefined =>
  field(off, SKB.data)
    ? { kind: "pkt" }
    : field(off, SKB.data_meta)
      ? { kind: "pkt_meta" }
      : field(off, SKB.data_end)
        ? { kind: "pkt_end" }
        : undefined;

const socketFilter: Rule = (off, size, write) => {
  if (
    field(off, SKB.tc_classid) ||
    field(off, SKB.data) ||
    field(off, SKB.data_meta) ||
    field(off, SKB.data_end) ||
    inRange(off, SKB.family, SKB.local_port + 4) ||
    field(off, SKB.tstamp, 8) ||
    field(off, SKB.wire_len) ||
    field(off, SKB.hwtstamp, 8)
  )
    return undefined;
  if (write && !inRange(off, SKB.cb, SKB.cbEnd)) return undefined;
  return skbCommon(off, size, write);
};

const tcWritable = [SKB.mark, SKB.tc_index, SKB.priority, SKB.tc_classid, SKB.queue_mapping];
const tc: Rule = (off, size, write) => {
  if (write && !tcWritable.some((f) => field(off, f)) && !inRange(off, SKB.cb, SKB.cbEnd) && !field(off, SKB.tstamp, 8)) return undefined;
  if (inRange(off, SKB.family, SKB.local_port + 4)) return undefined;
  const access = skbCommon(off, size, write);
  return access && (PACKET_FIELDS(off) ?? access);
};

const cgroupSkb: Rule = (off, size, write) => {
  if (field(off, SKB.tc_classid) || field(off, SKB.data_meta) || field(off, SKB.wire_len)) return undefined;
  if (write && !field(off, SKB.mark) && !field(off, SKB.priority) && !inRange(off, SKB.cb, SKB.cbEnd) && !field(off, SKB.tstamp, 8))
    return undefined;
  const access = skbCommon(off, size, write);
  if (!access) return undefined;
  if (field(off, SKB.data)) return { kind: "pkt" };
  if (field(off, SKB.data_end)) return { kind: "pkt_end" };
  return access;
};

const lwt: Rule = (off, size, write) => {
  if (
    field(off, SKB.tc_classid) ||
    inRange(off, SKB.family, SKB.local_port + 4) ||
    field(off, SKB.data_meta) ||
    field(off, SKB.tstamp, 8) ||
    field(off, SKB.wire_len) ||
    field(off, SKB.hwtstamp, 8)
  )
    return undefined;
  if (write && !field(off, SKB.mark) && !field(off, SKB.priority) && !inRange(off, SKB.cb, SKB.cbEnd)) return undefined;
  const access = skbCommon(off, size, write);
  if (!access) return undefined;
  if (field(off, SKB.data)) return { kind: "pkt" };
  if (field(off, SKB.data_end)) return { kind: "pkt_end" };
  return access;
};

const skSkb: Rule = (off, size, write) => {
  if (
    field(off, SKB.tc_classid) ||
    field(off, SKB.data_meta) ||
    field(off, SKB.tstamp, 8) ||
    field(off, SKB.wire_len) ||
    field(off, SKB.hwtstamp, 8)
  )
    return undefined;
  if (write && !field(off, SKB.tc_index) && !field(off, SKB.priority)) return undefined;
  if (field(off, SKB.mark)) return undefined;
  const access = skbCommon(off, size, write);
  if (!access) return undefined;
  if (field(off, SKB.data)) return { kind: "pkt" };
  if (field(off, SKB.data_end)) return { kind: "pkt_end" };
  return access;
};

// struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex.
const xdp: Rule = (off, size, write) => {
  if (write) return undefined;
  if (off < 0 || off >= 24 || off % size !== 0 || size !== 4) return undefined;
  if (off === 20) return undefined; // egress_ifindex: devmap programs only
  return off === 0 ? { kind: "pkt" } : off === 4 ? { kind: "pkt_end" } : off === 8 ? { kind: "pkt_meta" } : OK;
};

const PT_REGS_SIZE = 168;
const kprobe: Rule = (off, size, write) =>
  off < 0 || off >= PT_REGS_SIZE || write || off % size !== 0 || off + size > PT_REGS_SIZE ? undefined : OK;

// tp_prog_is_valid_access compares the int offset with sizeof(void *), a size_t: a negative offset turns
// unsigned, huge, and passes (then only its alignment is checked). The kernel's verdict is ours.
const tracepoint: Rule = (off, size, write) => ((off >= 0 && off < 8) || off >= 2048 || write || off % size !== 0 ? undefined : OK);

const rawTracepoint: Rule = (off, size, write) => (off < 0 || off >= 96 || write || off % size !== 0 ? undefined : OK);

// struct bpf_perf_event_data: regs (168), sample_period, addr.
const perfEvent: Rule = (off, size, write) => {
  if (off < 0 || off >= PT_REGS_SIZE + 16 || write || off % size !== 0) return undefined;
  if (off >= PT_REGS_SIZE) return narrowOk(size, 8) ? OK : undefined;
  return size === 8 ? OK : undefined;
};

// struct bpf_sock: bound_dev_if 0, family 4, type 8, protocol 12, mark 16, priority 20, src_ip4 24,
// src_ip6 28..44, src_port 44, dst_port 48 (u16 + pad), dst_ip4 52, dst_ip6 56..72, state 72, rx_queue_mapping 76.
// struct bpf_sock: bound_dev_if 0, family 4, type 8, protocol 12, mark 16, priority 20, src_ip4 24,
// src_ip6 28..44, src_port 44, dst_port 48 (16 bits), dst_ip4 52, dst_ip6 56..72, state 72,
// rx_queue_mapping 76. What may be read or written depends on the hook (the expected attach type; the
// kernel makes none into sock_create).
const cgroupSock: Rule = (off, size, write, _flags, attach = "cgroup_inet_sock_create") => {
  if (off < 0 || off >= 80 || off % size !== 0) return undefined;
  // bpf_sock_is_valid_access: the size.
  let sized: boolean;
  if ([4, 8, 12, 44, 72, 76].includes(off) || inRange(off, 24, 44) || inRange(off, 52, 72)) sized = narrowOk(size, 4);
  else if (inRange(off, 48, 50)) sized = narrowOk(size, size === 4 ? 4 : 2);
  else if (inRange(off, 50, 52)) sized = false;
  else sized = size === 4;
  if (!sized) return undefined;
  // __sock_filter_check_attach_type: the hook.
  const postBind4 = attach === "cgroup_inet4_post_bind";
  const postBind6 = attach === "cgroup_inet6_post_bind";
  if (off === 0 || off === 16 || off === 20)
    return attach === "cgroup_inet_sock_create" || attach === "cgroup_inet_sock_release" ? OK : undefined;
  if (inRange(off, 24, 28)) return postBind4 && !write ? OK : undefined;
  if (inRange(off, 28, 44)) return postBind6 && !write ? OK : undefined;
  if (inRange(off, 44, 48)) return (postBind4 || postBind6) && !write ? OK : undefined;
  return write ? undefined : OK;
};

// struct bpf_sock_addr: user_family 0, user_ip4 4, user_ip6 8..24, user_port 24, family 28, type 32,
// protocol 36, msg_src_ip4 40, msg_src_ip6 44..60, sk (ptr) 64.
const sockAddr: Rule = (off, size, write) => {
  if (off < 0 || off >= 72 || off % size !== 0) return undefined;
  if (inRange(off, 4, 28) || inRange(off, 40, 60)) {
    if (write) return size === 4 || (size === 8 && off % 8 === 0 && inRange(off, 8, 24)) ? OK : undefined;
    return narrowOk(size, 4) ? OK : undefined;
  }
  if (off === 64) return write || size !== 8 ? undefined : { kind: "sock" };
  if (inRange(off, 64, 72)) return undefined;
  if (write) return undefined;
  return size === 4 ? OK : undefined;
};

// struct bpf_sock_ops: op 0, args/reply 4..20, family 20, remote_ip4 24, local_ip4 28, remote_ip6 32..48,
// local_ip6 48..64, remote_port 64, local_port 68, is_fullsock 72, snd_cwnd 76, srtt_us 80,
// bpf_sock_ops_cb_flags 84, state 88, rtt_min 92, snd_ssthresh 96, rcv_nxt 100, snd_nxt 104, snd_una 108,
// mss_cache 112, ecn_flags 116, rate_delivered 120, rate_interval_us 124, packets_out 128, retrans_out 132,
// total_retrans 136, segs_in 140, data_segs_in 144, segs_out 148, data_segs_out 152, lost_out 156,
// sacked_out 160, sk_txhash 164, bytes_received 168, bytes_acked 176, sk 184, skb_data 192, skb_data_end 200,
// skb_len 208, skb_tcp_flags 212, skb_hwtstamp 216; size 224.
const sockOps: Rule = (off, size, write) => {
  if (off < 0 || off >= 224 || off % size !== 0) return undefined;
  // Only reply (replylong[0]) and sk_txhash are written (sock_ops_is_valid_access).
  if (write) return (off === 4 || off === 164) && size === 4 ? OK : undefined;
  if (off === 168 || off === 176 || off === 216) return size === 8 ? OK : undefined;
  if (off === 184) return size === 8 ? { kind: "sock", maybeNull: true } : undefined;
  if (off === 192) return size === 8 ? { kind: "pkt" } : undefined;
  if (off === 200) return size === 8 ? { kind: "pkt_end" } : undefined;
  if (inRange(off, 168, 224)) return off < 216 && off >= 208 && size === 4 ? OK : undefined;
  return size === 4 ? OK : undefined;
};

// struct sk_msg_md: data 0 (ptr), data_end 8 (ptr), family 16, remote_ip4 20, local_ip4 24, remote_ip6 28..44,
// local_ip6 44..60, remote_port 60, local_port 64, size 68, sk 72 (ptr); size 80.
const skMsg: Rule = (off, size, write) => {
  if (write) return undefined;
  if (off < 0 || off >= 80 || off % size !== 0) return undefined;
  if (off === 0) return size === 8 ? { kind: "pkt" } : undefined;
  if (off === 8) return size === 8 ? { kind: "pkt_end" } : undefined;
  if (inRange(off, 0, 16)) return undefined;
  if (off === 72) return size === 8 ? { kind: "sock" } : undefined;
  if (inRange(off, 72, 80)) return undefined;
  if (inRange(off, 16, 68)) return size === 4 ? OK : undefined;
  if (off === 68) return size === 4 ? OK : undefined;
  return undefined;
};

// struct bpf_sysctl: write 0, file_pos 4.
const sysctl: Rule = (off, size, write) => {
  if (off < 0 || off + size > 8 || off % size !== 0) return undefined;
  if (write) return off === 4 && size === 4 ? OK : undefined;
  return narrowOk(size, 4) ? OK : undefined;
};

const RULES: Partial<Record<ProgramType, Rule>> = {
  socket_filter: socketFilter,
  sched_cls: tc,
  sched_act: tc,
  cgroup_skb: cgroupSkb,
  lwt_in: lwt,
  lwt_out: lwt,
  lwt_xmit: lwt,
  lwt_seg6local: lwt,
  sk_skb: skSkb,
  xdp,
  kprobe,
  tracepoint,
  raw_tracepoint: rawTracepoint,
  // Argument 0 of a writable raw tracepoint is the buffer the tracepoint lets programs write.
  raw_tracepoint_writable: (off, size, write, flags) =>
    off === 0 ? (size === 8 && !write ? { kind: "tp_buffer" } : undefined) : rawTracepoint(off, size, write, flags),
  perf_event: perfEvent,
  cgroup_sock: cgroupSock,
  cgroup_sock_addr: sockAddr,
  sock_ops: sockOps,
  sk_msg: skMsg,
  cgroup_sysctl: sysctl,
  flow_dissector: flowDissector,
  sk_lookup: skLookup,
  sk_reuseport: skReuseport,
  netfilter,
};

/**
 * nf_is_valid_access: struct bpf_nf_ctx is two read-only pointers, the hook's state and the packet, which load
 * as trusted pointers to their kernel types.
 */
function netfilter(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= 16 || off % 8 !== 0 || write || size !== 8) return undefined;
  return { kind: "btf_id", btf: { name: off < 8 ? "nf_hook_state" : "sk_buff", flavour: "trusted_" } };
}

/** The rule for a program type, or undefined when this verifier does not know the type's context. */
/** flow_dissector_is_valid_access: a read-only __sk_buff with the packet and its flow keys, nothing else. */
function flowDissector(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= SKB.size || off % size !== 0 || write) return undefined;
  if (field(off, SKB.data)) return size === 4 ? { kind: "pkt" } : undefined;
  if (field(off, SKB.data_end)) return size === 4 ? { kind: "pkt_end" } : undefined;
  if (field(off, SKB.flow_keys, 8)) return size === 8 ? { kind: "flow_keys" } : undefined;
  return undefined;
}

/** sk_lookup_is_valid_access over struct bpf_sk_lookup (72 bytes), read only. */
function skLookup(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= 72 || off % size !== 0 || write) return undefined;
  if (inRange(off, 0, 8)) return size === 8 ? { kind: "sock", maybeNull: true } : undefined;
  // family, protocol, remote_ip4, remote_ip6[4] | local_ip4, local_ip6[4], local_port, ingress_ifindex
  if (inRange(off, 8, 36) || inRange(off, 40, 68)) return narrowOk(size, 4) ? OK : undefined;
  // remote_port may also be read as 4 bytes; the zero padding after it as 2.
  if (inRange(off, 36, 38)) return size === 4 || narrowOk(size, 2) ? OK : undefined;
  if (inRange(off, 38, 40)) return narrowOk(size, 2) ? OK : undefined;
  return undefined;
}

/** sk_reuseport_is_valid_access over struct sk_reuseport_md (56 bytes), read only. */
function skReuseport(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= 56 || off % size !== 0 || write) return undefined;
  if (off === 0) return size === 8 ? { kind: "pkt" } : undefined;
  if (off === 8) return size === 8 ? { kind: "pkt_end" } : undefined;
  if (off === 32) return size === 4 ? OK : undefined; // hash
  if (off === 40) return size === 8 ? { kind: "sock" } : undefined;
  if (off === 48) return size === 8 ? { kind: "sock_common", maybeNull: true } : undefined; // migrating_sk
  // eth_protocol is the skb's 2-byte protocol: not narrower than that.
  if (inRange(off, 20, 24) && size < 2) return undefined;
  // len, eth_protocol, ip_protocol, bind_inany
  if (inRange(off, 16, 32)) return narrowOk(size, 4) ? OK : undefined;
  return undefined;
}

export function ctxRule(type: ProgramType): Rule | undefined {
  return RULES[type];
}
