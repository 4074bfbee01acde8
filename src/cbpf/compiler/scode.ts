/**
 * The leaves of an expression: a name, a number, an address or network with its qualifiers
 * (libpcap's gen_scode / gen_ncode / gen_mcode / gen_mcode6 / gen_ecode).
 */

import { type Block, genOr } from "./blocks.js";
import { IPPROTO, ISO, PROTO_UNDEF, Q, type Qual } from "./constants.js";
import { genHost, genHost6, genMacHost } from "./hosts.js";
import { atoin } from "./names.js";
import { genPortBoth, genPortrangeBoth, genProto, genProtochain } from "./proto.js";
import { bpfError, type CompilerState, DLT, is80211, OFFSET_NOT_SET } from "./state.js";

const syntax = (): never => bpfError("syntax error in filter expression");

/** A dotted prefix of `bits` bits moved to the top of the word (libpcap's "promote short ipaddr"). */
const promote = (v: number, bits: number): number => (bits >= 32 ? v >>> 0 : bits <= 0 ? 0 : (v << (32 - bits)) >>> 0);

function lookupProto(cs: CompilerState, name: string, proto: number): number {
  switch (proto) {
    case Q.DEFAULT:
    case Q.IP:
    case Q.IPV6: {
      const v = cs.names.protocol(name);
      if (v === PROTO_UNDEF) bpfError(`unknown ip proto '${name}'`);
      return v;
    }
    case Q.LINK: {
      let v = cs.names.etherProto(name);
      if (v === PROTO_UNDEF) {
        v = cs.names.llcProto(name);
        if (v === PROTO_UNDEF) bpfError(`unknown ether proto '${name}'`);
      }
      return v;
    }
    case Q.ISO:
      if (name === "esis") return ISO.ESIS;
      if (name === "isis") return ISO.ISIS;
      if (name === "clnp") return ISO.CLNP;
      return bpfError(`unknown osi proto '${name}'`);
    default:
      return PROTO_UNDEF;
  }
}

/** Narrow an unqualified port protocol to the one the qualifier names, as libpcap checks it. */
function portProto(proto: number, realProto: number, name: string, what: string): number {
  const names: Record<number, string> = { [IPPROTO.TCP]: "tcp", [IPPROTO.UDP]: "udp", [IPPROTO.SCTP]: "sctp" };
  const want = proto === Q.UDP ? IPPROTO.UDP : proto === Q.TCP ? IPPROTO.TCP : proto === Q.SCTP ? IPPROTO.SCTP : 0;
  if (!want) return realProto;
  if (realProto !== PROTO_UNDEF && realProto !== want) bpfError(`${what} '${name}' is ${names[realProto]}`);
  return want;
}

function checkPort(p: number): void {
  if (p < 0) bpfError(`illegal port number ${p} < 0`);
  if (p > 65535) bpfError(`illegal port number ${p} > 65535`);
}

