/**
 * The remaining primitives: broadcast/multicast, inbound/outbound, ifindex, encapsulations that shift the
 * header offsets for everything after them (vlan, mpls, pppoes, geneve, ATM LANE), ATM and SS7 fields,
 * pflog fields, 802.11 frame types and directions, and LLC frame types.
 */

import * as C from "../insn.js";
import { type Block, genAnd, genNot, genOr, jmp, newBlock, newStmt, type Slist, sappend } from "./blocks.js";
import { ETHERTYPE, IPPROTO, LINUX_SLL_OUTGOING, PPP, Q } from "./constants.js";
import { gen80211AddrTest, genEhostop, genWlanhostop } from "./hosts.js";
import { gen8023, genAtmPrototype, genCheck80211DataFrame, genLinktype, genPrevlinkhdrCheck, PT_LLC } from "./linktype.js";
import { absOffsetVarpart, genBcmp, genCmp, genCmpGe, genMcmp, genTrue, loadA, loadxIphdrlen, Off } from "./load.js";
import { genPort, genPort6 } from "./proto.js";
import { bpfError, type CompilerState, DLT, dltDescription, is80211 } from "./state.js";

const EBROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export function genBroadcast(cs: CompilerState, proto: number): Block {
  switch (proto) {
    case Q.DEFAULT:
    case Q.LINK:
      if (cs.linktype === DLT.EN10MB) {
        const b1 = genPrevlinkhdrCheck(cs);
        const b0 = genEhostop(cs, EBROADCAST, Q.DST);
        if (b1) genAnd(b1, b0);
        return b0;
      }
      if (is80211(cs.linktype)) return genWlanhostop(cs, EBROADCAST, Q.DST);
      return bpfError("not a broadcast link");
    case Q.IP: {
      if (cs.netmask === 0xffffffff) bpfError("netmask not known, so 'ip broadcast' not supported");
      const b0 = genLinktype(cs, ETHERTYPE.IP);
      const hostmask = ~cs.netmask >>> 0;
      const b1 = genMcmp(cs, Off.LINKPL, 16, C.W, 0, hostmask);
      const b2 = genMcmp(cs, Off.LINKPL, 16, C.W, hostmask, hostmask);
      genOr(b1, b2);
      genAnd(b0, b2);
      return b2;
    }
  }
  bpfError("only link-layer/IP broadcast filters supported");
}

function genMacMulticast(cs: CompilerState, offset: number): Block {
  const b0 = newBlock(jmp(C.JSET), 1);
  b0.stmts = loadA(cs, Off.LINKHDR, offset, C.B);
  return b0;
}

export function genMulticast(cs: CompilerState, proto: number): Block {
  switch (proto) {
    case Q.DEFAULT:
    case Q.LINK:
      if (cs.linktype === DLT.EN10MB) {
        const b1 = genPrevlinkhdrCheck(cs);
        const b0 = genMacMulticast(cs, 0);
        if (b1) genAnd(b1, b0);
        return b0;
      }
      if (is80211(cs.linktype)) return gen80211AddrTest(cs, Q.DST, (off) => genMacMulticast(cs, off));
      break;
    case Q.IP: {
      const b0 = genLinktype(cs, ETHERTYPE.IP);
      const b1 = genCmpGe(cs, Off.LINKPL, 16, C.B, 224);
      genAnd(b0, b1);
      return b1;
    }
    case Q.IPV6: {
      const b0 = genLinktype(cs, ETHERTYPE.IPV6);
      const b1 = genCmp(cs, Off.LINKPL, 24, C.B, 255);
      genAnd(b0, b1);
      return b1;
    }
  }
  bpfError("link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel");
}

export function genInbound(cs: CompilerState, outbound: boolean): Block {
  switch (cs.linktype) {
    case DLT.LINUX_SLL: {
      const b0 = genCmp(cs, Off.LINKHDR, 0, C.H, LINUX_SLL_OUTGOING);
      if (!outbound) genNot(b0);
      return b0;
    }
    case DLT.LINUX_SLL2: {
      const b0 = genCmp(cs, Off.LINKHDR, 10, C.B, LINUX_SLL_OUTGOING);
      if (!outbound) genNot(b0);
      return b0;
    }
    case DLT.PFLOG:
      return genCmp(cs, Off.LINKHDR, 60, C.B, outbound ? 2 : 1);
    case DLT.PPP_PPPD:
      return genCmp(cs, Off.LINKHDR, 0, C.B, outbound ? 0x01 : 0x00);
    default:
      return bpfError(`inbound/outbound not supported on ${dltDescription(cs.linktype)} when reading savefiles`);
  }
}

