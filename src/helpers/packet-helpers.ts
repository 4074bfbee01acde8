/**
 * Helpers over the packet of an skb or xdp program: loading and storing bytes, checksum fix-ups, growing and
 * shrinking the packet, redirects (recorded and reported with the result), and the skb metadata helpers.
 * Offsets are relative to the packet data, as in the kernel.
 */

import type { HelperCall } from "../exec/state.js";
import { E2BIG, EACCES, EFAULT, EINVAL, ENOENT, ENOMEM, ENOTSUPP } from "../maps/map.js";
import { csumAdd, csumFold, csumPartial, csumReplace, csumSub } from "./checksum.js";
import { arg, arg64, checkRange, type HelperImpl, type HelperRuntime, mapArg, type PacketState, ret } from "./runtime.js";

const ETH_HLEN = 14;
/** struct xdp_frame sits at the start of an XDP buffer's headroom: data cannot move into it. */
const XDP_FRAME_SIZE = 40;
const XDP_REDIRECT = 4;
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;
const BPF_F_INGRESS = 1;
const BPF_F_PSEUDO_HDR = 0x10;
const BPF_F_MARK_MANGLED_0 = 0x20;
const BPF_F_MARK_ENFORCE = 0x40;

function packet(rt: HelperRuntime): PacketState {
  const p = rt.packet();
  if (!p) throw new Error("this program has no packet");
  return p;
}

const len = (p: PacketState): number => p.dataEnd - p.data;

/** The checksum helpers' from/to values are in network byte order as the program holds them (loaded LE). */
function l3l4Replace(call: HelperCall, rt: HelperRuntime, l4: boolean): void {
  const p = packet(rt);
  const offset = arg(call, 2);
  const from = Number(arg64(call, 3) & 0xffffffffn);
  const to = Number(arg64(call, 4) & 0xffffffffn);
  const flags = Number(arg64(call, 5));
  const size = flags & 0xf;
  if (flags & ~(0xf | (l4 ? BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE : 0))) return ret(call, -EINVAL);
  if (offset > 0xffff || offset + 2 > len(p)) return ret(call, -EFAULT);
  const at = p.data + offset;
  const view = rt.memory.view;
  const check = view.getUint16(at, true); // as stored, byte-swapped like the values the program passes
  if (l4 && flags & BPF_F_MARK_MANGLED_0 && check === 0) return ret(call, 0);
  let next: number;
  if (size === 0)
    next = csumFold(csumAdd(~check & 0xffff, to)); // `to` is a diff (from csum_diff)
  else if (size === 2) next = csumReplace(check, from & 0xffff, to & 0xffff);
  else if (size === 4) next = csumReplace(check, from, to);
  else return ret(call, -EINVAL);
  if (l4 && flags & BPF_F_MARK_MANGLED_0 && next === 0) next = 0xffff;
  view.setUint16(at, next, true);
  ret(call, 0);
}

