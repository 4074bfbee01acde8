/**
 * The pcap-filter scanner: flex's longest-match rule over libpcap 1.10's token patterns (keywords, numbers
 * in decimal/octal/hex, dotted IPv4 prefixes, IPv6 literals, MAC addresses, names, `\`-escaped names and
 * the named ICMP/TCP constants). Scanning errors become error tokens that carry libpcap's message; the
 * parser reports it only if it reaches that token, as libpcap does.
 */

import { parseIpv6 } from "./names.js";

export type TokenKind = "KW" | "NUM" | "ID" | "HID" | "HID6" | "EID" | "AID" | "OP" | "ERROR" | "END";

export interface Token {
  kind: TokenKind;
  /** Keyword name (canonical), operator text, or the token's text. */
  text: string;
  value: number;
  pos: number;
  /** Characters consumed. */
  len: number;
  error?: string;
}

/** Keyword spellings → canonical keyword (the grammar's token name, lower-case). */
const KEYWORDS: Record<string, string> = {
  dst: "dst",
  src: "src",
  link: "link",
  ether: "link",
  ppp: "link",
  slip: "link",
  fddi: "link",
  tr: "link",
  wlan: "link",
  arp: "arp",
  rarp: "rarp",
  ip: "ip",
  sctp: "sctp",
  tcp: "tcp",
  udp: "udp",
  icmp: "icmp",
  igmp: "igmp",
  igrp: "igrp",
  pim: "pim",
  vrrp: "vrrp",
  carp: "carp",
  radio: "radio",
  ip6: "ip6",
  icmp6: "icmp6",
  ah: "ah",
  esp: "esp",
  atalk: "atalk",
  aarp: "aarp",
  decnet: "decnet",
  lat: "lat",
  sca: "sca",
  moprc: "moprc",
  mopdl: "mopdl",
  iso: "iso",
  esis: "esis",
  "es-is": "esis",
  isis: "isis",
  "is-is": "isis",
  l1: "l1",
  l2: "l2",
  iih: "iih",
  lsp: "lsp",
  snp: "snp",
  csnp: "csnp",
  psnp: "psnp",
  clnp: "clnp",
  stp: "stp",
  ipx: "ipx",
  netbeui: "netbeui",
  host: "host",
  net: "net",
  mask: "mask",
  port: "port",
  portrange: "portrange",
  proto: "proto",
  protochain: "protochain",
  gateway: "gateway",
  type: "type",
  subtype: "subtype",
  direction: "dir",
  dir: "dir",
  address1: "addr1",
  addr1: "addr1",
  address2: "addr2",
  addr2: "addr2",
  address3: "addr3",
  addr3: "addr3",
  address4: "addr4",
  addr4: "addr4",
  ra: "ra",
  ta: "ta",
  less: "less",
  greater: "greater",
  byte: "byte",
  broadcast: "broadcast",
  multicast: "multicast",
  and: "and",
  or: "or",
  not: "not",
  len: "len",
  length: "len",
  inbound: "inbound",
  outbound: "outbound",
  ifindex: "ifindex",
  vlan: "vlan",
  mpls: "mpls",
  pppoed: "pppoed",
  pppoes: "pppoes",
  geneve: "geneve",
  lane: "lane",
  llc: "llc",
  metac: "metac",
  bcc: "bcc",
  oam: "oam",
  oamf4: "oamf4",
  oamf4ec: "oamf4ec",
  oamf4sc: "oamf4sc",
  sc: "sc",
  ilmic: "ilmic",
  vpi: "vpi",
  vci: "vci",
  connectmsg: "connectmsg",
  metaconnect: "metaconnect",
  on: "ifname",
  ifname: "ifname",
  rset: "rset",
  ruleset: "rset",
  rnr: "rnr",
  rulenum: "rnr",
  srnr: "srnr",
  subrulenum: "srnr",
  reason: "reason",
  action: "action",
  fisu: "fisu",
  lssu: "lssu",
  lsu: "lssu",
  msu: "msu",
  hfisu: "hfisu",
  hlssu: "hlssu",
  hmsu: "hmsu",
  sio: "sio",
  opc: "opc",
  dpc: "dpc",
  sls: "sls",
  hsio: "hsio",
  hopc: "hopc",
  hdpc: "hdpc",
  hsls: "hsls",
};