export function genIfindex(cs: CompilerState, ifindex: number): Block {
  if (cs.linktype === DLT.LINUX_SLL2) return genCmp(cs, Off.LINKHDR, 4, C.W, ifindex);
  bpfError(`ifindex not supported on ${dltDescription(cs.linktype)} when reading savefiles`);
}

export function genVlan(cs: CompilerState, vlanNum: number, hasTag: boolean): Block {
  if (cs.labelStackDepth > 0) bpfError("no VLAN match after MPLS");
  if (cs.linktype !== DLT.EN10MB && !(is80211(cs.linktype) && cs.linktype !== DLT.PPI))
    bpfError(`no VLAN support for ${dltDescription(cs.linktype)}`);
  let b0 = genLinktype(cs, ETHERTYPE.VLAN_8021Q);
  let b1 = genLinktype(cs, ETHERTYPE.VLAN_8021AD);
  genOr(b0, b1);
  b0 = b1;
  b1 = genLinktype(cs, ETHERTYPE.VLAN_8021QINQ);
  genOr(b0, b1);
  b0 = b1;
  if (hasTag) {
    if (vlanNum > 0x0fff) bpfError(`VLAN tag ${vlanNum} greater than maximum 4095`);
    b1 = genMcmp(cs, Off.LINKPL, 0, C.H, vlanNum, 0x0fff);
    genAnd(b0, b1);
    b0 = b1;
  }
  cs.offLinkpl.constantPart += 4;
  cs.offLinktype.constantPart += 4;
  cs.vlanStackDepth++;
  return b0;
}

export function genMpls(cs: CompilerState, label: number, hasLabel: boolean): Block {
  let b0: Block;
  if (cs.labelStackDepth > 0) b0 = genMcmp(cs, Off.PREVMPLSHDR, 2, C.B, 0, 0x01);
  else {
    switch (cs.linktype) {
      case DLT.C_HDLC:
      case DLT.EN10MB:
        b0 = genLinktype(cs, ETHERTYPE.MPLS);
        break;
      case DLT.PPP:
        b0 = genLinktype(cs, PPP.MPLS_UCAST);
        break;
      default:
        return bpfError(`no MPLS support for ${dltDescription(cs.linktype)}`);
    }
  }
  if (hasLabel) {
    if (label > 0xfffff) bpfError(`MPLS label ${label} greater than maximum 1048575`);
    const b1 = genMcmp(cs, Off.LINKPL, 0, C.W, (label << 12) >>> 0, 0xfffff000);
    genAnd(b0, b1);
    b0 = b1;
  }
  cs.offNlNosnap += 4;
  cs.offNl += 4;
  cs.labelStackDepth++;
  return b0;
}

export const genPppoed = (cs: CompilerState): Block => genLinktype(cs, ETHERTYPE.PPPOED);

export function genPppoes(cs: CompilerState, sess: number, hasSess: boolean): Block {
  let b0 = genLinktype(cs, ETHERTYPE.PPPOES);
  if (hasSess) {
    if (sess > 0xffff) bpfError(`PPPoE session number ${sess} greater than maximum 65535`);
    const b1 = genMcmp(cs, Off.LINKPL, 0, C.W, sess, 0x0000ffff);
    genAnd(b0, b1);
    b0 = b1;
  }
  cs.pushLinkhdr(DLT.PPP, cs.offLinkpl.isVariable, cs.offLinkpl.constantPart + cs.offNl + 6, cs.offLinkpl.reg);
  cs.offLinktype = { ...cs.offLinkhdr };
  cs.offLinkpl.constantPart = cs.offLinkhdr.constantPart + 2;
  cs.offNl = 0;
  cs.offNlNosnap = 0;
  return b0;
}

const GENEVE_PORT = 6081;

