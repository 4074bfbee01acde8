/**
 * Name resolution for filter expressions, from the files libpcap's resolver reads: hosts, networks,
 * ethers, services and protocols. The directory is injectable (tests use ../shared/pcap-filter's fixture);
 * there are no DNS or NIS lookups. Built-in tables (Ethernet protocol and LLC names) are libpcap's.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type NameFile = "hosts" | "networks" | "ethers" | "services" | "protocols";

export interface HostAddress {
  family: 4 | 6;
  /** IPv4: one host-order word; IPv6: four host-order words. */
  words: number[];
}

const ETHER_PROTOS: Record<string, number> = {
  aarp: 0x80f3,
  arp: 0x0806,
  atalk: 0x809b,
  decnet: 0x6003,
  ip: 0x0800,
  ip6: 0x86dd,
  lat: 0x6004,
  loopback: 0x9000,
  mopdl: 0x6001,
  moprc: 0x6002,
  rarp: 0x8035,
  sca: 0x6007,
};

const LLC_PROTOS: Record<string, number> = { iso: 0xfe, stp: 0x42, ipx: 0xe0, netbeui: 0xf0 };

const lines = (text: string): string[][] =>
  text
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l.length > 0)
    .map((l) => l.split(/\s+/));

/** Parse a dotted IPv4 address with 1-4 parts (libpcap's __pcap_atoin): [value, length in bits] or null. */
export function atoin(s: string): [number, number] | null {
  let addr = 0;
  let len = 0;
  for (const part of s.split(".")) {
    let n = 0;
    for (const ch of part) {
      if (n > 25) return null;
      n = n * 10 + (ch.charCodeAt(0) - 48);
    }
    if (n > 255) return null;
    addr = ((addr << 8) | (n & 0xff)) >>> 0;
    len += 8;
  }
  return [addr, len];
}

/** inet_network(3): a dotted network number, right-aligned (e.g. "10.20" → 0x0a14). */
function inetNetwork(s: string): number | null {
  const parts = s.split(".");
  if (parts.length > 4) return null;
  let v = 0;
  for (const p of parts) {
    const n = /^0x[0-9a-f]+$/i.test(p) ? Number.parseInt(p, 16) : /^[0-9]+$/.test(p) ? Number.parseInt(p, 10) : Number.NaN;
    if (!Number.isFinite(n) || n > 255) return null;
    v = ((v << 8) | n) >>> 0;
  }
  return v;
}

/** Parse an IPv6 literal into four host-order words, or null. */
export function parseIpv6(text: string): number[] | null {
  let s = text;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const a = atoin(v4[2]);
    if (a?.[1] !== 32) return null;
    tail = [a[0] >>> 16, a[0] & 0xffff];
    s = v4[1].endsWith("::") ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const group = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  if (!head || !rest) return null;
  const given = head.length + rest.length + tail.length;
  let g16: number[];
  if (halves.length === 2) {
    if (given > 7) return null;
    g16 = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  } else {
    if (given !== 8) return null;
    g16 = [...head, ...tail];
  }
  return [0, 1, 2, 3].map((i) => ((g16[2 * i] << 16) | g16[2 * i + 1]) >>> 0);
}

/** Parse a MAC address in any of libpcap's spellings (xx:xx:.., xx-xx-.., xx.xx.., xxxx.xxxx.xxxx, 12 digits). */
export function parseMac(text: string): Uint8Array | null {
  let hex: string[];
  if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(text) || /^[0-9a-fA-F]{12}$/.test(text)) {
    const d = text.replace(/\./g, "");
    hex = [0, 2, 4, 6, 8, 10].map((i) => d.slice(i, i + 2));
  } else {
    hex = text.split(/[:.-]/);
    if (hex.length !== 6 || hex.some((h) => !/^[0-9a-fA-F]{1,2}$/.test(h))) return null;
  }
  return Uint8Array.from(hex.map((h) => Number.parseInt(h, 16)));
}

export class NameDb {
  private readonly files: Partial<Record<NameFile, string>>;

  constructor(files: Partial<Record<NameFile, string>> = {}) {
    this.files = files;
  }

