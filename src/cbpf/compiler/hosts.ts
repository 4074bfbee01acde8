/**
 * Address tests: IPv4/IPv6 hosts and networks (ip, arp, rarp, ip6), DECnet hosts, and MAC addresses on
 * Ethernet and 802.11 (where the address's position depends on the frame type and DS bits).
 */

import * as C from "../insn.js";
import { type Block, genAnd, genNot, genOr, jmp, newBlock } from "./blocks.js";
import { ETHERTYPE, PROTO_QUAL_NAMES, Q } from "./constants.js";
import { genLinktype, genPrevlinkhdrCheck } from "./linktype.js";
import { genBcmp, genCmp, genMcmp, loadA, Off } from "./load.js";
import { bpfError, type CompilerState, DLT } from "./state.js";

function dirError80211(dir: number, plural: string, singular: string): never {
  switch (dir) {
    case Q.ADDR1:
      return bpfError(`'addr1' and 'address1' ${plural}`);
    case Q.ADDR2:
      return bpfError(`'addr2' and 'address2' ${plural}`);
    case Q.ADDR3:
      return bpfError(`'addr3' and 'address3' ${plural}`);
    case Q.ADDR4:
      return bpfError(`'addr4' and 'address4' ${plural}`);
    case Q.RA:
      return bpfError(`'ra' ${singular}`);
    case Q.TA:
      return bpfError(`'ta' ${singular}`);
    default:
      throw new Error(`bad direction ${dir}`);
  }
}

/** src/dst/and/or expansion shared by every address test. */
function byDir(dir: number, one: (d: number) => Block, onError: (d: number) => never): Block {
  switch (dir) {
    case Q.SRC:
    case Q.DST:
      return one(dir);
    case Q.AND: {
      const b0 = one(Q.SRC);
      const b1 = one(Q.DST);
      genAnd(b0, b1);
      return b1;
    }
    case Q.OR:
    case Q.DEFAULT: {
      const b0 = one(Q.SRC);
      const b1 = one(Q.DST);
      genOr(b0, b1);
      return b1;
    }
    default:
      return onError(dir);
  }
}

const notAddrQualifier = (d: number): never =>
  dirError80211(
    d,
    "are not valid qualifiers for addresses other than 802.11 MAC addresses",
    "is not a valid qualifier for addresses other than 802.11 MAC addresses",
  );
const only80211Headers = (d: number): never =>
  dirError80211(d, "are only supported on 802.11 with 802.11 headers", "is only supported on 802.11 with 802.11 headers");

function genHostop(cs: CompilerState, addr: number, mask: number, dir: number, proto: number, srcOff: number, dstOff: number): Block {
  return byDir(
    dir,
    (d) => {
      const b0 = genLinktype(cs, proto);
      const b1 = genMcmp(cs, Off.LINKPL, d === Q.SRC ? srcOff : dstOff, C.W, addr, mask);
      genAnd(b0, b1);
      return b1;
    },
    notAddrQualifier,
  );
}

function genHostop6(
  cs: CompilerState,
  addr: Uint32Array,
  mask: Uint32Array,
  dir: number,
  proto: number,
  srcOff: number,
  dstOff: number,
): Block {
  return byDir(
    dir,
    (d) => {
      const offset = d === Q.SRC ? srcOff : dstOff;
      const b1 = genMcmp(cs, Off.LINKPL, offset + 12, C.W, addr[3], mask[3]);
      let b0 = genMcmp(cs, Off.LINKPL, offset + 8, C.W, addr[2], mask[2]);
      genAnd(b0, b1);
      b0 = genMcmp(cs, Off.LINKPL, offset + 4, C.W, addr[1], mask[1]);
      genAnd(b0, b1);
      b0 = genMcmp(cs, Off.LINKPL, offset, C.W, addr[0], mask[0]);
      genAnd(b0, b1);
      b0 = genLinktype(cs, proto);
      genAnd(b0, b1);
      return b1;
    },
    notAddrQualifier,
  );
}

export function genEhostop(cs: CompilerState, eaddr: Uint8Array, dir: number): Block {
  return byDir(dir, (d) => genBcmp(cs, Off.LINKHDR, d === Q.SRC ? 6 : 0, eaddr), only80211Headers);
}

function jsetLink(cs: CompilerState, offset: number, bits: number, negate: boolean): Block {
  const b = newBlock(jmp(C.JSET), bits);
  b.stmts = loadA(cs, Off.LINKHDR, offset, C.B);
  if (negate) genNot(b);
  return b;
}

const FC0_TYPE_MASK = 0x0c;
const FC0_TYPE_CTL = 0x04;
const FC0_SUBTYPE_MASK = 0xf0;
const FC0_SUBTYPE_CTS = 0xc0;
const FC0_SUBTYPE_ACK = 0xd0;
const FC1_DIR_MASK = 0x03;
const FC1_DIR_DSTODS = 0x03;

