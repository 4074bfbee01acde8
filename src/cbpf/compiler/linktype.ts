/**
 * "Is this packet of protocol P": the link-layer type test for every supported link type (Ethernet with its
 * 802.3/802.2/SNAP variants, Linux cooked v1/v2, loopback, raw IP, 802.11, SunATM, pflog), as libpcap's
 * gen_linktype and helpers generate it.
 */

import * as C from "../insn.js";
import { type Block, genAnd, genNot, genOr, jmp, newBlock } from "./blocks.js";
import { ETHERMTU, ETHERTYPE, LINUX_SLL_P_802_2, LINUX_SLL_P_802_3, LLCSAP, PPP, Q } from "./constants.js";
import { genBcmp, genCmp, genCmpGt, genFalse, genMcmp, genNcmp, genTrue, loadA, Off } from "./load.js";
import { bpfError, type CompilerState, DLT, dltDescription, OFFSET_NOT_SET } from "./state.js";

const AF_INET = 2;
const AF_INET6_LINUX = 10;
const BSD_AFNUM_INET6 = [24, 28, 30];

export function genSnap(cs: CompilerState, orgcode: number, ptype: number): Block {
  const bytes = Uint8Array.of(
    LLCSAP.SNAP,
    LLCSAP.SNAP,
    0x03,
    (orgcode >> 16) & 0xff,
    (orgcode >> 8) & 0xff,
    orgcode & 0xff,
    (ptype >> 8) & 0xff,
    ptype & 0xff,
  );
  return genBcmp(cs, Off.LLC, 0, bytes);
}

/** An 802.3 frame: the type/length field is a length (<= 1500). */
export function gen8023(cs: CompilerState): Block {
  const b = genCmpGt(cs, Off.LINKTYPE, 0, C.H, ETHERMTU);
  genNot(b);
  return b;
}

function genEtherLinktype(cs: CompilerState, proto: number): Block {
  switch (proto) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI: {
      const b0 = gen8023(cs);
      const b1 = genCmp(cs, Off.LLC, 0, C.H, (proto << 8) | proto);
      genAnd(b0, b1);
      return b1;
    }
    case LLCSAP.IPX: {
      let b0 = genCmp(cs, Off.LLC, 0, C.B, LLCSAP.IPX);
      const b1 = genCmp(cs, Off.LLC, 0, C.H, 0xffff);
      genOr(b0, b1);
      b0 = genSnap(cs, 0x000000, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = gen8023(cs);
      genAnd(b0, b1);
      b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    }
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP: {
      let b0 = gen8023(cs);
      const b1 = proto === ETHERTYPE.ATALK ? genSnap(cs, 0x080007, ETHERTYPE.ATALK) : genSnap(cs, 0x000000, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, proto);
      genOr(b0, b1);
      return b1;
    }
    default:
      if (proto <= ETHERMTU) {
        const b0 = gen8023(cs);
        const b1 = genCmp(cs, Off.LINKTYPE, 2, C.B, proto);
        genAnd(b0, b1);
        return b1;
      }
      return genCmp(cs, Off.LINKTYPE, 0, C.H, proto);
  }
}

function genLinuxSllLinktype(cs: CompilerState, proto: number): Block {
  switch (proto) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI: {
      const b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, LINUX_SLL_P_802_2);
      const b1 = genCmp(cs, Off.LLC, 0, C.H, (proto << 8) | proto);
      genAnd(b0, b1);
      return b1;
    }
    case LLCSAP.IPX: {
      let b0 = genCmp(cs, Off.LLC, 0, C.B, LLCSAP.IPX);
      const b1 = genSnap(cs, 0x000000, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, LINUX_SLL_P_802_2);
      genAnd(b0, b1);
      b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, LINUX_SLL_P_802_3);
      genOr(b0, b1);
      b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    }
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP: {
      let b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, LINUX_SLL_P_802_2);
      const b1 = proto === ETHERTYPE.ATALK ? genSnap(cs, 0x080007, ETHERTYPE.ATALK) : genSnap(cs, 0x000000, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, proto);
      genOr(b0, b1);
      return b1;
    }
    default:
      if (proto <= ETHERMTU) {
        const b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, LINUX_SLL_P_802_2);
        const b1 = genCmp(cs, Off.LINKHDR, cs.offLinkpl.constantPart, C.B, proto);
        genAnd(b0, b1);
        return b1;
      }
      return genCmp(cs, Off.LINKTYPE, 0, C.H, proto);
  }
}

