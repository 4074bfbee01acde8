/**
 * Protocol tests: `tcp`, `ip proto N`, `ip6 protochain N`, ports and port ranges over IPv4 and IPv6.
 */

import * as C from "../insn.js";
import { type Block, genAnd, genNot, genOr, jmp, newBlock, newStmt, type Slist } from "./blocks.js";
import { ETHERTYPE, IPPROTO, ISIS_PDU, ISO, LLCSAP, PROTO_QUAL_NAMES, PROTO_UNDEF, Q } from "./constants.js";
import { genLinktype } from "./linktype.js";
import { genCmp, genCmpGe, genCmpLe, loadA, Off } from "./load.js";
import { bpfError, type CompilerState, DLT } from "./state.js";

export function genProtoAbbrev(cs: CompilerState, proto: number): Block {
  const both = (v: number): Block => genProto(cs, v, Q.DEFAULT, Q.DEFAULT);
  const chain = (types: number[]): Block => {
    let b1 = genProto(cs, types[0], Q.ISIS, Q.DEFAULT);
    // libpcap generates the first two and ORs them as b0, b1; the rest are ORed in turn.
    const b0 = b1;
    b1 = genProto(cs, types[1], Q.ISIS, Q.DEFAULT);
    genOr(b0, b1);
    for (const t of types.slice(2)) genOr(genProto(cs, t, Q.ISIS, Q.DEFAULT), b1);
    return b1;
  };
  switch (proto) {
    case Q.SCTP:
      return both(IPPROTO.SCTP);
    case Q.TCP:
      return both(IPPROTO.TCP);
    case Q.UDP:
      return both(IPPROTO.UDP);
    case Q.ICMP:
      return genProto(cs, IPPROTO.ICMP, Q.IP, Q.DEFAULT);
    case Q.IGMP:
      return genProto(cs, IPPROTO.IGMP, Q.IP, Q.DEFAULT);
    case Q.IGRP:
      return genProto(cs, IPPROTO.IGRP, Q.IP, Q.DEFAULT);
    case Q.PIM:
      return both(IPPROTO.PIM);
    case Q.VRRP:
      return genProto(cs, IPPROTO.VRRP, Q.IP, Q.DEFAULT);
    case Q.CARP:
      return genProto(cs, IPPROTO.CARP, Q.IP, Q.DEFAULT);
    case Q.IP:
      return genLinktype(cs, ETHERTYPE.IP);
    case Q.ARP:
      return genLinktype(cs, ETHERTYPE.ARP);
    case Q.RARP:
      return genLinktype(cs, ETHERTYPE.REVARP);
    case Q.LINK:
      return bpfError("link layer applied in wrong context");
    case Q.ATALK:
      return genLinktype(cs, ETHERTYPE.ATALK);
    case Q.AARP:
      return genLinktype(cs, ETHERTYPE.AARP);
    case Q.DECNET:
      return genLinktype(cs, ETHERTYPE.DN);
    case Q.SCA:
      return genLinktype(cs, ETHERTYPE.SCA);
    case Q.LAT:
      return genLinktype(cs, ETHERTYPE.LAT);
    case Q.MOPDL:
      return genLinktype(cs, ETHERTYPE.MOPDL);
    case Q.MOPRC:
      return genLinktype(cs, ETHERTYPE.MOPRC);
    case Q.IPV6:
      return genLinktype(cs, ETHERTYPE.IPV6);
    case Q.ICMPV6:
      return genProto(cs, IPPROTO.ICMPV6, Q.IPV6, Q.DEFAULT);
    case Q.AH:
      return both(IPPROTO.AH);
    case Q.ESP:
      return both(IPPROTO.ESP);
    case Q.ISO:
      return genLinktype(cs, LLCSAP.ISONS);
    case Q.ESIS:
      return genProto(cs, ISO.ESIS, Q.ISO, Q.DEFAULT);
    case Q.ISIS:
      return genProto(cs, ISO.ISIS, Q.ISO, Q.DEFAULT);
    case Q.ISIS_L1:
      return chain([ISIS_PDU.L1_LAN_IIH, ISIS_PDU.PTP_IIH, ISIS_PDU.L1_LSP, ISIS_PDU.L1_CSNP, ISIS_PDU.L1_PSNP]);
    case Q.ISIS_L2:
      return chain([ISIS_PDU.L2_LAN_IIH, ISIS_PDU.PTP_IIH, ISIS_PDU.L2_LSP, ISIS_PDU.L2_CSNP, ISIS_PDU.L2_PSNP]);
    case Q.ISIS_IIH:
      return chain([ISIS_PDU.L1_LAN_IIH, ISIS_PDU.L2_LAN_IIH, ISIS_PDU.PTP_IIH]);
    case Q.ISIS_LSP:
      return chain([ISIS_PDU.L1_LSP, ISIS_PDU.L2_LSP]);
    case Q.ISIS_SNP:
      return chain([ISIS_PDU.L1_CSNP, ISIS_PDU.L2_CSNP, ISIS_PDU.L1_PSNP, ISIS_PDU.L2_PSNP]);
    case Q.ISIS_CSNP:
      return chain([ISIS_PDU.L1_CSNP, ISIS_PDU.L2_CSNP]);
    case Q.ISIS_PSNP:
      return chain([ISIS_PDU.L1_PSNP, ISIS_PDU.L2_PSNP]);
    case Q.CLNP:
      return genProto(cs, ISO.CLNP, Q.ISO, Q.DEFAULT);
    case Q.STP:
      return genLinktype(cs, LLCSAP.STP_8021D);
    case Q.IPX:
      return genLinktype(cs, LLCSAP.IPX);
    case Q.NETBEUI:
      return genLinktype(cs, LLCSAP.NETBEUI);
    case Q.RADIO:
      return bpfError("'radio' is not a valid protocol type");
    default:
      throw new Error(`bad protocol ${proto}`);
  }
}

