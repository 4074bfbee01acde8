/**
 * Program contexts laid out as the kernel's UAPI structs, in linear memory, for test runs: `__sk_buff` for
 * socket filters, tc (sched_cls/sched_act) and cgroup_skb programs, `xdp_md` for XDP, and for flow
 * dissectors the `__sk_buff` view they get (data, data_end, flow_keys) with a `bpf_flow_keys`. Packet pointers in the
 * context are plain 32-bit addresses of the machine's memory, so programs read `skb->data` as they do in the
 * kernel. Field values follow what BPF_PROG_TEST_RUN gives on Linux (measured: a socket filter sees the packet
 * after its Ethernet header, `len` 50 for 64 bytes; tc programs see it whole; `protocol` is the EtherType in
 * network order; the device is loopback, ifindex 1).
 */

import { VmError } from "../exec/errors.js";
import { type Memory, ReusableRegion } from "../exec/memory.js";
import type { PacketState } from "../helpers/runtime.js";
import type { PacketBounds } from "./machine.js";

export const SK_BUFF_SIZE = 192;

/**
 * Context sizes of the program types whose context is plain bytes (struct sizes from the kernel's BTF); a
 * tracepoint's fields depend on the tracepoint (its format file), so it gets ctx_in's size or 256 bytes.
 */
export const PLAIN_CONTEXT_SIZE: Readonly<Record<string, number>> = {
  kprobe: 168, // struct pt_regs (x86-64)
  perf_event: 184, // struct bpf_perf_event_data
  tracepoint: 2048, // PERF_MAX_TRACE_SIZE: the verifier lets a program read that far
  raw_tracepoint: 96, // up to 12 u64 arguments
  raw_tracepoint_writable: 96,
  tracing: 96,
  sock_ops: 224, // struct bpf_sock_ops
  cgroup_sock: 80, // struct bpf_sock
  cgroup_sock_addr: 72, // struct bpf_sock_addr
  sk_msg: 80, // struct sk_msg_md
  cgroup_device: 12, // struct bpf_cgroup_dev_ctx
  cgroup_sysctl: 8,
  cgroup_sockopt: 40,
  syscall: 0,
};
/**
 * Bytes readable below a plain context. A tracepoint program may read at any negative offset from its
 * context (tp_prog_is_valid_access compares the offset as unsigned): the machine maps what an instruction's
 * 16-bit offset can reach, zeroed, so that what the kernel accepts stays inside the context's region.
 */
export const PLAIN_CONTEXT_BELOW: Readonly<Record<string, number>> = { tracepoint: 0x8000 };
export const XDP_MD_SIZE = 24;
/** struct bpf_flow_keys; a flow dissector's ctx_in may set only its `flags` (bytes 48-51). */
export const FLOW_KEYS_SIZE = 56;
const FLOW_KEYS_FLAGS = 48;
const ETH_HLEN = 14;
/** XDP buffers: one page, 256 bytes of headroom, skb_shared_info's 320 bytes reserved at the end. */
const XDP_FRAME = 4096;
const XDP_HEADROOM = 256;
const XDP_TAILROOM = 320;
/** skb test buffers: room to grow at both ends (skb_change_head / change_tail). */
const SKB_HEADROOM = 256;
const SKB_TAILROOM = 1024;

// struct __sk_buff offsets (linux/bpf.h)
const SKB = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48,
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  data_meta: 140,
  flow_keys: 144,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  gso_size: 176,
  hwtstamp: 184,
} as const;

/** __sk_buff fields a test run may set from ctx_in (bpf_ctx_init's list); any other non-zero byte is EINVAL. */
const SKB_CTX_IN: ReadonlyArray<[number, number]> = [
  [SKB.mark, 4],
  [SKB.priority, 4],
  [SKB.ingress_ifindex, 4],
  [SKB.ifindex, 4],
  [SKB.cb, 20],
  [SKB.tstamp, 8],
  [SKB.wire_len, 4],
  [SKB.gso_segs, 4],
  [SKB.gso_size, 4],
  [SKB.hwtstamp, 8],
];

/** A reused region, zeroed for each run. */
class Scratch {
  private readonly region: ReusableRegion;