function genLoopbackLinktype(cs: CompilerState, proto: number): Block {
  let v = proto >>> 0;
  if (cs.linktype === DLT.NULL || cs.linktype === DLT.ENC) {
    // The AF_ value is in the capturing host's byte order; BPF loads it big-endian.
    if (!cs.swapped) v = swap32(v);
  }
  return genCmp(cs, Off.LINKHDR, 0, C.W, v);
}

export const swap32 = (y: number): number => (((y & 0xff) << 24) | ((y & 0xff00) << 8) | ((y >>> 8) & 0xff00) | ((y >>> 24) & 0xff)) >>> 0;

export function genLlcLinktype(cs: CompilerState, proto: number): Block {
  switch (proto) {
    case LLCSAP.IP:
    case LLCSAP.ISONS:
    case LLCSAP.NETBEUI:
      return genCmp(cs, Off.LLC, 0, C.H, (proto << 8) | proto);
    case LLCSAP.IPX:
      return genCmp(cs, Off.LLC, 0, C.B, LLCSAP.IPX);
    case ETHERTYPE.ATALK:
      return genSnap(cs, 0x080007, ETHERTYPE.ATALK);
    default:
      if (proto <= ETHERMTU) return genCmp(cs, Off.LLC, 0, C.B, proto);
      return genCmp(cs, Off.LLC, 6, C.H, proto);
  }
}

/** A data frame: frame-control bit 0x08 set and 0x04 clear. */
export function genCheck80211DataFrame(cs: CompilerState): Block {
  const b0 = newBlock(jmp(C.JSET), 0x08);
  b0.stmts = loadA(cs, Off.LINKHDR, 0, C.B);
  const b1 = newBlock(jmp(C.JSET), 0x04);
  b1.stmts = loadA(cs, Off.LINKHDR, 0, C.B);
  genNot(b1);
  genAnd(b1, b0);
  return b0;
}

/** Tests needed when the link header is encapsulated in another (LANE over SunATM, Geneve). */
export function genPrevlinkhdrCheck(cs: CompilerState): Block | null {
  if (cs.isGeneve) return genGeneveLlCheck(cs);
  if (cs.prevlinktype === DLT.SUNATM) {
    const b0 = genCmp(cs, Off.PREVLINKHDR, 4, C.H, 0xff00);
    genNot(b0);
    return b0;
  }
  return null;
}

function genGeneveLlCheck(cs: CompilerState): Block {
  const b0 = newBlock(C.JMP | C.JEQ | C.X);
  b0.stmts = { s: { code: C.LD | C.MEM, k: cs.offLinkhdr.reg, jt: null, jf: null }, next: null };
  b0.stmts.next = { s: { code: C.LDX | C.MEM, k: cs.offLinkpl.reg, jt: null, jf: null }, next: null };
  genNot(b0);
  return b0;
}

function genMplsLinktype(cs: CompilerState, proto: number): Block {
  const b0 = genMcmp(cs, Off.LINKPL, -2, C.B, 0x01, 0x01);
  const b1 = genMcmp(cs, Off.LINKPL, 0, C.B, proto === Q.IP ? 0x40 : 0x60, 0xf0);
  genAnd(b0, b1);
  return b1;
}

export const A_PROTOTYPE = 2;
export const PT_LLC = 0x02;

export function genAtmPrototype(cs: CompilerState, value: number): Block {
  return genNcmp(cs, Off.LINKHDR, cs.offProto, C.B, 0x0f, C.JEQ, false, value);
}

function ethertypeToPpptype(proto: number): number {
  switch (proto) {
    case ETHERTYPE.IP:
      return PPP.IP;
    case ETHERTYPE.IPV6:
      return PPP.IPV6;
    case ETHERTYPE.DN:
      return PPP.DECNET;
    case ETHERTYPE.ATALK:
      return PPP.APPLE;
    case ETHERTYPE.NS:
      return PPP.NS;
    case LLCSAP.ISONS:
      return PPP.OSI;
    case LLCSAP.STP_8021D:
      return PPP.BRPDU;
    case LLCSAP.IPX:
      return PPP.IPX;
    default:
      return proto;
  }
}