/** Not an IPv4 fragment other than the first. */
export function genIpfrag(cs: CompilerState): Block {
  const b = newBlock(jmp(C.JSET), 0x1fff);
  b.stmts = loadA(cs, Off.LINKPL, 6, C.H);
  genNot(b);
  return b;
}

type Atom = (off: number) => Block;

function dirAtoms(dir: number, atom: Atom): Block {
  switch (dir) {
    case Q.SRC:
      return atom(0);
    case Q.DST:
      return atom(2);
    case Q.OR:
    case Q.DEFAULT: {
      const tmp = atom(0);
      const b1 = atom(2);
      genOr(tmp, b1);
      return b1;
    }
    case Q.AND: {
      const tmp = atom(0);
      const b1 = atom(2);
      genAnd(tmp, b1);
      return b1;
    }
    default:
      throw new Error(`bad direction ${dir}`);
  }
}

function rangeAtom(cs: CompilerState, rel: Off, lo: number, hi: number): Atom {
  const [v1, v2] = lo > hi ? [hi, lo] : [lo, hi];
  return (off) => {
    const b1 = genCmpGe(cs, rel, off, C.H, v1);
    const b2 = genCmpLe(cs, rel, off, C.H, v2);
    genAnd(b1, b2);
    return b2;
  };
}

function portop4(cs: CompilerState, proto: number, dir: number, atom: Atom): Block {
  const tmp = genCmp(cs, Off.LINKPL, 9, C.B, proto);
  const b0 = genIpfrag(cs);
  genAnd(tmp, b0);
  const b1 = dirAtoms(dir, atom);
  genAnd(b0, b1);
  return b1;
}

function portop6(cs: CompilerState, proto: number, dir: number, atom: Atom): Block {
  const b0 = genCmp(cs, Off.LINKPL, 6, C.B, proto);
  const b1 = dirAtoms(dir, atom);
  genAnd(b0, b1);
  return b1;
}

/** Port test over one IP version: each of TCP/UDP/SCTP when the protocol is not given. */
function portOver(cs: CompilerState, ethertype: number, ipProto: number, op: (proto: number) => Block): Block {
  const b0 = genLinktype(cs, ethertype);
  let b1: Block;
  if (ipProto === PROTO_UNDEF) {
    let tmp = op(IPPROTO.TCP);
    b1 = op(IPPROTO.UDP);
    genOr(tmp, b1);
    tmp = op(IPPROTO.SCTP);
    genOr(tmp, b1);
  } else b1 = op(ipProto);
  genAnd(b0, b1);
  return b1;
}

export function genPort(cs: CompilerState, port: number, ipProto: number, dir: number): Block {
  return portOver(cs, ETHERTYPE.IP, ipProto, (p) => portop4(cs, p, dir, (off) => genCmp(cs, Off.TRAN_IPV4, off, C.H, port)));
}

export function genPort6(cs: CompilerState, port: number, ipProto: number, dir: number): Block {
  return portOver(cs, ETHERTYPE.IPV6, ipProto, (p) => portop6(cs, p, dir, (off) => genCmp(cs, Off.TRAN_IPV6, off, C.H, port)));
}