  constructor(
    private readonly memory: Memory,
    name: string,
  ) {
    this.region = new ReusableRegion(memory, name, 256);
  }

  take(size: number): number {
    const start = this.region.take(size);
    this.memory.bytes.fill(0, start, start + size);
    return start;
  }
}

export interface ContextRun {
  /** r1 for the program. */
  readonly ctx: number;
  /** What LD_ABS/LD_IND read. */
  readonly ldAbs: PacketBounds;
  readonly packet: PacketState;
  /** The packet after the run (what BPF_PROG_TEST_RUN returns as data_out). */
  dataOut(): Uint8Array;
  ctxOut(): Uint8Array;
}

export class Contexts {
  private readonly ctxArea: Scratch;
  private readonly packetArea: Scratch;

  constructor(private readonly memory: Memory) {
    this.ctxArea = new Scratch(memory, "context");
    this.packetArea = new Scratch(memory, "packet");
  }

  /** An skb for `data` (an Ethernet frame); socket filters (`l2: false`) start after the Ethernet header. */
  skb(data: Uint8Array, ctxIn: Uint8Array | undefined, l2: boolean, pc = 0): ContextRun {
    if (data.length < ETH_HLEN) throw new VmError("UNSUPPORTED", `test packets need an Ethernet header (${data.length} bytes given)`, pc);
    const mem = this.memory;
    const buffer = this.packetArea.take(SKB_HEADROOM + data.length + SKB_TAILROOM);
    mem.bytes.set(data, buffer + SKB_HEADROOM);
    const ctx = this.ctxArea.take(SK_BUFF_SIZE);
    if (ctxIn) {
      if (ctxIn.length > SK_BUFF_SIZE) throw new VmError("UNSUPPORTED", `ctx_in of ${ctxIn.length} bytes is larger than __sk_buff`, pc);
      const allowed = new Uint8Array(SK_BUFF_SIZE);
      for (const [at, n] of SKB_CTX_IN) allowed.fill(1, at, at + n);
      const bad = ctxIn.findIndex((b, i) => b !== 0 && allowed[i] === 0);
      if (bad >= 0) throw new VmError("UNSUPPORTED", `ctx_in sets __sk_buff byte ${bad}, which a test run may not set (EINVAL)`, pc);
      mem.bytes.set(ctxIn, ctx);
    }
    const view = (): DataView => mem.view;
    const mac = buffer + SKB_HEADROOM;
    const dest = data.subarray(0, 6);
    // eth_type_trans on loopback (address 00:00:00:00:00:00)
    const pktType = dest.every((b) => b === 0xff) ? 1 : (dest[0] as number) & 1 ? 2 : dest.every((b) => b === 0) ? 0 : 3;
    const etherType = new DataView(data.buffer, data.byteOffset, data.length).getUint16(12, false);
    const v = view();
    v.setUint32(ctx + SKB.pkt_type, pktType, true);
    // skb->protocol: the EtherType, or ETH_P_802_2 for an 802.3 length; __sk_buff shows it in network order
    const protocol = etherType >= 0x600 ? etherType : 0x0004;
    if (v.getUint32(ctx + SKB.ifindex, true) === 0) v.setUint32(ctx + SKB.ifindex, 1, true);
    if (v.getUint32(ctx + SKB.gso_segs, true) === 0) v.setUint32(ctx + SKB.gso_segs, 1, true);
    const packet: PacketState = {
      kind: "skb",
      bufferStart: buffer,
      bufferEnd: buffer + SKB_HEADROOM + data.length + SKB_TAILROOM,
      data: l2 ? mac : mac + ETH_HLEN,
      dataEnd: mac + data.length,
      dataMeta: l2 ? mac : mac + ETH_HLEN,
      sync() {
        const w = view();
        w.setUint32(ctx + SKB.len, this.dataEnd - this.data, true);
        w.setUint32(ctx + SKB.data, this.data, true);
        w.setUint32(ctx + SKB.data_end, this.dataEnd, true);
        w.setUint32(ctx + SKB.data_meta, this.dataMeta, true);
        if (w.getUint32(ctx + SKB.wire_len, true) === 0) w.setUint32(ctx + SKB.wire_len, data.length, true);
      },
      setVlan(tci, proto) {
        const w = view();
        w.setUint32(ctx + SKB.vlan_present, tci === undefined ? 0 : 1, true);
        w.setUint32(ctx + SKB.vlan_tci, tci ?? 0, true);
        w.setUint32(ctx + SKB.vlan_proto, proto, true);
      },
      setPacketType(type) {
        view().setUint32(ctx + SKB.pkt_type, type, true);
      },
      protocol,
      setProtocol(proto) {
        this.protocol = proto;
        view().setUint32(ctx + SKB.protocol, (proto >> 8) | ((proto & 0xff) << 8), true);
      },
    };
    packet.setProtocol?.(protocol);
    packet.sync();
    return {
      ctx,
      packet,
      get ldAbs() {
        return { start: packet.data, length: packet.dataEnd - packet.data, link: mac, network: mac + ETH_HLEN };
      },
      // the kernel gives back the frame from its Ethernet header (socket filters' pulled header included)
      // (for socket filters, whose header was pulled, it comes back zeroed: measured on Linux 6.18)
      dataOut: () => {
        const out = mem.bytes.slice(l2 ? packet.data : Math.min(packet.data, mac), packet.dataEnd);
        if (!l2) out.fill(0, 0, Math.min(ETH_HLEN, out.length));
        return out;
      },
      ctxOut: () => {
        const out = new Uint8Array(SK_BUFF_SIZE);
        for (const [at, n] of SKB_CTX_IN) out.set(mem.bytes.subarray(ctx + at, ctx + at + n), at);
        return out;
      },
    };
  }