/** Named constants the scanner turns into numbers. */
const CONSTANTS: Record<string, number> = {
  icmptype: 0,
  icmpcode: 1,
  "icmp-echoreply": 0,
  "icmp-unreach": 3,
  "icmp-sourcequench": 4,
  "icmp-redirect": 5,
  "icmp-echo": 8,
  "icmp-routeradvert": 9,
  "icmp-routersolicit": 10,
  "icmp-timxceed": 11,
  "icmp-paramprob": 12,
  "icmp-tstamp": 13,
  "icmp-tstampreply": 14,
  "icmp-ireq": 15,
  "icmp-ireqreply": 16,
  "icmp-maskreq": 17,
  "icmp-maskreply": 18,
  icmp6type: 0,
  icmp6code: 1,
  "icmp6-destinationunreach": 1,
  "icmp6-packettoobig": 2,
  "icmp6-timeexceeded": 3,
  "icmp6-parameterproblem": 4,
  "icmp6-echo": 128,
  "icmp6-echoreply": 129,
  "icmp6-multicastlistenerquery": 130,
  "icmp6-multicastlistenerreportv1": 131,
  "icmp6-multicastlistenerdone": 132,
  "icmp6-routersolicit": 133,
  "icmp6-routeradvert": 134,
  "icmp6-neighborsolicit": 135,
  "icmp6-neighboradvert": 136,
  "icmp6-redirect": 137,
  "icmp6-routerrenum": 138,
  "icmp6-nodeinformationquery": 139,
  "icmp6-nodeinformationresponse": 140,
  "icmp6-ineighbordiscoverysolicit": 141,
  "icmp6-ineighbordiscoveryadvert": 142,
  "icmp6-multicastlistenerreportv2": 143,
  "icmp6-homeagentdiscoveryrequest": 144,
  "icmp6-homeagentdiscoveryreply": 145,
  "icmp6-mobileprefixsolicit": 146,
  "icmp6-mobileprefixadvert": 147,
  "icmp6-certpathsolicit": 148,
  "icmp6-certpathadvert": 149,
  "icmp6-multicastrouteradvert": 151,
  "icmp6-multicastroutersolicit": 152,
  "icmp6-multicastrouterterm": 153,
  tcpflags: 13,
  "tcp-fin": 0x01,
  "tcp-syn": 0x02,
  "tcp-rst": 0x04,
  "tcp-push": 0x08,
  "tcp-ack": 0x10,
  "tcp-urg": 0x20,
  "tcp-ece": 0x40,
  "tcp-cwr": 0x80,
};

const N = "(?:0[xX][0-9A-Fa-f]+|[0-9]+)";
const B = "[0-9A-Fa-f][0-9A-Fa-f]?";
const B2 = "[0-9A-Fa-f]{4}";

type Rule = { re: RegExp; ipv6?: boolean; make: (text: string, pos: number) => Token | null };

/** The longest entry of `table` that the word at the cursor starts with (flex's literal patterns). */
function literal(word: string, table: Record<string, unknown>): string {
  for (let n = Math.min(word.length, 40); n > 0; n--) if (word.slice(0, n) in table) return word.slice(0, n);
  return "";
}

