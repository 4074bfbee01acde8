// Random pcap-filter expressions compiled by tsbpf and by tcpdump 4.99.3 / libpcap 1.10.3 itself (installed
// with apt when missing, as on CI): optimized and unoptimized listings must be identical, and so must the
// error for every expression libpcap rejects. Expressions use numeric addresses only (no name lookups).
// Scale with PCAP_FUZZ_RUNS (default 400); a failing expression is printed for a regression case.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compileExpression, FilterError } from "../src/cbpf/compiler/index.js";
import { createPcapWriter } from "../src/cbpf/pcap.js";
import { formatD } from "../src/cbpf/print.js";
import { rng } from "./support/rng.js";
import { ensureTool } from "./support/tools.js";

/** A random expression from the pcap-filter grammar's building blocks. */
function randomExpression(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const num = (max: number): number => Math.floor(r() * max);
  const ip = (): string => `${num(256)}.${num(256)}.${num(256)}.${num(256)}`;
  const arith = (depth: number): string => {
    const leaf = (): string =>
      pick([
        () => String(num(300)),
        () => `0x${num(65536).toString(16)}`,
        () => "len",
        () => `${pick(["ip", "tcp", "udp", "icmp", "ether", "ip6", "arp"])}[${num(40)}${pick(["", ":1", ":2", ":4"])}]`,
        () => pick(["tcpflags", "icmptype", "tcp-syn", "tcp-ack", "icmp-echo"]),
      ])();
    if (depth <= 0 || r() < 0.4) return leaf();
    const op = pick(["+", "-", "*", "/", "&", "|", "^", "<<", ">>", "%"]);
    const right = op === "/" || op === "%" ? String(1 + num(20)) : op === "<<" || op === ">>" ? String(num(31)) : arith(depth - 1);
    const e = `${arith(depth - 1)} ${op} ${right}`;
    return r() < 0.3 ? `(${e})` : e;
  };
  const primitive = (): string =>
    pick([
      () => pick(["ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp", "pim", "vrrp", "ah", "esp"]),
      () => pick(["atalk", "aarp", "decnet", "lat", "sca", "moprc", "mopdl", "iso", "esis", "isis", "clnp", "stp", "ipx", "netbeui"]),
      () => pick(["broadcast", "multicast", "ip multicast", "ip6 multicast", "ip broadcast", "llc", "pppoed"]),
      () => `${pick(["", "src ", "dst ", "src or dst ", "src and dst "])}${pick(["", "ip ", "arp ", "rarp "])}host ${ip()}`,
      () => `${pick(["", "src ", "dst "])}net ${num(256)}.${num(256)}.0.0/${pick([8, 12, 16, 24])}`,
      () => `net ${num(256)}.0.0.0 mask 255.0.0.0`,
      () => `${pick(["", "tcp ", "udp ", "sctp "])}${pick(["", "src ", "dst "])}port ${num(70000)}`,
      () => `${pick(["", "tcp ", "udp "])}portrange ${num(2000)}-${num(70000)}`,
      () => `${pick(["", "src ", "dst "])}ether host ${Array.from({ length: 6 }, () => num(256).toString(16).padStart(2, "0")).join(":")}`,
      () => `${pick(["ip", "ip6", "ether", ""])} proto ${num(300)}`.trim(),
      () => `${pick(["ip", "ip6", ""])} protochain ${num(140)}`.trim(),
      () => `${pick(["vlan", "mpls", "pppoes", "geneve"])}${r() < 0.5 ? ` ${num(5000)}` : ""}`,
      () => `${pick(["less", "greater"])} ${num(2000)}`,
      () => `${arith(2)} ${pick([">", "<", ">=", "<=", "=", "!=", "=="])} ${arith(2)}`,
      () => `byte ${num(40)} ${pick(["=", "<", ">", "&", "|"])} ${num(256)}`,
      () => `host ${ip()} or ${ip()}`,
      () => `port ${num(1024)} or ${num(1024)} or ${num(1024)}`,
    ])();
  const expr = (depth: number): string => {
    if (depth <= 0 || r() < 0.35) return (r() < 0.15 ? "not " : "") + primitive();
    const e = `${expr(depth - 1)} ${pick(["and", "or", "&&", "||"])} ${expr(depth - 1)}`;
    return r() < 0.3 ? `(${e})` : r() < 0.1 ? `not (${e})` : e;
  };
  return expr(3);
}