  /**
   * A context that is only bytes (pt_regs for kprobes, bpf_perf_event_data, a tracepoint's fields, raw
   * tracepoint arguments, bpf_sock_ops…): `size` bytes, starting with ctx_in. No packet.
   */
  plain(size: number, ctxIn: Uint8Array | undefined, below = 0): ContextRun {
    const mem = this.memory;
    const length = Math.max(size, ctxIn?.length ?? 0);
    const ctx = this.ctxArea.take(below + length) + below;
    if (ctxIn) mem.bytes.set(ctxIn, ctx);
    const none: PacketState = { kind: "skb", bufferStart: 0, bufferEnd: 0, data: 0, dataEnd: 0, dataMeta: 0, sync() {} };
    return {
      ctx,
      packet: none,
      ldAbs: { start: 0, length: 0 },
      dataOut: () => new Uint8Array(0),
      ctxOut: () => mem.bytes.slice(ctx, ctx + length),
    };
  }

  /**
   * A flow dissector's run as BPF_PROG_TEST_RUN makes it (bpf_flow_dissect): the keys start zeroed with
   * n_proto = the EtherType, nhoff = thoff = 14 and flags from ctx_in; afterwards nhoff and thoff are
   * clamped into the packet, and the keys are data_out.
   */
  flowDissector(data: Uint8Array, ctxIn: Uint8Array | undefined, pc = 0): ContextRun {
    if (data.length < ETH_HLEN) throw new VmError("UNSUPPORTED", `test packets need an Ethernet header (${data.length} bytes given)`, pc);
    if (ctxIn) {
      if (ctxIn.length > FLOW_KEYS_SIZE)
        throw new VmError("UNSUPPORTED", `ctx_in of ${ctxIn.length} bytes is larger than bpf_flow_keys`, pc);
      const bad = ctxIn.findIndex((b, i) => b !== 0 && (i < FLOW_KEYS_FLAGS || i >= FLOW_KEYS_FLAGS + 4));
      if (bad >= 0) throw new VmError("UNSUPPORTED", `ctx_in sets bpf_flow_keys byte ${bad}; a test run takes only flags (EINVAL)`, pc);
    }
    const mem = this.memory;
    const start = this.packetArea.take(data.length);
    mem.bytes.set(data, start);
    // one region for both: each take() of a scratch area reuses it
    const ctx = this.ctxArea.take(SK_BUFF_SIZE + FLOW_KEYS_SIZE);
    const keys = ctx + SK_BUFF_SIZE;
    const v = mem.view;
    v.setUint32(ctx + SKB.data, start, true);
    v.setUint32(ctx + SKB.data_end, start + data.length, true);
    v.setUint32(ctx + SKB.flow_keys, keys, true);
    v.setUint16(keys, ETH_HLEN, true); // nhoff
    v.setUint16(keys + 2, ETH_HLEN, true); // thoff
    mem.bytes.set(data.subarray(12, 14), keys + 10); // n_proto, as the frame has it (network order)
    if (ctxIn && ctxIn.length >= FLOW_KEYS_FLAGS + 4)
      v.setUint32(keys + FLOW_KEYS_FLAGS, new DataView(ctxIn.buffer, ctxIn.byteOffset).getUint32(FLOW_KEYS_FLAGS, true), true);
    const packet: PacketState = {
      kind: "flow_dissector",
      bufferStart: start,
      bufferEnd: start + data.length,
      data: start,
      dataEnd: start + data.length,
      dataMeta: start,
      sync() {},
    };
    const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);
    return {
      ctx,
      packet,
      ldAbs: { start, length: data.length },
      dataOut: () => {
        const w = mem.view;
        const nhoff = clamp(w.getUint16(keys, true), ETH_HLEN, data.length);
        w.setUint16(keys, nhoff, true);
        w.setUint16(keys + 2, clamp(w.getUint16(keys + 2, true), nhoff, data.length), true);
        return mem.bytes.slice(keys, keys + FLOW_KEYS_SIZE);
      },
      ctxOut: () => (ctxIn ? ctxIn.slice() : new Uint8Array(0)),
    };
  }

  /** An xdp_md for `data`, received on loopback (ifindex 1), queue 0. */
  xdp(data: Uint8Array, ctxIn: Uint8Array | undefined, pc = 0): ContextRun {
    const mem = this.memory;
    if (data.length > XDP_FRAME - XDP_HEADROOM - XDP_TAILROOM)
      throw new VmError("UNSUPPORTED", `an XDP test packet holds at most ${XDP_FRAME - XDP_HEADROOM - XDP_TAILROOM} bytes`, pc);
    const buffer = this.packetArea.take(XDP_FRAME);
    mem.bytes.set(data, buffer + XDP_HEADROOM);
    const ctx = this.ctxArea.take(XDP_MD_SIZE);
    const view = (): DataView => mem.view;
    view().setUint32(ctx + 12, 1, true); // ingress_ifindex
    if (ctxIn) {
      if (ctxIn.length > XDP_MD_SIZE) throw new VmError("UNSUPPORTED", `ctx_in of ${ctxIn.length} bytes is larger than xdp_md`, pc);
      const c = new DataView(ctxIn.buffer, ctxIn.byteOffset, ctxIn.length);
      if (ctxIn.length >= 16 && c.getUint32(12, true) !== 0) view().setUint32(ctx + 12, c.getUint32(12, true), true);
      if (ctxIn.length >= 20) view().setUint32(ctx + 16, c.getUint32(16, true), true);
    }
    const start = buffer + XDP_HEADROOM;
    const packet: PacketState = {
      kind: "xdp",
      bufferStart: buffer,
      bufferEnd: buffer + XDP_FRAME - XDP_TAILROOM,
      data: start,
      dataEnd: start + data.length,
      dataMeta: start,
      sync() {
        const w = view();
        w.setUint32(ctx, this.data, true);
        w.setUint32(ctx + 4, this.dataEnd, true);
        w.setUint32(ctx + 8, this.dataMeta, true);
      },
    };
    packet.sync();
    return {
      ctx,
      packet,
      get ldAbs() {
        return { start: packet.data, length: packet.dataEnd - packet.data };
      },
      // the kernel returns the metadata in front of the packet
      dataOut: () => mem.bytes.slice(packet.dataMeta, packet.dataEnd),
      ctxOut: () => {
        const out = new Uint8Array(XDP_MD_SIZE);
        const o = new DataView(out.buffer);
        o.setUint32(0, packet.data - packet.dataMeta, true);
        o.setUint32(4, packet.dataEnd - packet.dataMeta, true);
        o.setUint32(12, view().getUint32(ctx + 12, true), true);
        o.setUint32(16, view().getUint32(ctx + 16, true), true);
        return out;
      },
    };
  }
}