export function genScode(cs: CompilerState, name: string, q: Qual): Block {
  const { proto, dir } = q;
  switch (q.addr) {
    case Q.NET: {
      let addr = cs.names.network(name);
      if (addr === 0) bpfError(`unknown network '${name}'`);
      let mask = 0xffffffff;
      while (addr && (addr & 0xff000000) === 0) {
        addr = (addr << 8) >>> 0;
        mask = (mask << 8) >>> 0;
      }
      return genHost(cs, addr, mask, proto, dir, q.addr);
    }
    case Q.DEFAULT:
    case Q.HOST: {
      if (proto === Q.LINK) {
        const eaddr = cs.names.ether(name);
        const where = cs.linktype === DLT.EN10MB ? "ether" : is80211(cs.linktype) ? "802.11" : undefined;
        if (where && !eaddr) bpfError(`unknown ${where} host '${name}'`);
        return genMacHost(
          cs,
          eaddr ?? new Uint8Array(6),
          dir,
          "only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name",
        );
      }
      if (proto === Q.DECNET) bpfError(`decnet name support not included, '${name}' cannot be translated\n`);
      const res = cs.names.hostAddresses(name);
      if (!res) bpfError(`unknown host '${name}'`);
      let tproto = proto;
      let tproto6 = proto;
      if (cs.offLinktype.constantPart === OFFSET_NOT_SET && tproto === Q.DEFAULT) {
        tproto = Q.IP;
        tproto6 = Q.IPV6;
      }
      let b: Block | null = null;
      const ones = new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
      for (const a of res) {
        let tmp: Block;
        if (a.family === 4) {
          if (tproto === Q.IPV6) continue;
          tmp = genHost(cs, a.words[0], 0xffffffff, tproto, dir, q.addr);
        } else {
          if (tproto6 === Q.IP) continue;
          tmp = genHost6(cs, Uint32Array.from(a.words), ones, tproto6, dir, q.addr);
        }
        if (b) genOr(b, tmp);
        b = tmp;
      }
      if (!b) bpfError(`unknown host '${name}'${proto === Q.DEFAULT ? "" : " for specified address family"}`);
      return b;
    }
    case Q.PORT: {
      if (proto !== Q.DEFAULT && proto !== Q.UDP && proto !== Q.TCP && proto !== Q.SCTP) bpfError("illegal qualifier of 'port'");
      const r = cs.names.port(name);
      if (!r) bpfError(`unknown port '${name}'`);
      const real = portProto(proto, r[1], name, "port");
      checkPort(r[0]);
      return genPortBoth(cs, r[0], real, dir);
    }
    case Q.PORTRANGE: {
      if (proto !== Q.DEFAULT && proto !== Q.UDP && proto !== Q.TCP && proto !== Q.SCTP) bpfError("illegal qualifier of 'portrange'");
      const r = cs.names.portRange(name);
      if (!r) bpfError(`unknown port in range '${name}'`);
      const real = portProto(proto, r[2], name, "port in range");
      checkPort(r[0]);
      checkPort(r[1]);
      return genPortrangeBoth(cs, r[0], r[1], real, dir);
    }
    case Q.GATEWAY:
      return bpfError("'gateway' not supported in this configuration");
    case Q.PROTO: {
      const real = lookupProto(cs, name, proto);
      if (real >= 0) return genProto(cs, real, proto, dir);
      return bpfError(`unknown protocol: ${name}`);
    }
    case Q.PROTOCHAIN: {
      const real = lookupProto(cs, name, proto);
      if (real >= 0) return genProtochain(cs, real, proto, dir);
      return bpfError(`unknown protocol: ${name}`);
    }
    default:
      return syntax();
  }
}

/** `net A.B.C.D/len` and `net A.B.C.D mask M.M.M.M`. */
export function genMcode(cs: CompilerState, s1: string, s2: string | null, masklen: number, q: Qual): Block {
  const a = atoin(s1);
  if (!a) bpfError(`invalid IPv4 address '${s1}'`);
  const n = promote(a[0], a[1]);
  let m: number;
  if (s2 !== null) {
    const b = atoin(s2);
    if (!b) bpfError(`invalid IPv4 address '${s2}'`);
    m = promote(b[0], b[1]);
    if ((n & ~m) !== 0) bpfError(`non-network bits set in "${s1} mask ${s2}"`);
  } else {
    if (masklen > 32) bpfError("mask length must be <= 32");
    m = promote(0xffffffff, masklen);
    if ((n & ~m) !== 0) bpfError(`non-network bits set in "${s1}/${masklen}"`);
  }
  if (q.addr === Q.NET) return genHost(cs, n, m, q.proto, q.dir, q.addr);
  bpfError("Mask syntax for networks only");
}

/**
 * libpcap's __pcap_atodn: `sscanf(s, "%d.%d", &area, &node)`, so "1.2.3.4" is area 1, node 2 (what follows is
 * ignored); the address is (area << 10) & 0xfc00 | node & 0x3ff. %d past a long saturates, then keeps the low
 * 32 bits of the int — only the low 6 bits of the area and 10 of the node survive the masks either way.
 */