function genGeneveCheck(
  cs: CompilerState,
  portfn: (cs: CompilerState, port: number, proto: number, dir: number) => Block,
  rel: Off,
  vni: number,
  hasVni: boolean,
): Block {
  let b0 = portfn(cs, GENEVE_PORT, IPPROTO.UDP, Q.DST);
  let b1 = genMcmp(cs, rel, 8, C.B, 0, 0xc0);
  genAnd(b0, b1);
  b0 = b1;
  if (hasVni) {
    if (vni > 0xffffff) bpfError(`Geneve VNI ${vni} greater than maximum 16777215`);
    b1 = genMcmp(cs, rel, 12, C.W, (vni << 8) >>> 0, 0xffffff00);
    genAnd(b0, b1);
    b0 = b1;
  }
  return b0;
}

function alwaysTrueWith(s: Slist): Block {
  const b = newBlock(C.JMP | C.JEQ | C.X, 0);
  b.stmts = s;
  return b;
}

export function genGeneve(cs: CompilerState, vni: number, hasVni: boolean): Block {
  let b0 = genGeneveCheck(cs, genPort, Off.TRAN_IPV4, vni, hasVni);
  let s = loadxIphdrlen(cs);
  sappend(s, newStmt(C.MISC | C.TXA));
  let b1 = alwaysTrueWith(s);
  genAnd(b0, b1);
  const g4 = b1;

  b0 = genGeneveCheck(cs, genPort6, Off.TRAN_IPV6, vni, hasVni);
  const v = absOffsetVarpart(cs, cs.offLinkpl);
  if (v) {
    s = v;
    sappend(s, newStmt(C.LD | C.IMM, 40));
    sappend(s, newStmt(C.ALU | C.ADD | C.X, 0));
  } else s = newStmt(C.LD | C.IMM, 40);
  sappend(s, newStmt(C.MISC | C.TAX));
  b1 = alwaysTrueWith(s);
  genAnd(b0, b1);
  const g6 = b1;

  genOr(g4, g6);
  b0 = g6;
  s = genGeneveOffsets(cs);
  b1 = genTrue();
  sappend(s, b1.stmts);
  b1.stmts = s;
  genAnd(b0, b1);
  cs.isGeneve = true;
  return b1;
}

function genGeneveOffsets(cs: CompilerState): Slist {
  const s = newStmt(C.ALU | C.ADD | C.K, (cs.offLinkpl.constantPart + cs.offNl + 8) >>> 0);
  const add = (code: number, k = 0): Slist => {
    const x = newStmt(code, k);
    sappend(s, x);
    return x;
  };
  add(C.MISC | C.TAX);
  add(C.ALU | C.ADD | C.K, 2);
  cs.offLinktype.reg = cs.allocReg();
  cs.offLinktype.isVariable = true;
  cs.offLinktype.constantPart = 0;
  add(C.ST, cs.offLinktype.reg);
  add(C.LD | C.IND | C.B, 0);
  add(C.ALU | C.AND | C.K, 0x3f);
  add(C.ALU | C.MUL | C.K, 4);
  add(C.ALU | C.ADD | C.K, 8);
  add(C.ALU | C.ADD | C.X, 0);
  cs.pushLinkhdr(DLT.EN10MB, true, 0, cs.allocReg());
  add(C.ST, cs.offLinkhdr.reg);
  cs.noOptimize = true;
  add(C.LD | C.IND | C.H, 2);
  add(C.LDX | C.MEM, cs.offLinkhdr.reg);
  const sProto = add(jmp(C.JEQ), ETHERTYPE.TEB);
  sProto.s.jt = add(C.MISC | C.TXA);
  add(C.ALU | C.ADD | C.K, 12);
  add(C.ST, cs.offLinktype.reg);
  add(C.ALU | C.ADD | C.K, 2);
  add(C.MISC | C.TAX);
  cs.offLinkpl.reg = cs.allocReg();
  cs.offLinkpl.isVariable = true;
  cs.offLinkpl.constantPart = 0;
  sProto.s.jf = add(C.STX, cs.offLinkpl.reg);
  cs.offNl = 0;
  return s;
}

// pflog.

const PF_REASONS = [
  "match",
  "bad-offset",
  "fragment",
  "short",
  "normalize",
  "memory",
  "bad-timestamp",
  "congestion",
  "ip-option",
  "proto-cksum",
  "state-mismatch",
  "state-insert",
  "state-limit",
  "src-limit",
  "synproxy",
];