/** stoulen: a number in C syntax (0x hex, leading-0 octal, decimal), checked for 32-bit overflow. */
function number(text: string, pos: number): Token {
  let base = 10;
  let digits = text;
  if (/^0[xX]/.test(text)) {
    base = 16;
    digits = text.slice(2);
  } else if (text.length > 1 && text.startsWith("0")) {
    base = 8;
    digits = text.slice(1);
    if (/[89]/.test(digits))
      return { kind: "ERROR", text, value: 0, pos, len: text.length, error: `number ${text} contains non-octal digit` };
  }
  let v = 0;
  for (const ch of digits) {
    v = v * base + Number.parseInt(ch, base);
    if (v > 0xffffffff) return { kind: "ERROR", text, value: 0, pos, len: text.length, error: `number ${text} overflows 32 bits` };
  }
  return { kind: "NUM", text, value: v, pos, len: text.length };
}

const tok =
  (kind: TokenKind) =>
  (text: string, pos: number): Token => ({ kind, text, value: 0, pos, len: text.length });

const RULES: Rule[] = [
  {
    re: /[-_.A-Za-z0-9]+/y,
    make: (text, pos) => {
      const kw = literal(text, KEYWORDS);
      return kw ? { kind: "KW", text: KEYWORDS[kw], value: 0, pos, len: kw.length } : null;
    },
  },
  { re: /(?:>=|<=|!=|==|<<|>>|&&|\|\|)/y, make: (text, pos) => op2(text, pos) },
  { re: /[+\-*/%:[\]!<>()&|^=]/y, make: (text, pos) => ({ kind: "OP", text, value: 0, pos, len: 1 }) },
  { re: new RegExp(`\\$${B}`, "y"), make: tok("AID") },
  {
    re: new RegExp(
      `(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|${B2}${B2}${B2})`,
      "y",
    ),
    make: tok("EID"),
  },
  { re: new RegExp(N, "y"), make: number },
  { re: new RegExp(`${N}\\.${N}(?:\\.${N}(?:\\.${N})?)?`, "y"), make: tok("HID") },
  { re: /[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/y, ipv6: true, make: tok("HID6") },
  {
    re: new RegExp(`${B}:+(?:${B}:+)+`, "y"),
    make: (text, pos) => ({ kind: "ERROR", text, value: 0, pos, len: text.length, error: `bogus ethernet address ${text}` }),
  },
  {
    re: /[-_.A-Za-z0-9]+/y,
    make: (text, pos) => {
      const c = literal(text, CONSTANTS);
      return c ? { kind: "NUM", text: c, value: CONSTANTS[c], pos, len: c.length } : null;
    },
  },
  { re: /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y, make: tok("ID") },
  { re: /\\[^ !()\n\t]+/y, make: (text, pos) => ({ kind: "ID", text: text.slice(1), value: 0, pos, len: text.length }) },
];

function op2(text: string, pos: number): Token {
  const t = text === "&&" ? "and" : text === "||" ? "or" : text === "==" ? "=" : text;
  return { kind: t === "and" || t === "or" ? "KW" : "OP", text: t, value: 0, pos, len: 2 };
}

/** Longest valid IPv6 literal at the start of `text` (flex's V6 patterns accept exactly those). */
function ipv6Prefix(text: string): string {
  for (let n = text.length; n > 1; n--) {
    const cand = text.slice(0, n);
    if (cand.includes(":") && parseIpv6(cand)) return cand;
  }
  return "";
}

export function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < input.length) {
    const ch = input[pos];
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      pos++;
      continue;
    }
    let best: Token | null = null;
    let bestLen = 0;
    for (const rule of RULES) {
      rule.re.lastIndex = pos;
      const m = rule.re.exec(input);
      if (!m) continue;
      const t = rule.make(rule.ipv6 ? ipv6Prefix(m[0]) : m[0], pos);
      if (!t) continue;
      const len = t.len;
      if (len === 0 || len <= bestLen) continue;
      best = t;
      bestLen = len;
    }
    if (!best) {
      out.push({ kind: "ERROR", text: ch, value: 0, pos, len: 1 });
      return out;
    }
    out.push(best);
    if (best.kind === "ERROR") return out;
    pos += bestLen;
  }
  out.push({ kind: "END", text: "", value: 0, pos, len: 0 });
  return out;
}