export const PACKET_HELPERS: ReadonlyMap<number, HelperImpl> = new Map<number, HelperImpl>([
  [
    9, // skb_store_bytes(skb, offset, from, len, flags)
    (call, rt) => {
      const p = packet(rt);
      const [offset, from, n] = [arg(call, 2), arg(call, 3), arg(call, 4)];
      if (arg64(call, 5) & ~3n) return ret(call, -EINVAL);
      checkRange(call, 9, from, n, false, "the bytes to store");
      if (offset > 0xffff || offset + n > len(p)) return ret(call, -EFAULT);
      rt.memory.bytes.copyWithin(p.data + offset, from, from + n);
      ret(call, 0);
    },
  ],
  [10, (call, rt) => l3l4Replace(call, rt, false)], // l3_csum_replace
  [11, (call, rt) => l3l4Replace(call, rt, true)], // l4_csum_replace
  [
    13, // clone_redirect(skb, ifindex, flags): the clone goes out; the program goes on
    (call, rt) => {
      if (arg64(call, 3) & ~BigInt(BPF_F_INGRESS)) return ret(call, -EINVAL);
      rt.redirect({ ifindex: arg(call, 2), flags: Number(arg64(call, 3)) });
      ret(call, 0);
    },
  ],
  [17, (call) => ret(call, 0)], // get_cgroup_classid: no net_cls cgroup
  [
    18, // skb_vlan_push(skb, proto, tci): the tag goes to the skb's metadata (vlan_present, vlan_tci)
    (call, rt) => {
      const proto = arg(call, 2) & 0xffff;
      if (proto !== 0x0081 && proto !== 0xa888) return ret(call, -EINVAL); // htons(ETH_P_8021Q / 8021AD)
      rt.packet()?.setVlan?.(arg(call, 3) & 0xffff, proto);
      ret(call, 0);
    },
  ],
  [
    19, // skb_vlan_pop
    (call, rt) => {
      rt.packet()?.setVlan?.(undefined, 0);
      ret(call, 0);
    },
  ],
  [
    20, // skb_get_tunnel_key(skb, key, size, flags): no tunnel metadata on a test packet
    (call, rt) => {
      const [key, size] = [arg(call, 2), arg(call, 3)];
      checkRange(call, 20, key, size, true, "the key");
      rt.memory.bytes.fill(0, key, key + size);
      ret(call, -ENOENT);
    },
  ],
  [21, (call) => ret(call, 0)], // skb_set_tunnel_key: the metadata is attached (nothing sends it here)
  [
    26, // skb_load_bytes(skb, offset, to, len)
    (call, rt) => {
      const p = packet(rt);
      const [offset, to, n] = [arg(call, 2), arg(call, 3), arg(call, 4)];
      checkRange(call, 26, to, n, true, "the destination");
      // bpf_flow_dissector_load_bytes reads the skb, and a flow dissector's test run has none
      if (offset > 0xffff || offset + n > len(p) || p.kind === "flow_dissector") {
        rt.memory.bytes.fill(0, to, to + n);
        return ret(call, -EFAULT);
      }
      rt.memory.bytes.copyWithin(to, p.data + offset, p.data + offset + n);
      ret(call, 0);
    },
  ],
  [
    28, // csum_diff(from, from_size, to, to_size, seed)
    (call, rt) => {
      const [from, fromSize, to, toSize] = [arg(call, 1), arg(call, 2), arg(call, 3), arg(call, 4)];
      const seed = Number(arg64(call, 5) & 0xffffffffn);
      if (fromSize % 4 || toSize % 4 || fromSize > 512 || toSize > 512) return ret(call, -EINVAL);
      checkRange(call, 28, from, fromSize, false, "from");
      checkRange(call, 28, to, toSize, false, "to");
      const bytes = rt.memory.bytes;
      const diff = csumSub(csumPartial(bytes, to, toSize, seed), csumPartial(bytes, from, fromSize, 0));
      call.lo[0] = diff | 0;
      call.hi[0] = 0;
    },
  ],
  [29, (call) => ret(call, -ENOENT)], // skb_get_tunnel_opt: no tunnel metadata
  [30, (call) => ret(call, -EINVAL)], // skb_set_tunnel_opt: needs tunnel metadata set first
  [
    32, // skb_change_type(skb, type)
    (call, rt) => {
      const type = arg(call, 2);
      if (type > 3) return ret(call, -EINVAL); // PACKET_OTHERHOST is the last a program may set
      rt.packet()?.setPacketType?.(type);
      ret(call, 0);
    },
  ],
  [
    33, // skb_under_cgroup(skb, map, index): no socket on a test packet
    (call, rt) => {
      const map = mapArg(call, rt, 33, 2);
      const index = arg(call, 3);
      if (index >= map.spec.maxEntries) return ret(call, -E2BIG);
      ret(call, 0);
    },
  ],
  [34, (call) => ret(call, 0)], // get_hash_recalc: no flow dissection of test packets (hash 0)
  [40, (call) => ret(call, -ENOTSUPP)], // csum_update: only for CHECKSUM_COMPLETE skbs
  [41, (call) => ret(call, 0)], // set_hash_invalid
  [
    23, // redirect(ifindex, flags)
    (call, rt) => {
      const xdp = rt.packet()?.kind === "xdp";
      const flags = Number(arg64(call, 2));
      if (xdp ? flags !== 0 : flags & ~BPF_F_INGRESS) return ret(call, xdp ? 0 /* XDP_ABORTED */ : TC_ACT_SHOT);
      rt.redirect({ ifindex: arg(call, 1), flags });
      ret(call, xdp ? XDP_REDIRECT : TC_ACT_REDIRECT);
    },
  ],
  [
    51, // redirect_map(map, key, flags): XDP_REDIRECT, or the flags' low bits when the slot is empty
    (call, rt) => {
      const map = mapArg(call, rt, 51, 1);
      const key = arg(call, 2);
      const flags = Number(arg64(call, 3));
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, key, true);
      const present = map.spec.keySize === 4 && key < map.spec.maxEntries && map.get(k) !== undefined;
      if (!present) return ret(call, flags & 3);
      rt.redirect({ map: map.name, key, flags });
      ret(call, XDP_REDIRECT);
    },
  ],
  [
    39, // skb_pull_data(skb, len): test packets are linear already
    (call, rt) => {
      const p = packet(rt);
      ret(call, arg(call, 2) > len(p) ? -ENOMEM : 0);
    },
  ],
  [38, (call, rt) => changeTail(call, rt)], // skb_change_tail(skb, len, flags)
  [
    43, // skb_change_head(skb, head_room, flags): zeroed room in front of the data
    (call, rt) => {
      const p = packet(rt);
      const room = arg(call, 2);
      if (arg64(call, 3) !== 0n || room > 0xffff) return ret(call, -EINVAL);
      if (p.data - room < p.bufferStart) return ret(call, -ENOMEM);
      p.data -= room;
      p.dataMeta = p.data;
      rt.memory.bytes.fill(0, p.data, p.data + room);
      p.sync();
      ret(call, 0);
    },
  ],
  [
    44, // xdp_adjust_head(xdp, delta)
    (call, rt) => {
      const p = packet(rt);
      const delta = call.lo[2] as number;
      const data = p.data + delta;
      const meta = p.data - p.dataMeta;
      if (data - meta < p.bufferStart + XDP_FRAME_SIZE || data > p.dataEnd - ETH_HLEN) return ret(call, -EINVAL);
      if (meta > 0) rt.memory.bytes.copyWithin(p.dataMeta + delta, p.dataMeta, p.data);
      p.dataMeta += delta;
      p.data = data;
      p.sync();
      ret(call, 0);
    },
  ],
  [
    54, // xdp_adjust_meta(xdp, delta)
    (call, rt) => {
      const p = packet(rt);
      const meta = p.dataMeta + (call.lo[2] as number);
      const metaLen = p.data - meta;
      if (meta < p.bufferStart + XDP_FRAME_SIZE || meta > p.data) return ret(call, -EINVAL);
      if (metaLen & 3 || metaLen > 32) return ret(call, -EACCES);
      p.dataMeta = meta;
      p.sync();
      ret(call, 0);
    },
  ],
  [
    65, // xdp_adjust_tail(xdp, delta)
    (call, rt) => {
      const p = packet(rt);
      const end = p.dataEnd + (call.lo[2] as number);
      if (end > p.bufferEnd || end < p.data + ETH_HLEN) return ret(call, -EINVAL);
      if (end > p.dataEnd) rt.memory.bytes.fill(0, p.dataEnd, end);
      p.dataEnd = end;
      p.sync();
      ret(call, 0);
    },
  ],
  [
    69, // fib_lookup(ctx, params, plen, flags): no route in the machine's (empty) table
    (call, rt) => {
      const [params, plen] = [arg(call, 2), arg(call, 3)];
      if (plen < 64) return ret(call, -EINVAL);
      checkRange(call, 69, params, plen, true, "the parameters");
      ret(call, rt.fibLookup(params, Number(arg64(call, 4))));
    },
  ],
  [46, (call) => ret(call, 0)], // get_socket_cookie: test packets have no socket
  [50, (call, rt) => adjustRoom(call, rt)], // skb_adjust_room(skb, len_diff, mode, flags)
  [31, (call, rt) => changeProto(call, rt)], // skb_change_proto(skb, proto, flags)
]);

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
/** sizeof(struct ipv6hdr) - sizeof(struct iphdr) */
const IP_LEN_DIFF = 20;