export function genPortrange(cs: CompilerState, p1: number, p2: number, ipProto: number, dir: number): Block {
  return portOver(cs, ETHERTYPE.IP, ipProto, (p) => portop4(cs, p, dir, rangeAtom(cs, Off.TRAN_IPV4, p1, p2)));
}

export function genPortrange6(cs: CompilerState, p1: number, p2: number, ipProto: number, dir: number): Block {
  return portOver(cs, ETHERTYPE.IPV6, ipProto, (p) => portop6(cs, p, dir, rangeAtom(cs, Off.TRAN_IPV6, p1, p2)));
}

/** Ports of both IP versions, IPv6 first as libpcap orders them. */
export function genPortBoth(cs: CompilerState, port: number, ipProto: number, dir: number): Block {
  const b = genPort(cs, port, ipProto, dir);
  const b6 = genPort6(cs, port, ipProto, dir);
  genOr(b6, b);
  return b;
}

export function genPortrangeBoth(cs: CompilerState, p1: number, p2: number, ipProto: number, dir: number): Block {
  const b = genPortrange(cs, p1, p2, ipProto, dir);
  const b6 = genPortrange6(cs, p1, p2, ipProto, dir);
  genOr(b6, b);
  return b;
}

export function genProto(cs: CompilerState, v: number, proto: number, dir: number): Block {
  if (dir !== Q.DEFAULT) bpfError("direction applied to 'proto'");
  switch (proto) {
    case Q.DEFAULT: {
      const b0 = genProto(cs, v, Q.IP, dir);
      const b1 = genProto(cs, v, Q.IPV6, dir);
      genOr(b0, b1);
      return b1;
    }
    case Q.LINK:
      return genLinktype(cs, v);
    case Q.IP: {
      const b0 = genLinktype(cs, ETHERTYPE.IP);
      const b1 = genCmp(cs, Off.LINKPL, 9, C.B, v);
      genAnd(b0, b1);
      return b1;
    }
    case Q.ISO:
      switch (cs.linktype) {
        case DLT.FRELAY:
          return genCmp(cs, Off.LINKHDR, 2, C.H, (0x03 << 8) | v);
        case DLT.C_HDLC: {
          const b0 = genLinktype(cs, (LLCSAP.ISONS << 8) | LLCSAP.ISONS);
          const b1 = genCmp(cs, Off.LINKPL_NOSNAP, 1, C.B, v);
          genAnd(b0, b1);
          return b1;
        }
        default: {
          const b0 = genLinktype(cs, LLCSAP.ISONS);
          const b1 = genCmp(cs, Off.LINKPL_NOSNAP, 0, C.B, v);
          genAnd(b0, b1);
          return b1;
        }
      }
    case Q.ISIS: {
      const b0 = genProto(cs, ISO.ISIS, Q.ISO, Q.DEFAULT);
      const b1 = genCmp(cs, Off.LINKPL_NOSNAP, 4, C.B, v);
      genAnd(b0, b1);
      return b1;
    }
    case Q.IPV6: {
      const b0 = genLinktype(cs, ETHERTYPE.IPV6);
      let b2 = genCmp(cs, Off.LINKPL, 6, C.B, IPPROTO.FRAGMENT);
      const b1 = genCmp(cs, Off.LINKPL, 40, C.B, v);
      genAnd(b2, b1);
      b2 = genCmp(cs, Off.LINKPL, 6, C.B, v);
      genOr(b2, b1);
      genAnd(b0, b1);
      return b1;
    }
    default:
      return bpfError(protoError(proto));
  }
}

function protoError(proto: number): string {
  switch (proto) {
    case Q.ARP:
      return "arp does not encapsulate another protocol";
    case Q.RARP:
      return "rarp does not encapsulate another protocol";
    case Q.ATALK:
      return "atalk encapsulation is not specifiable";
    case Q.DECNET:
      return "decnet encapsulation is not specifiable";
    case Q.SCA:
      return "sca does not encapsulate another protocol";
    case Q.LAT:
      return "lat does not encapsulate another protocol";
    case Q.MOPRC:
      return "moprc does not encapsulate another protocol";
    case Q.MOPDL:
      return "mopdl does not encapsulate another protocol";
    case Q.ESP:
      return "'esp proto' is bogus";
    default: {
      return `'${PROTO_QUAL_NAMES[proto] ?? "?"} proto' is bogus`;
    }
  }
}

