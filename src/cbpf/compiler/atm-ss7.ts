/**
 * ATM (SunATM's pseudo-header: VPI/VCI, LANE, signalling messages) and SS7 (MTP2 signal-unit types and MTP3
 * fields) primitives.
 */

import * as C from "../insn.js";
import { type Block, genAnd, genOr } from "./blocks.js";
import { genNcmp, Off } from "./load.js";
import { bpfError, type CompilerState, DLT, OFFSET_NOT_SET } from "./state.js";

// ATM (SunATM pseudo-header).

export const A = {
  METAC: 22,
  BCC: 23,
  OAMF4SC: 24,
  OAMF4EC: 25,
  SC: 26,
  ILMIC: 27,
  OAM: 28,
  OAMF4: 29,
  LANE: 30,
  LLC: 31,
  SETUP: 41,
  CALLPROCEED: 42,
  CONNECT: 43,
  CONNECTACK: 44,
  RELEASE: 45,
  RELEASE_DONE: 46,
  VPI: 51,
  VCI: 52,
  PROTOTYPE: 53,
  MSGTYPE: 54,
  CALLREFTYPE: 55,
  CONNECTMSG: 70,
  METACONNECT: 71,
} as const;

export function genAtmfieldCode(cs: CompilerState, field: number, value: number, jtype: number, reverse: boolean): Block {
  switch (field) {
    case A.VPI:
      if (!cs.isAtm) bpfError("'vpi' supported only on raw ATM");
      return genNcmp(cs, Off.LINKHDR, cs.offVpi, C.B, 0xffffffff, jtype, reverse, value);
    case A.VCI:
      if (!cs.isAtm) bpfError("'vci' supported only on raw ATM");
      return genNcmp(cs, Off.LINKHDR, cs.offVci, C.H, 0xffffffff, jtype, reverse, value);
    case A.PROTOTYPE:
      return genNcmp(cs, Off.LINKHDR, cs.offProto, C.B, 0x0f, jtype, reverse, value);
    case A.MSGTYPE:
      return genNcmp(cs, Off.LINKHDR, cs.offPayload + 5, C.B, 0xffffffff, jtype, reverse, value);
    default:
      throw new Error(`bad ATM field ${field}`);
  }
}

function vpiVci(cs: CompilerState, vci: number): Block {
  const b0 = genAtmfieldCode(cs, A.VPI, 0, C.JEQ, false);
  const b1 = genAtmfieldCode(cs, A.VCI, vci, C.JEQ, false);
  genAnd(b0, b1);
  return b1;
}

export function genAtmtypeAbbrev(cs: CompilerState, type: number): Block {
  const need = (name: string): void => {
    if (!cs.isAtm) bpfError(`'${name}' supported only on raw ATM`);
  };
  switch (type) {
    case A.METAC:
      need("metac");
      return vpiVci(cs, 1);
    case A.BCC:
      need("bcc");
      return vpiVci(cs, 2);
    case A.OAMF4SC:
      need("oam4sc");
      return vpiVci(cs, 3);
    case A.OAMF4EC:
      need("oam4ec");
      return vpiVci(cs, 4);
    case A.SC:
      need("sc");
      return vpiVci(cs, 5);
    case A.ILMIC:
      need("ilmic");
      return vpiVci(cs, 16);
    case A.LANE: {
      need("lane");
      const b1 = genAtmfieldCode(cs, A.PROTOTYPE, 0x01, C.JEQ, false);
      cs.pushLinkhdr(DLT.EN10MB, false, cs.offPayload + 2, -1);
      cs.offLinktype.constantPart = cs.offLinkhdr.constantPart + 12;
      cs.offLinkpl.constantPart = cs.offLinkhdr.constantPart + 14;
      cs.offNl = 0;
      cs.offNlNosnap = 3;
      return b1;
    }
    default:
      throw new Error(`bad ATM type ${type}`);
  }
}

function genMsgAbbrev(cs: CompilerState, msg: number): Block {
  return genAtmfieldCode(cs, A.MSGTYPE, msg, C.JEQ, false);
}

const Q2931 = { SETUP: 0x05, CALL_PROCEED: 0x02, CONNECT: 0x07, CONNECT_ACK: 0x0f, RELEASE: 0x4d, RELEASE_DONE: 0x5a };

export function genAtmmultiAbbrev(cs: CompilerState, type: number): Block {
  switch (type) {
    case A.OAM:
      if (!cs.isAtm) bpfError("'oam' supported only on raw ATM");
      return genAtmmultiAbbrev(cs, A.OAMF4);
    case A.OAMF4: {
      if (!cs.isAtm) bpfError("'oamf4' supported only on raw ATM");
      let b0 = genAtmfieldCode(cs, A.VCI, 3, C.JEQ, false);
      const b1 = genAtmfieldCode(cs, A.VCI, 4, C.JEQ, false);
      genOr(b0, b1);
      b0 = genAtmfieldCode(cs, A.VPI, 0, C.JEQ, false);
      genAnd(b0, b1);
      return b1;
    }
    case A.CONNECTMSG: {
      if (!cs.isAtm) bpfError("'connectmsg' supported only on raw ATM");
      const q = Q2931;
      const list = [q.SETUP, q.CALL_PROCEED, q.CONNECT, q.CONNECT_ACK, q.RELEASE, q.RELEASE_DONE];
      return msgsThen(cs, list, () => genAtmtypeAbbrev(cs, A.SC));
    }
    case A.METACONNECT: {
      if (!cs.isAtm) bpfError("'metaconnect' supported only on raw ATM");
      const q = Q2931;
      const list = [q.SETUP, q.CALL_PROCEED, q.CONNECT, q.RELEASE, q.RELEASE_DONE];
      return msgsThen(cs, list, () => genAtmtypeAbbrev(cs, A.METAC));
    }
    default:
      throw new Error(`bad ATM type ${type}`);
  }
}