/** Not a CTS or ACK control frame (which carry no transmitter address). */
function genNotCtsAck(cs: CompilerState): Block {
  const b0 = genMcmp(cs, Off.LINKHDR, 0, C.B, FC0_TYPE_CTL, FC0_TYPE_MASK);
  genNot(b0);
  const b1 = genMcmp(cs, Off.LINKHDR, 0, C.B, FC0_SUBTYPE_CTS, FC0_SUBTYPE_MASK);
  genNot(b1);
  const b2 = genMcmp(cs, Off.LINKHDR, 0, C.B, FC0_SUBTYPE_ACK, FC0_SUBTYPE_MASK);
  genNot(b2);
  genAnd(b1, b2);
  genOr(b0, b2);
  return b2;
}

/**
 * The data/management-frame address test shared by 802.11 source and destination addresses (and by
 * multicast): `test(off)` checks the address at an offset; data frames put it at `dataOffs` depending on
 * the DS bits, management frames at `mgmtOff`.
 */
export function gen80211AddrTest(cs: CompilerState, dir: number, test: (off: number) => Block): Block {
  let b0: Block;
  let b1: Block;
  let b2: Block;
  if (dir === Q.SRC) {
    b1 = jsetLink(cs, 1, 0x01, false);
    b0 = test(24);
    genAnd(b1, b0);
    b2 = jsetLink(cs, 1, 0x01, true);
    b1 = test(16);
    genAnd(b2, b1);
    genOr(b1, b0);
    b1 = jsetLink(cs, 1, 0x02, false);
    genAnd(b1, b0);
    b2 = jsetLink(cs, 1, 0x02, true);
    b1 = test(10);
    genAnd(b2, b1);
    genOr(b1, b0);
  } else {
    b1 = jsetLink(cs, 1, 0x01, false);
    b0 = test(16);
    genAnd(b1, b0);
    b2 = jsetLink(cs, 1, 0x01, true);
    b1 = test(4);
    genAnd(b2, b1);
    genOr(b1, b0);
  }
  b1 = jsetLink(cs, 0, 0x08, false);
  genAnd(b1, b0);
  b2 = jsetLink(cs, 0, 0x08, true);
  b1 = test(dir === Q.SRC ? 10 : 4);
  genAnd(b2, b1);
  genOr(b1, b0);
  b1 = jsetLink(cs, 0, 0x04, true);
  genAnd(b1, b0);
  return b0;
}

export function genWlanhostop(cs: CompilerState, eaddr: Uint8Array, dir: number): Block {
  const at = (off: number): Block => genBcmp(cs, Off.LINKHDR, off, eaddr);
  switch (dir) {
    case Q.SRC:
    case Q.DST:
      return gen80211AddrTest(cs, dir, at);
    case Q.RA: {
      const b1 = jsetLink(cs, 0, 0x08, false);
      const b0 = at(4);
      genAnd(b1, b0);
      return b0;
    }
    case Q.TA: {
      const b2 = genNotCtsAck(cs);
      let b1 = jsetLink(cs, 0, 0x08, false);
      genAnd(b1, b2);
      b1 = at(10);
      genAnd(b2, b1);
      return b1;
    }
    case Q.ADDR1:
      return at(4);
    case Q.ADDR2: {
      const b2 = genNotCtsAck(cs);
      const b1 = at(10);
      genAnd(b2, b1);
      return b1;
    }
    case Q.ADDR3: {
      const b0 = genMcmp(cs, Off.LINKHDR, 0, C.B, FC0_TYPE_CTL, FC0_TYPE_MASK);
      genNot(b0);
      const b1 = at(16);
      genAnd(b0, b1);
      return b1;
    }
    case Q.ADDR4: {
      const b0 = genMcmp(cs, Off.LINKHDR, 1, C.B, FC1_DIR_DSTODS, FC1_DIR_MASK);
      const b1 = at(24);
      genAnd(b0, b1);
      return b1;
    }
    default:
      return byDir(dir, (d) => genWlanhostop(cs, eaddr, d), only80211Headers);
  }
}

function genDnhostop(cs: CompilerState, addr: number, dir: number): Block {
  return byDir(
    dir,
    (d) => {
      const offsetSh = d === Q.DST ? 1 : 3;
      const offsetLh = d === Q.DST ? 7 : 15;
      const a = ((addr & 0xff) << 8) | ((addr >> 8) & 0xff);
      const b0 = genLinktype(cs, ETHERTYPE.DN);
      let tmp = genMcmp(cs, Off.LINKPL, 2, C.H, 0x8106, 0xff07);
      const b1 = genCmp(cs, Off.LINKPL, 2 + 1 + offsetLh, C.H, a);
      genAnd(tmp, b1);
      tmp = genMcmp(cs, Off.LINKPL, 2, C.B, 0x06, 0x7);
      let b2 = genCmp(cs, Off.LINKPL, 2 + offsetLh, C.H, a);
      genAnd(tmp, b2);
      genOr(b2, b1);
      tmp = genMcmp(cs, Off.LINKPL, 2, C.H, 0x8102, 0xff07);
      b2 = genCmp(cs, Off.LINKPL, 2 + 1 + offsetSh, C.H, a);
      genAnd(tmp, b2);
      genOr(b2, b1);
      tmp = genMcmp(cs, Off.LINKPL, 2, C.B, 0x02, 0x7);
      b2 = genCmp(cs, Off.LINKPL, 2 + offsetSh, C.H, a);
      genAnd(tmp, b2);
      genOr(b2, b1);
      genAnd(b0, b1);
      return b1;
    },
    (d) => {
      if (d === Q.ISO) bpfError("ISO host filtering not implemented");
      throw new Error(`bad direction ${d}`);
    },
  );
}

