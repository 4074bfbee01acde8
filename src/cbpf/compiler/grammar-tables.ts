/** Keyword tables of the pcap-filter grammar: qualifiers, operators, ATM/SS7 and 802.11 names. */

import * as C from "../insn.js";
import * as AS from "./atm-ss7.js";
import { Q } from "./constants.js";

export const PNAMES: Record<string, number> = {
  link: Q.LINK,
  ip: Q.IP,
  arp: Q.ARP,
  rarp: Q.RARP,
  sctp: Q.SCTP,
  tcp: Q.TCP,
  udp: Q.UDP,
  icmp: Q.ICMP,
  igmp: Q.IGMP,
  igrp: Q.IGRP,
  pim: Q.PIM,
  vrrp: Q.VRRP,
  carp: Q.CARP,
  atalk: Q.ATALK,
  aarp: Q.AARP,
  decnet: Q.DECNET,
  lat: Q.LAT,
  sca: Q.SCA,
  mopdl: Q.MOPDL,
  moprc: Q.MOPRC,
  ip6: Q.IPV6,
  icmp6: Q.ICMPV6,
  ah: Q.AH,
  esp: Q.ESP,
  iso: Q.ISO,
  esis: Q.ESIS,
  isis: Q.ISIS,
  l1: Q.ISIS_L1,
  l2: Q.ISIS_L2,
  iih: Q.ISIS_IIH,
  lsp: Q.ISIS_LSP,
  snp: Q.ISIS_SNP,
  psnp: Q.ISIS_PSNP,
  csnp: Q.ISIS_CSNP,
  clnp: Q.CLNP,
  stp: Q.STP,
  ipx: Q.IPX,
  netbeui: Q.NETBEUI,
  radio: Q.RADIO,
};

export const DQUALS: Record<string, number> = {
  addr1: Q.ADDR1,
  addr2: Q.ADDR2,
  addr3: Q.ADDR3,
  addr4: Q.ADDR4,
  ra: Q.RA,
  ta: Q.TA,
};
export const AQUALS: Record<string, number> = { host: Q.HOST, net: Q.NET, port: Q.PORT, portrange: Q.PORTRANGE };
export const ATMTYPES: Record<string, number> = {
  lane: AS.A.LANE,
  metac: AS.A.METAC,
  bcc: AS.A.BCC,
  oamf4ec: AS.A.OAMF4EC,
  oamf4sc: AS.A.OAMF4SC,
  sc: AS.A.SC,
  ilmic: AS.A.ILMIC,
};
export const ATMMULTI: Record<string, number> = {
  oam: AS.A.OAM,
  oamf4: AS.A.OAMF4,
  connectmsg: AS.A.CONNECTMSG,
  metaconnect: AS.A.METACONNECT,
};
export const MTP2: Record<string, number> = {
  fisu: AS.M.FISU,
  lssu: AS.M.LSSU,
  msu: AS.M.MSU,
  hfisu: AS.M.HFISU,
  hlssu: AS.M.HLSSU,
  hmsu: AS.M.HMSU,
};
export const MTP3: Record<string, number> = {
  sio: AS.MF.SIO,
  opc: AS.MF.OPC,
  dpc: AS.MF.DPC,
  sls: AS.MF.SLS,
  hsio: AS.MF.HSIO,
  hopc: AS.MF.HOPC,
  hdpc: AS.MF.HDPC,
  hsls: AS.MF.HSLS,
};
export const RELOPS: Record<string, [number, boolean]> = {
  ">": [C.JGT, false],
  ">=": [C.JGE, false],
  "=": [C.JEQ, false],
  "<=": [C.JGT, true],
  "<": [C.JGE, true],
  "!=": [C.JEQ, true],
};
export const BINOPS: Record<string, [number, number | undefined]> = {
  "|": [C.OR, 1],
  "&": [C.AND, 2],
  "<<": [C.LSH, 3],
  ">>": [C.RSH, 3],
  "+": [C.ADD, 4],
  "-": [C.SUB, 4],
  "*": [C.MUL, 5],
  "/": [C.DIV, 5],
  // No precedence in libpcap's grammar: bison shifts, so these bind to everything on their right.
  "%": [C.MOD, undefined],
  "^": [C.XOR, undefined],
};
export const UMINUS = 6;

/** 802.11 frame type and subtype names (grammar.y's tables). */
export const WLAN_TYPES: Record<string, number> = { data: 0x08, mgt: 0x00, management: 0x00, ctl: 0x04, control: 0x04 };
export const WLAN_SUBTYPES: [number, Record<string, number>][] = [
  [
    0x00,
    {
      assocreq: 0x00,
      "assoc-req": 0x00,
      assocresp: 0x10,
      "assoc-resp": 0x10,
      reassocreq: 0x20,
      "reassoc-req": 0x20,
      reassocresp: 0x30,
      "reassoc-resp": 0x30,
      probereq: 0x40,
      "probe-req": 0x40,
      proberesp: 0x50,
      "probe-resp": 0x50,
      beacon: 0x80,
      atim: 0x90,
      disassoc: 0xa0,
      disassociation: 0xa0,
      auth: 0xb0,
      authentication: 0xb0,
      deauth: 0xc0,
      deauthentication: 0xc0,
    },
  ],
  [0x04, { "ps-poll": 0xa0, rts: 0xb0, cts: 0xc0, ack: 0xd0, "cf-end": 0xe0, "cf-end-ack": 0xf0 }],
  [
    0x08,
    {
      data: 0x00,
      "data-cf-ack": 0x10,
      "data-cf-poll": 0x20,
      "data-cf-ack-poll": 0x30,
      null: 0x40,
      "cf-ack": 0x50,
      "cf-poll": 0x60,
      "cf-ack-poll": 0x70,
      "qos-data": 0x80,
      "qos-data-cf-ack": 0x90,
      "qos-data-cf-poll": 0xa0,
      "qos-data-cf-ack-poll": 0xb0,
      qos: 0xc0,
      "qos-cf-poll": 0xe0,
      "qos-cf-ack-poll": 0xf0,
    },
  ],
];
export const lookupCi = (table: Record<string, number>, s: string): number => {
  const k = Object.keys(table).find((n) => n.toLowerCase() === s.toLowerCase());
  return k === undefined ? -1 : table[k];
};