/** OR of message-type tests, then ANDed with the circuit test generated after them. */
function msgsThen(cs: CompilerState, list: number[], circuit: () => Block): Block {
  const b0 = genMsgAbbrev(cs, list[0]);
  const b1 = genMsgAbbrev(cs, list[1]);
  genOr(b0, b1);
  for (const m of list.slice(2)) genOr(genMsgAbbrev(cs, m), b1);
  genAnd(circuit(), b1);
  return b1;
}

// SS7 (MTP2/MTP3).

export const M = { FISU: 22, LSSU: 23, MSU: 24, HFISU: 25, HLSSU: 26, HMSU: 27 } as const;
export const MF = { SIO: 1, OPC: 2, DPC: 3, SLS: 4, HSIO: 5, HOPC: 6, HDPC: 7, HSLS: 8 } as const;

export function genMtp2typeAbbrev(cs: CompilerState, type: number): Block {
  const names: Record<number, string> = {
    [M.FISU]: "'fisu' supported only on MTP2",
    [M.LSSU]: "'lssu' supported only on MTP2",
    [M.MSU]: "'msu' supported only on MTP2",
    [M.HFISU]: "'hfisu' supported only on MTP2_HSL",
    [M.HLSSU]: "'hlssu' supported only on MTP2_HSL",
    [M.HMSU]: "'hmsu' supported only on MTP2_HSL",
  };
  if (cs.linktype !== DLT.MTP2 && cs.linktype !== DLT.MTP2_WITH_PHDR) bpfError(names[type]);
  switch (type) {
    case M.FISU:
      return genNcmp(cs, Off.PACKET, cs.offLi, C.B, 0x3f, C.JEQ, false, 0);
    case M.LSSU: {
      const b0 = genNcmp(cs, Off.PACKET, cs.offLi, C.B, 0x3f, C.JGT, true, 2);
      const b1 = genNcmp(cs, Off.PACKET, cs.offLi, C.B, 0x3f, C.JGT, false, 0);
      genAnd(b1, b0);
      return b0;
    }
    case M.MSU:
      return genNcmp(cs, Off.PACKET, cs.offLi, C.B, 0x3f, C.JGT, false, 2);
    case M.HFISU:
      return genNcmp(cs, Off.PACKET, cs.offLiHsl, C.H, 0xff80, C.JEQ, false, 0);
    case M.HLSSU: {
      const b0 = genNcmp(cs, Off.PACKET, cs.offLiHsl, C.H, 0xff80, C.JGT, true, 0x0100);
      const b1 = genNcmp(cs, Off.PACKET, cs.offLiHsl, C.H, 0xff80, C.JGT, false, 0);
      genAnd(b1, b0);
      return b0;
    }
    default:
      return genNcmp(cs, Off.PACKET, cs.offLiHsl, C.H, 0xff80, C.JGT, false, 0x0100);
  }
}

export function genMtp3fieldCode(cs: CompilerState, field: number, value: number, jtype: number, reverse: boolean): Block {
  const v = value >>> 0;
  const h = field >= MF.HSIO ? 3 : 0;
  switch (field) {
    case MF.SIO:
    case MF.HSIO:
      if (cs.offSio === OFFSET_NOT_SET) bpfError("'sio' supported only on SS7");
      if (v > 255) bpfError(`sio value ${v} too big; max value = 255`);
      return genNcmp(cs, Off.PACKET, cs.offSio + h, C.B, 0xffffffff, jtype, reverse, v);
    case MF.OPC:
    case MF.HOPC: {
      if (cs.offOpc === OFFSET_NOT_SET) bpfError("'opc' supported only on SS7");
      if (v > 16383) bpfError(`opc value ${v} too big; max value = 16383`);
      const j = ((v & 0x3c00) >>> 10) + ((v & 0x3fc) << 6) + ((v & 0x3) << 22);
      return genNcmp(cs, Off.PACKET, cs.offOpc + h, C.W, 0x00c0ff0f, jtype, reverse, j);
    }
    case MF.DPC:
    case MF.HDPC: {
      if (cs.offDpc === OFFSET_NOT_SET) bpfError("'dpc' supported only on SS7");
      if (v > 16383) bpfError(`dpc value ${v} too big; max value = 16383`);
      const j = (((v & 0xff) << 24) >>> 0) + ((v & 0x3f00) << 8);
      return genNcmp(cs, Off.PACKET, cs.offDpc + h, C.W, 0xff3f0000, jtype, reverse, j);
    }
    default: {
      if (cs.offSls === OFFSET_NOT_SET) bpfError("'sls' supported only on SS7");
      if (v > 15) bpfError(`sls value ${v} too big; max value = 15`);
      return genNcmp(cs, Off.PACKET, cs.offSls + h, C.B, 0xf0, jtype, reverse, v << 4);
    }
  }
}