/** `protochain`: walk the IPv6 extension-header (and AH) chain with a backward-jumping loop. */
export function genProtochain(cs: CompilerState, v: number, proto: number, dir: number): Block {
  // Allocated before the protocol is looked at: libpcap's Q_DEFAULT path never frees it.
  const reg2 = cs.allocReg();
  if (proto === Q.DEFAULT) {
    const b0 = genProtochain(cs, v, Q.IP, dir);
    const b = genProtochain(cs, v, Q.IPV6, dir);
    genOr(b0, b);
    return b;
  }
  if (proto !== Q.IP && proto !== Q.IPV6) bpfError("bad protocol applied for 'protochain'");
  if (cs.offLinkpl.isVariable) bpfError("'protochain' not supported with variable length headers");
  cs.noOptimize = true;
  const base = cs.offLinkpl.constantPart + cs.offNl;
  const s: Slist[] = [newStmt(0)];
  const add = (code: number, k = 0): number => {
    s.push(newStmt(code, k));
    return s.length - 1;
  };
  let b0: Block;
  if (proto === Q.IP) {
    b0 = genLinktype(cs, ETHERTYPE.IP);
    add(C.LD | C.ABS | C.B, base + 9);
    add(C.LDX | C.MSH | C.B, base);
  } else {
    b0 = genLinktype(cs, ETHERTYPE.IPV6);
    add(C.LD | C.ABS | C.B, base + 6);
    add(C.LDX | C.IMM, 40);
  }
  const at = (i: number): Slist => s[i];
  const again = add(C.JMP | C.JEQ | C.K, v);
  const fix5 = again;
  const fix2 = add(C.JMP | C.JEQ | C.K, IPPROTO.NONE);
  at(fix5).s.jf = at(fix2);
  let fix3 = 0;
  if (proto === Q.IPV6) {
    const v6start = add(C.JMP | C.JEQ | C.K, IPPROTO.HOPOPTS);
    at(fix2).s.jf = at(v6start);
    for (const p of [IPPROTO.DSTOPTS, IPPROTO.ROUTING, IPPROTO.FRAGMENT]) {
      const i = add(C.JMP | C.JEQ | C.K, p);
      at(i - 1).s.jf = at(i);
    }
    fix3 = s.length - 1;
    const v6end = fix3;
    const v6advance = add(C.LD | C.IND | C.B, base);
    add(C.ST, reg2);
    add(C.LD | C.IND | C.B, base + 1);
    add(C.ALU | C.ADD | C.K, 1);
    add(C.ALU | C.MUL | C.K, 8);
    add(C.ALU | C.ADD | C.X, 0);
    add(C.MISC | C.TAX);
    add(C.LD | C.MEM, reg2);
    const ja = add(C.JMP | C.JA, 0);
    at(ja).s.k = (again - ja - 1) >>> 0;
    at(ja - 1).s.jf = at(ja);
    for (let j = v6start; j <= v6end; j++) at(j).s.jt = at(v6advance);
  } else {
    const nop = add(C.ALU | C.ADD | C.K, 0);
    at(fix2).s.jf = at(nop);
  }
  const ahcheck = add(C.JMP | C.JEQ | C.K, IPPROTO.AH);
  if (fix3) at(fix3).s.jf = at(ahcheck);
  const fix4 = ahcheck;
  let i = add(C.MISC | C.TXA);
  at(i - 1).s.jt = at(i);
  add(C.LD | C.IND | C.B, base);
  add(C.ST, reg2);
  i = add(C.MISC | C.TXA);
  at(i - 1).s.jt = at(i);
  add(C.ALU | C.ADD | C.K, 1);
  add(C.MISC | C.TAX);
  add(C.LD | C.IND | C.B, base);
  add(C.ALU | C.ADD | C.K, 2);
  add(C.ALU | C.MUL | C.K, 4);
  add(C.MISC | C.TAX);
  add(C.LD | C.MEM, reg2);
  const ja = add(C.JMP | C.JA, 0);
  at(ja).s.k = (again - ja - 1) >>> 0;
  const end = add(C.ALU | C.ADD | C.K, 0);
  at(fix2).s.jt = at(end);
  at(fix4).s.jf = at(end);
  at(fix5).s.jt = at(end);
  for (let j = 0; j < s.length - 1; j++) at(j).next = at(j + 1);
  const b = newBlock(jmp(C.JEQ), v);
  b.stmts = at(1);
  cs.freeReg(reg2);
  genAnd(b0, b);
  return b;
}