/**
 * skb_change_proto between IPv4 and IPv6 (bpf_skb_proto_4_to_6 / 6_to_4): 20 zeroed bytes go in right after
 * the MAC header, or the first 20 bytes after it go; skb->protocol changes. The rest (the new header, the
 * EtherType) is the program's job, as in the kernel.
 */
function changeProto(call: HelperCall, rt: HelperRuntime): void {
  const p = packet(rt);
  if (arg64(call, 3) !== 0n) return ret(call, -EINVAL);
  const raw = arg(call, 2) & 0xffff;
  const to = ((raw & 0xff) << 8) | (raw >> 8); // the program passes it in network order
  const from = p.protocol;
  const bytes = rt.memory.bytes;
  if (from === ETH_P_IP && to === ETH_P_IPV6) {
    if (p.data - IP_LEN_DIFF < p.bufferStart) return ret(call, -ENOMEM);
    p.data -= IP_LEN_DIFF;
    bytes.copyWithin(p.data, p.data + IP_LEN_DIFF, p.data + IP_LEN_DIFF + ETH_HLEN);
    bytes.fill(0, p.data + ETH_HLEN, p.data + ETH_HLEN + IP_LEN_DIFF);
  } else if (from === ETH_P_IPV6 && to === ETH_P_IP) {
    if (len(p) < ETH_HLEN + IP_LEN_DIFF) return ret(call, -ENOMEM);
    bytes.copyWithin(p.data + IP_LEN_DIFF, p.data, p.data + ETH_HLEN);
    p.data += IP_LEN_DIFF;
  } else {
    return ret(call, -ENOTSUPP);
  }
  p.dataMeta = p.data;
  p.setProtocol?.(to);
  p.sync();
  ret(call, 0);
}