const NOT_IMPLEMENTED: Record<number, string> = {
  [Q.ATALK]: "ATALK",
  [Q.AARP]: "AARP",
  [Q.SCA]: "SCA",
  [Q.LAT]: "LAT",
  [Q.MOPDL]: "MOPDL",
  [Q.MOPRC]: "MOPRC",
  [Q.ISO]: "ISO",
  [Q.IPX]: "IPX",
};

/** Qualifiers with their own "modifier applied" message (the others are "not implemented"). */
const MODIFIER_ERRORS = new Set<number>([
  Q.TCP,
  Q.SCTP,
  Q.UDP,
  Q.ICMP,
  Q.IGMP,
  Q.IGRP,
  Q.PIM,
  Q.VRRP,
  Q.CARP,
  Q.ICMPV6,
  Q.AH,
  Q.ESP,
  Q.ESIS,
  Q.ISIS,
  Q.CLNP,
  Q.STP,
  Q.NETBEUI,
  Q.RADIO,
]);

function hostProtoError(proto: number, typestr: string): never {
  const name = MODIFIER_ERRORS.has(proto) ? PROTO_QUAL_NAMES[proto] : undefined;
  if (name) bpfError(`'${name}' modifier applied to ${typestr}`);
  const ni = NOT_IMPLEMENTED[proto];
  if (ni) bpfError(`${ni} host filtering not implemented`);
  throw new Error(`bad protocol qualifier ${proto}`);
}

export function genHost(cs: CompilerState, addr: number, mask: number, proto: number, dir: number, type: number): Block {
  const typestr = type === Q.NET ? "net" : "host";
  switch (proto) {
    case Q.DEFAULT: {
      let b0 = genHost(cs, addr, mask, Q.IP, dir, type);
      if (cs.labelStackDepth === 0) {
        const b1 = genHost(cs, addr, mask, Q.ARP, dir, type);
        genOr(b0, b1);
        b0 = genHost(cs, addr, mask, Q.RARP, dir, type);
        genOr(b1, b0);
      }
      return b0;
    }
    case Q.LINK:
      return bpfError(`link-layer modifier applied to ${typestr}`);
    case Q.IP:
      return genHostop(cs, addr, mask, dir, ETHERTYPE.IP, 12, 16);
    case Q.RARP:
      return genHostop(cs, addr, mask, dir, ETHERTYPE.REVARP, 14, 24);
    case Q.ARP:
      return genHostop(cs, addr, mask, dir, ETHERTYPE.ARP, 14, 24);
    case Q.DECNET:
      return genDnhostop(cs, addr, dir);
    case Q.IPV6:
      return bpfError("'ip6' modifier applied to ip host");
    default:
      return hostProtoError(proto, typestr);
  }
}

export function genHost6(cs: CompilerState, addr: Uint32Array, mask: Uint32Array, proto: number, dir: number, type: number): Block {
  const typestr = type === Q.NET ? "net" : "host";
  switch (proto) {
    case Q.DEFAULT:
    case Q.IPV6:
      return genHostop6(cs, addr, mask, dir, ETHERTYPE.IPV6, 8, 24);
    case Q.LINK:
      return bpfError(`link-layer modifier applied to ip6 ${typestr}`);
    case Q.IP:
      return bpfError(`'ip' modifier applied to ip6 ${typestr}`);
    case Q.RARP:
      return bpfError(`'rarp' modifier applied to ip6 ${typestr}`);
    case Q.ARP:
      return bpfError(`'arp' modifier applied to ip6 ${typestr}`);
    case Q.DECNET:
      return bpfError(`'decnet' modifier applied to ip6 ${typestr}`);
    default:
      return hostProtoError(proto, typestr);
  }
}

/** A MAC-address test on whichever link type carries MAC addresses (gen_ecode's dispatch). */
export function genMacHost(cs: CompilerState, eaddr: Uint8Array, dir: number, what: string): Block {
  switch (cs.linktype) {
    case DLT.EN10MB: {
      const tmp = genPrevlinkhdrCheck(cs);
      const b = genEhostop(cs, eaddr, dir);
      if (tmp) genAnd(tmp, b);
      return b;
    }
    case DLT.IEEE802_11:
    case DLT.PRISM_HEADER:
    case DLT.IEEE802_11_RADIO_AVS:
    case DLT.IEEE802_11_RADIO:
    case DLT.PPI:
      return genWlanhostop(cs, eaddr, dir);
    default:
      return bpfError(what);
  }
}