const PF_ACTIONS: Record<string, number> = {
  pass: 0,
  accept: 0,
  drop: 1,
  block: 1,
  scrub: 2,
  noscrub: 3,
  nat: 4,
  nonat: 5,
  binat: 6,
  nobinat: 7,
  rdr: 8,
  nordr: 9,
};

export function pfReason(name: string): number {
  const i = PF_REASONS.indexOf(name.toLowerCase());
  if (i < 0) bpfError(`unknown PF reason "${name}"`);
  return i;
}

export function pfAction(name: string): number {
  const v = PF_ACTIONS[name.toLowerCase()];
  if (v === undefined) bpfError(`unknown PF action "${name}"`);
  return v;
}

function needPflog(cs: CompilerState, what: string): void {
  if (cs.linktype !== DLT.PFLOG) bpfError(`${what} supported only on PF linktype`);
}

export function genPfIfname(cs: CompilerState, ifname: string): Block {
  needPflog(cs, "ifname");
  if (ifname.length >= 16) bpfError("ifname interface names can only be 15 characters");
  return genBcmp(cs, Off.LINKHDR, 4, new TextEncoder().encode(ifname));
}

export function genPfRuleset(cs: CompilerState, ruleset: string): Block {
  needPflog(cs, "ruleset");
  if (ruleset.length >= 16) bpfError("ruleset names can only be 15 characters");
  return genBcmp(cs, Off.LINKHDR, 20, new TextEncoder().encode(ruleset));
}

export function genPfField(cs: CompilerState, what: "rnr" | "srnr" | "reason" | "action", v: number): Block {
  needPflog(cs, what);
  switch (what) {
    case "rnr":
      return genCmp(cs, Off.LINKHDR, 36, C.W, v);
    case "srnr":
      return genCmp(cs, Off.LINKHDR, 40, C.W, v);
    case "reason":
      return genCmp(cs, Off.LINKHDR, 3, C.B, v);
    case "action":
      return genCmp(cs, Off.LINKHDR, 2, C.B, v);
  }
}

// 802.11 frame control.

export function genP80211Type(cs: CompilerState, type: number, mask: number): Block {
  if (!is80211(cs.linktype) || cs.linktype === DLT.PPI) bpfError("802.11 link-layer types supported only on 802.11");
  return genMcmp(cs, Off.LINKHDR, 0, C.B, type, mask);
}

export function genP80211Fcdir(cs: CompilerState, dir: number): Block {
  if (!is80211(cs.linktype) || cs.linktype === DLT.PPI) bpfError("frame direction supported only with 802.11 headers");
  return genMcmp(cs, Off.LINKHDR, 1, C.B, dir, 0x03);
}

// LLC.

export function genLlc(cs: CompilerState): Block {
  switch (cs.linktype) {
    case DLT.EN10MB: {
      const b0 = gen8023(cs);
      const b1 = genCmp(cs, Off.LLC, 0, C.H, 0xffff);
      genNot(b1);
      genAnd(b0, b1);
      return b1;
    }
    case DLT.SUNATM: {
      const b0 = genAtmPrototype(cs, PT_LLC);
      cs.linktype = cs.prevlinktype;
      return b0;
    }
    case DLT.IEEE802:
    case DLT.FDDI:
    case DLT.ATM_RFC1483:
      return genTrue();
    default:
      if (is80211(cs.linktype)) return genCheck80211DataFrame(cs);
      bpfError(`'llc' not supported for ${dltDescription(cs.linktype)}`);
  }
}

export const LLC_S = { rr: 0x01, rnr: 0x05, rej: 0x09 } as Record<string, number>;
export const LLC_U = {
  ui: 0x03,
  ua: 0x63,
  disc: 0x43,
  dm: 0x0f,
  sabme: 0x6f,
  test: 0xe3,
  xid: 0xaf,
  frmr: 0x87,
} as Record<string, number>;

export function genLlcI(cs: CompilerState): Block {
  const b0 = genLlc(cs);
  const b1 = newBlock(jmp(C.JSET), 0x01);
  b1.stmts = loadA(cs, Off.LLC, 2, C.B);
  genNot(b1);
  genAnd(b0, b1);
  return b1;
}

export function genLlcMasked(cs: CompilerState, value: number, mask: number): Block {
  const b0 = genLlc(cs);
  const b1 = genMcmp(cs, Off.LLC, 2, C.B, value, mask);
  genAnd(b0, b1);
  return b1;
}