/**
 * skb_adjust_room: grows (zeroed bytes) or shrinks the packet at the network layer (after the fixed IPv4/IPv6
 * header, mode BPF_ADJ_ROOM_NET) or right after the MAC header (BPF_ADJ_ROOM_MAC), as the kernel does for
 * IPv4 and IPv6 packets.
 */
function adjustRoom(call: HelperCall, rt: HelperRuntime): void {
  const p = packet(rt);
  const diff = call.lo[2] as number;
  const mode = arg(call, 3);
  if (mode > 1) return ret(call, -ENOTSUPP);
  const bytes = rt.memory.bytes;
  const l2 = p.data; // tc programs see the packet from its MAC header
  const proto = p.protocol ?? rt.memory.view.getUint16(l2 + 12, false); // skb->protocol, as the kernel reads it
  const base = proto === 0x0800 ? 20 : proto === 0x86dd ? 40 : 0;
  if (base === 0) return ret(call, -ENOTSUPP);
  const at = l2 + ETH_HLEN + (mode === 0 ? base : 0);
  const abs = Math.abs(diff);
  if (abs > 0xfff) return ret(call, -EFAULT);
  const l3Len = p.dataEnd - (l2 + ETH_HLEN);
  if (diff < 0 && (abs >= l3Len || l3Len - abs < base)) return ret(call, -ENOTSUPP);
  if (diff > 0) {
    if (p.dataEnd + diff > p.bufferEnd) return ret(call, -ENOMEM);
    bytes.copyWithin(at + diff, at, p.dataEnd);
    bytes.fill(0, at, at + diff);
  } else {
    bytes.copyWithin(at, at + abs, p.dataEnd);
  }
  p.dataEnd += diff;
  p.sync();
  ret(call, 0);
}

function changeTail(call: HelperCall, rt: HelperRuntime): void {
  const p = packet(rt);
  const newLen = arg(call, 2);
  if (arg64(call, 3) !== 0n) return ret(call, -EINVAL);
  if (newLen < ETH_HLEN || p.data + newLen > p.bufferEnd) return ret(call, -EINVAL);
  if (newLen > len(p)) rt.memory.bytes.fill(0, p.dataEnd, p.data + newLen);
  p.dataEnd = p.data + newLen;
  p.sync();
  ret(call, 0);
}