export function genLinktype(cs: CompilerState, proto: number): Block {
  if (cs.labelStackDepth > 0) {
    switch (proto) {
      case ETHERTYPE.IP:
      case PPP.IP:
        return genMplsLinktype(cs, Q.IP);
      case ETHERTYPE.IPV6:
      case PPP.IPV6:
        return genMplsLinktype(cs, Q.IPV6);
      default:
        return bpfError("unsupported protocol over mpls");
    }
  }
  switch (cs.linktype) {
    case DLT.EN10MB: {
      const b0 = cs.isGeneve ? null : genPrevlinkhdrCheck(cs);
      const b1 = genEtherLinktype(cs, proto);
      if (b0) genAnd(b0, b1);
      return b1;
    }
    case DLT.C_HDLC:
      return genCmp(cs, Off.LINKTYPE, 0, C.H, proto === LLCSAP.ISONS ? (proto << 8) | LLCSAP.ISONS : proto);
    case DLT.IEEE802_11:
    case DLT.PRISM_HEADER:
    case DLT.IEEE802_11_RADIO_AVS:
    case DLT.IEEE802_11_RADIO:
    case DLT.PPI: {
      const b0 = genCheck80211DataFrame(cs);
      const b1 = genLlcLinktype(cs, proto);
      genAnd(b0, b1);
      return b1;
    }
    case DLT.FDDI:
    case DLT.IEEE802:
    case DLT.ATM_RFC1483:
    case DLT.ATM_CLIP:
    case DLT.IP_OVER_FC:
      return genLlcLinktype(cs, proto);
    case DLT.SUNATM: {
      const b0 = genAtmPrototype(cs, PT_LLC);
      const b1 = genLlcLinktype(cs, proto);
      genAnd(b0, b1);
      return b1;
    }
    case DLT.LINUX_SLL:
      // (libpcap 1.10 gives Linux cooked v2 no 802.2 special cases: it compares the protocol field as is)
      return genLinuxSllLinktype(cs, proto);
    case DLT.SLIP:
    case DLT.SLIP_BSDOS:
    case DLT.RAW:
      if (proto === ETHERTYPE.IP) return genMcmp(cs, Off.LINKHDR, 0, C.B, 0x40, 0xf0);
      if (proto === ETHERTYPE.IPV6) return genMcmp(cs, Off.LINKHDR, 0, C.B, 0x60, 0xf0);
      return genFalse();
    case DLT.IPV4:
      return proto === ETHERTYPE.IP ? genTrue() : genFalse();
    case DLT.IPV6:
      return proto === ETHERTYPE.IPV6 ? genTrue() : genFalse();
    case DLT.PPP:
    case DLT.PPP_PPPD:
    case DLT.PPP_SERIAL:
    case DLT.PPP_ETHER:
      return genCmp(cs, Off.LINKTYPE, 0, C.H, ethertypeToPpptype(proto));
    case DLT.PPP_BSDOS:
      if (proto === ETHERTYPE.IP) {
        let b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, PPP.IP);
        const b1 = genCmp(cs, Off.LINKTYPE, 0, C.H, PPP.VJC);
        genOr(b0, b1);
        b0 = genCmp(cs, Off.LINKTYPE, 0, C.H, PPP.VJNC);
        genOr(b1, b0);
        return b0;
      }
      return genCmp(cs, Off.LINKTYPE, 0, C.H, ethertypeToPpptype(proto));
    case DLT.NULL:
    case DLT.LOOP:
    case DLT.ENC:
      if (proto === ETHERTYPE.IP) return genLoopbackLinktype(cs, AF_INET);
      if (proto === ETHERTYPE.IPV6) {
        // A capture file may come from any OS, each with its own AF_INET6.
        let b0 = genLoopbackLinktype(cs, BSD_AFNUM_INET6[0]);
        const b1 = genLoopbackLinktype(cs, BSD_AFNUM_INET6[1]);
        genOr(b0, b1);
        b0 = genLoopbackLinktype(cs, BSD_AFNUM_INET6[2]);
        genOr(b0, b1);
        return b1;
      }
      return genFalse();
    case DLT.PFLOG:
      if (proto === ETHERTYPE.IP) return genCmp(cs, Off.LINKHDR, 1, C.B, AF_INET);
      if (proto === ETHERTYPE.IPV6) return genCmp(cs, Off.LINKHDR, 1, C.B, AF_INET6_LINUX);
      return genFalse();
    case DLT.MTP2:
    case DLT.MTP2_WITH_PHDR:
      return bpfError("MTP2 link-layer type filtering not implemented");
    default:
      if (cs.offLinktype.constantPart !== OFFSET_NOT_SET) return genCmp(cs, Off.LINKTYPE, 0, C.H, proto);
      bpfError(`${dltDescription(cs.linktype)} link-layer type filtering not implemented`);
  }
}
