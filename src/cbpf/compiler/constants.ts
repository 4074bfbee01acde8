/** Protocol numbers the code generator compares against (ethertype.h, llc.h, ppp.h, sll.h of libpcap). */

export const ETHERMTU = 1500;

export const ETHERTYPE = {
  IP: 0x0800,
  ARP: 0x0806,
  REVARP: 0x8035,
  IPV6: 0x86dd,
  ATALK: 0x809b,
  AARP: 0x80f3,
  DN: 0x6003,
  SCA: 0x6007,
  LAT: 0x6004,
  MOPDL: 0x6001,
  MOPRC: 0x6002,
  IPX: 0x8137,
  NS: 0x0600,
  VLAN_8021Q: 0x8100,
  VLAN_8021AD: 0x88a8,
  VLAN_8021QINQ: 0x9100,
  MPLS: 0x8847,
  PPPOED: 0x8863,
  PPPOES: 0x8864,
  TEB: 0x6558,
} as const;

export const LLCSAP = {
  IP: 0x06,
  ISONS: 0xfe,
  NETBEUI: 0xf0,
  IPX: 0xe0,
  SNAP: 0xaa,
  STP_8021D: 0x42,
} as const;

export const LINUX_SLL_P_802_3 = 0x0001;
export const LINUX_SLL_P_802_2 = 0x0004;
export const LINUX_SLL_OUTGOING = 4;

export const PPP = {
  IP: 0x0021,
  OSI: 0x0023,
  NS: 0x0025,
  DECNET: 0x0027,
  APPLE: 0x0029,
  IPX: 0x002b,
  VJC: 0x002d,
  VJNC: 0x002f,
  BRPDU: 0x0031,
  IPV6: 0x0057,
  MPLS_UCAST: 0x0281,
} as const;

export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  TCP: 6,
  IGRP: 9,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  PIM: 103,
  VRRP: 112,
  CARP: 112,
  SCTP: 132,
} as const;

/** pcap_nametoport's "either protocol" answer. */
export const PROTO_UNDEF = -1;

export const ISO = {
  CLNP: 0x81,
  ESIS: 0x82,
  ISIS: 0x83,
} as const;

export const ISIS_PDU = {
  L1_LAN_IIH: 15,
  L2_LAN_IIH: 16,
  PTP_IIH: 17,
  L1_LSP: 18,
  L2_LSP: 20,
  L1_CSNP: 24,
  L2_CSNP: 25,
  L1_PSNP: 26,
  L2_PSNP: 27,
} as const;

/** Qualifiers (gencode.h Q_*). */
export const Q = {
  DEFAULT: 0,
  UNDEF: 255,
  // address types
  HOST: 1,
  NET: 2,
  PORT: 3,
  GATEWAY: 4,
  PROTO: 5,
  PROTOCHAIN: 6,
  PORTRANGE: 7,
  // protocols
  LINK: 1,
  IP: 2,
  ARP: 3,
  RARP: 4,
  SCTP: 5,
  TCP: 6,
  UDP: 7,
  ICMP: 8,
  IGMP: 9,
  IGRP: 10,
  ATALK: 11,
  DECNET: 12,
  LAT: 13,
  SCA: 14,
  MOPRC: 15,
  MOPDL: 16,
  IPV6: 17,
  ICMPV6: 18,
  AH: 19,
  ESP: 20,
  PIM: 21,
  VRRP: 22,
  AARP: 23,
  ISO: 24,
  ESIS: 25,
  ISIS: 26,
  CLNP: 27,
  STP: 28,
  IPX: 29,
  NETBEUI: 30,
  ISIS_L1: 31,
  ISIS_L2: 32,
  ISIS_IIH: 33,
  ISIS_SNP: 34,
  ISIS_CSNP: 35,
  ISIS_PSNP: 36,
  ISIS_LSP: 37,
  RADIO: 38,
  CARP: 39,
  // directions
  SRC: 1,
  DST: 2,
  OR: 3,
  AND: 4,
  ADDR1: 5,
  ADDR2: 6,
  ADDR3: 7,
  ADDR4: 8,
  RA: 9,
  TA: 10,
} as const;

/** The keyword of each protocol qualifier, as libpcap's messages spell it. */
export const PROTO_QUAL_NAMES: Record<number, string> = {
  [Q.TCP]: "tcp",
  [Q.SCTP]: "sctp",
  [Q.UDP]: "udp",
  [Q.ICMP]: "icmp",
  [Q.IGMP]: "igmp",
  [Q.IGRP]: "igrp",
  [Q.PIM]: "pim",
  [Q.VRRP]: "vrrp",
  [Q.CARP]: "carp",
  [Q.ICMPV6]: "icmp6",
  [Q.AH]: "ah",
  [Q.ESP]: "esp",
  [Q.ESIS]: "esis",
  [Q.ISIS]: "isis",
  [Q.CLNP]: "clnp",
  [Q.STP]: "stp",
  [Q.IPX]: "ipx",
  [Q.NETBEUI]: "netbeui",
  [Q.RADIO]: "radio",
  [Q.AARP]: "aarp",
};

export interface Qual {
  addr: number;
  proto: number;
  dir: number;
}

export const QERR: Qual = { addr: Q.UNDEF, proto: Q.UNDEF, dir: Q.UNDEF };