const tcpdump = ensureTool("tcpdump", "tcpdump", ["--version"]);

describe("pcap-filter compiler against tcpdump", { skip: tcpdump ? undefined : "tcpdump not available" }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-fuzz-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** tcpdump's -d listing of `expr` on an Ethernet capture, or its error, against ours. */
  const compare = (expr: string): string | undefined => {
    const file = join(tmp, "empty-forms.pcap");
    createPcapWriter(file, 1).close();
    const t = spawnSync(tcpdump as string, ["-r", file, "-d", "--", expr], { encoding: "utf8" });
    const theirs = t.status === 0 ? t.stdout : `error: ${/^tcpdump: (.*)$/m.exec(t.stderr)?.[1] ?? `status ${t.status} ${t.stderr}`}`;
    let ours: string;
    try {
      ours = formatD(compileExpression(expr, { linktype: 1 }).program);
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      ours = `error: ${e.message}`;
    }
    return ours === theirs ? undefined : `${JSON.stringify(expr)}\n${ours}\n--- tcpdump\n${theirs}`;
  };

  it("parses a protocol with a qualifier and nothing after it as libpcap does (a syntax error, not a context error)", () => {
    const differ: string[] = [];
    for (const proto of ["", "ether ", "link ", "ip ", "ip6 ", "arp ", "rarp ", "tcp ", "udp ", "decnet ", "sctp ", "wlan "])
      for (const qual of ["src", "dst", "src or dst", "host", "net", "port", "portrange", "proto", "protochain", "gateway", "src host"])
        for (const after of ["", " and tcp", " or", ")"]) {
          const d = compare(`${proto}${qual}${after}`);
          if (d) differ.push(d);
        }
    assert.deepEqual(differ.slice(0, 6), []);
  });

  it("reads DECnet addresses written with 2 to 4 dotted parts as libpcap's sscanf does", () => {
    const differ: string[] = [];
    for (const address of ["1.2", "1.2.3", "1.2.3.4", "63.1023", "64.0", "1.1024", "1.2048", "99999999999.5", "0.0", "255.255.255.255"])
      for (const form of ["decnet host", "decnet src", "decnet dst host", "decnet src or dst"]) {
        const d = compare(`${form} ${address}`);
        if (d) differ.push(d);
      }
    assert.deepEqual(differ.slice(0, 6), []);
  });

  it("compiles random expressions exactly as libpcap does", () => {
    // Mostly Ethernet; a third of the expressions on another link type (LINKTYPE_ values in the file header).
    const linktypes = [1, 1, 1, 1, 1, 1, 101, 113, 276, 0, 228, 229, 105, 108, 117, 123, 127, 119, 163, 192];
    const empty = new Map<number, string>();
    for (const lt of new Set(linktypes)) {
      const path = join(tmp, `empty-${lt}.pcap`);
      createPcapWriter(path, lt).close();
      empty.set(lt, path);
    }
    const runs = Number(process.env.PCAP_FUZZ_RUNS ?? 400);
    const differ: string[] = [];
    let rejected = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const r = rng(seed);
      const expr = randomExpression(r);
      const linktype = linktypes[Math.floor(r() * linktypes.length)] as number;
      for (const optimize of [true, false]) {
        const file = empty.get(linktype) as string;
        const t = spawnSync(tcpdump as string, ["-r", file, ...(optimize ? [] : ["-O"]), "-d", "--", expr], { encoding: "utf8" });
        const theirs = t.status === 0 ? t.stdout : `error: ${/^tcpdump: (.*)$/m.exec(t.stderr)?.[1] ?? `status ${t.status} ${t.stderr}`}`;
        let ours: string;
        try {
          ours = formatD(compileExpression(expr, { optimize, linktype }).program);
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
          ours = `error: ${e.message}`;
        }
        if (theirs.startsWith("error:")) rejected++;
        if (ours !== theirs)
          differ.push(`seed ${seed} ${optimize ? "-d" : "-O -d"} ${JSON.stringify(expr)}\n${ours}\n--- tcpdump\n${theirs}`);
      }
    }
    console.log(
      `# ${2 * runs - differ.length}/${2 * runs} random compilations identical to tcpdump's (${rejected} rejected by both or either)`,
    );
    assert.deepEqual(differ.slice(0, 6), []);
  });
});