function atodn(s: string): number {
  const m = /^\s*([+-]?\d+)\.\s*([+-]?\d+)/.exec(s);
  if (!m) bpfError(`malformed decnet address '${s}'`);
  const int = (digits: string): number => {
    const max = 2n ** 63n - 1n;
    let n = BigInt(digits);
    if (n > max) n = max;
    if (n < -max - 1n) n = -max - 1n;
    return Number(BigInt.asIntN(32, n));
  };
  return (((int(m[1] as string) << 10) & 0xfc00) | (int(m[2] as string) & 0x3ff)) >>> 0;
}

/** A number or dotted address with no mask (`s` null for a plain number). */
export function genNcode(cs: CompilerState, s: string | null, value: number, q: Qual): Block {
  let { proto } = q;
  const { dir } = q;
  let v = value >>> 0;
  let vlen = 32;
  if (s !== null) {
    if (proto === Q.DECNET) {
      v = atodn(s);
      vlen = 32;
    } else {
      const a = atoin(s);
      if (!a) bpfError(`invalid IPv4 address '${s}'`);
      [v, vlen] = a;
    }
  }
  switch (q.addr) {
    case Q.DEFAULT:
    case Q.HOST:
    case Q.NET: {
      if (proto === Q.DECNET) return genHost(cs, v, 0, proto, dir, q.addr);
      if (proto === Q.LINK) bpfError("illegal link layer address");
      let mask = 0xffffffff;
      if (s === null && q.addr === Q.NET) {
        while (v && (v & 0xff000000) === 0) {
          v = (v << 8) >>> 0;
          mask = (mask << 8) >>> 0;
        }
      } else if (vlen < 32) {
        v = promote(v, vlen);
        mask = promote(mask, vlen);
      }
      return genHost(cs, v, mask, proto, dir, q.addr);
    }
    case Q.PORT:
    case Q.PORTRANGE: {
      const what = q.addr === Q.PORT ? "port" : "portrange";
      if (proto === Q.UDP) proto = IPPROTO.UDP;
      else if (proto === Q.TCP) proto = IPPROTO.TCP;
      else if (proto === Q.SCTP) proto = IPPROTO.SCTP;
      else if (proto === Q.DEFAULT) proto = PROTO_UNDEF;
      else bpfError(`illegal qualifier of '${what}'`);
      if (v > 65535) bpfError(`illegal port number ${v} > 65535`);
      return q.addr === Q.PORT ? genPortBoth(cs, v, proto, dir) : genPortrangeBoth(cs, v, v, proto, dir);
    }
    case Q.GATEWAY:
      return bpfError("'gateway' requires a name");
    case Q.PROTO:
      return genProto(cs, v, proto, dir);
    case Q.PROTOCHAIN:
      return genProtochain(cs, v, proto, dir);
    default:
      return syntax();
  }
}

/** An IPv6 address with an optional prefix length. */
export function genMcode6(cs: CompilerState, s1: string, masklen: number, q: Qual): Block {
  const res = cs.names.hostAddresses(s1);
  if (!res) bpfError(`invalid ip6 address ${s1}`);
  if (res.length > 1) bpfError(`${s1} resolved to multiple address`);
  const addr = Uint32Array.from(res[0].words);
  if (masklen > 128) bpfError("mask length must be <= 128");
  const mask = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, masklen - 32 * i));
    mask[i] = promote(0xffffffff, bits);
  }
  if (addr.some((w, i) => (w & ~mask[i]) !== 0)) bpfError(`non-network bits set in "${s1}/${masklen}"`);
  switch (q.addr) {
    case Q.DEFAULT:
    case Q.HOST:
      if (masklen !== 128) bpfError("Mask syntax for networks only");
      return genHost6(cs, addr, mask, q.proto, q.dir, q.addr);
    case Q.NET:
      return genHost6(cs, addr, mask, q.proto, q.dir, q.addr);
    default:
      return bpfError("invalid qualifier against IPv6 address");
  }
}

/** A MAC address. */
export function genEcode(cs: CompilerState, eaddr: Uint8Array, q: Qual): Block {
  if ((q.addr === Q.HOST || q.addr === Q.DEFAULT) && q.proto === Q.LINK)
    return genMacHost(cs, eaddr, q.dir, "ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel");
  bpfError("ethernet address used in non-ether expression");
}