  /** Read the files from a directory, falling back to /etc for any the directory lacks. */
  static fromDirectory(dir = "/etc"): NameDb {
    const files: Partial<Record<NameFile, string>> = {};
    for (const f of ["hosts", "networks", "ethers", "services", "protocols"] as const) {
      for (const d of [dir, "/etc"]) {
        const p = join(d, f);
        if (existsSync(p)) {
          files[f] = readFileSync(p, "utf8");
          break;
        }
      }
    }
    return new NameDb(files);
  }

  private table(f: NameFile): string[][] {
    return lines(this.files[f] ?? "");
  }

  /** Addresses of a host name or numeric address, ordered as getaddrinfo sorts them here (IPv6 first). */
  hostAddresses(name: string): HostAddress[] | null {
    const a4 = /^\d+(\.\d+){0,3}$/.test(name) ? atoin(name) : null;
    if (a4 && a4[1] === 32) return [{ family: 4, words: [a4[0]] }];
    const a6 = name.includes(":") ? parseIpv6(name) : null;
    if (a6) return [{ family: 6, words: a6 }];
    const v4: HostAddress[] = [];
    const v6: HostAddress[] = [];
    const lower = name.toLowerCase();
    for (const [addr, ...names] of this.table("hosts")) {
      if (!addr || !names.some((n) => n.toLowerCase() === lower)) continue;
      if (addr.includes(":")) {
        const w = parseIpv6(addr);
        if (w && !v6.some((h) => h.words.every((x, i) => x === w[i]))) v6.push({ family: 6, words: w });
      } else {
        const w = atoin(addr);
        if (w && w[1] === 32 && !v4.some((h) => h.words[0] === w[0])) v4.push({ family: 4, words: [w[0]] });
      }
    }
    const all = [...v6, ...v4];
    return all.length > 0 ? all : null;
  }

  /** getnetbyname: the network number (right-aligned), or 0 when unknown. */
  network(name: string): number {
    const lower = name.toLowerCase();
    for (const [net, num] of this.table("networks")) {
      if (net?.toLowerCase() === lower && num) return inetNetwork(num) ?? 0;
    }
    return 0;
  }

  /** ether_hostton from the ethers file. */
  ether(name: string): Uint8Array | null {
    const lower = name.toLowerCase();
    for (const [mac, host] of this.table("ethers")) {
      if (host?.toLowerCase() === lower && mac) return parseMac(mac);
    }
    return null;
  }

  private service(name: string, proto: "tcp" | "udp"): number {
    if (/^\d+$/.test(name)) return Number.parseInt(name, 10);
    for (const [svc, portProto, ...aliases] of this.table("services")) {
      if (!portProto) continue;
      const [port, p] = portProto.split("/");
      if (p === proto && (svc === name || aliases.includes(name))) return Number.parseInt(port, 10);
    }
    return -1;
  }

  /** pcap_nametoport: [port, proto] with proto 6, 17 or -1 (both, same number), or null. */
  port(name: string): [number, number] | null {
    const tcp = this.service(name, "tcp");
    const udp = this.service(name, "udp");
    if (tcp >= 0) return [tcp, udp >= 0 && udp === tcp ? -1 : 6];
    if (udp >= 0) return [udp, 17];
    return null;
  }

  /** pcap_nametoportrange. */
  portRange(name: string): [number, number, number] | null {
    const m = /^(\d+)-(\d+)/.exec(name);
    if (m) return [Number.parseInt(m[1], 10), Number.parseInt(m[2], 10), -1];
    const dash = name.indexOf("-");
    if (dash < 0) return null;
    const a = this.port(name.slice(0, dash));
    if (!a) return null;
    const b = this.port(name.slice(dash + 1));
    if (!b) return null;
    return [a[0], b[0], a[1] !== b[1] ? -1 : b[1]];
  }

  /** getprotobyname. */
  protocol(name: string): number {
    for (const [proto, num, ...aliases] of this.table("protocols")) {
      if ((proto === name || aliases.includes(name)) && num) return Number.parseInt(num, 10);
    }
    return -1;
  }

  etherProto(name: string): number {
    return ETHER_PROTOS[name] ?? -1;
  }

  llcProto(name: string): number {
    return LLC_PROTOS[name] ?? -1;
  }
}
