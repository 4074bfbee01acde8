// 802.11 behind the radio headers libpcap computes at run time — Prism (or an AVS header under Prism's link
// type), AVS, PPI and radiotap: filters compiled by tsbpf count the same packets on every engine as
// tcpdump (libpcap 1.10.3) counts in the same capture file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createPcapWriter } from "../src/cbpf/pcap.js";
import { tsbpf } from "./support/cli.js";
import { ensureTool } from "./support/tools.js";

const be32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const le16 = (v: number): number[] => [v & 0xff, v >>> 8];

/** An 802.11 data frame (QoS when asked) carrying LLC/SNAP, IPv4 and a TCP or UDP header. */
function dataFrame(opts: { qos?: boolean; proto: 6 | 17; srcPort: number; dstPort: number }): number[] {
  const mac = (last: number): number[] => [0x02, 0, 0, 0, 0, last];
  const header = [opts.qos ? 0x88 : 0x08, 0x01, 0, 0, ...mac(1), ...mac(2), ...mac(3), 0x10, 0];
  if (opts.qos) header.push(0, 0);
  const l4 = opts.proto === 6 ? [...be32(0), ...be32(1), 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0] : [0, 8, 0, 0];
  const ports = [opts.srcPort >> 8, opts.srcPort & 0xff, opts.dstPort >> 8, opts.dstPort & 0xff];
  const payload = [...ports, ...l4];
  const ip = [0x45, 0, 0, 20 + payload.length, 0, 0, 0x40, 0, 64, opts.proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  return [...header, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, ...ip, ...payload];
}

const FRAMES = [
  dataFrame({ proto: 6, srcPort: 43210, dstPort: 80 }),
  dataFrame({ qos: true, proto: 6, srcPort: 80, dstPort: 50000 }),
  dataFrame({ proto: 17, srcPort: 5353, dstPort: 53 }),
  dataFrame({ qos: true, proto: 17, srcPort: 80, dstPort: 53 }),
];

const avs = (length: number): number[] => [...be32(0x80211001), ...be32(length), ...new Array(length - 8).fill(0)];
const CAPTURES: { name: string; linktype: number; prefixes: number[][] }[] = [
  // Prism's 144 bytes; then AVS headers (64 and 72 bytes) as some drivers send under Prism's link type
  { name: "Prism", linktype: 119, prefixes: [[0x44, 0, 0, 0, ...new Array(140).fill(0)], avs(64), avs(72)] },
  { name: "AVS", linktype: 163, prefixes: [avs(64), avs(80)] },
  // version 0, flags 0, length (little-endian), DLT 105; one with a field after the header
  {
    name: "PPI",
    linktype: 192,
    prefixes: [
      [0, 0, ...le16(8), 105, 0, 0, 0],
      [0, 0, ...le16(16), 105, 0, 0, 0, ...new Array(8).fill(0)],
    ],
  },
  // radiotap: version 0, length 8 and 12, no fields present
  {
    name: "radiotap",
    linktype: 127,
    prefixes: [
      [0, 0, ...le16(8), 0, 0, 0, 0],
      [0, 0, ...le16(12), 0, 0, 0, 0, 0, 0, 0, 0],
    ],
  },
];

const EXPRESSIONS = [
  "tcp port 80",
  "udp",
  "ip host 10.0.0.2 and port 53",
  "wlan src 02:00:00:00:00:02",
  "type data subtype qos-data",
  "not tcp",
];

const tcpdump = ensureTool("tcpdump", "tcpdump", ["--version"]);

describe("filters behind radio headers", { skip: tcpdump ? undefined : "tcpdump not available" }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-radio-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const capture of CAPTURES) {
    it(`${capture.name}: match counts equal tcpdump's on the jit, interp and cbpf engines`, () => {
      const path = join(tmp, `${capture.name}.pcap`);
      const writer = createPcapWriter(path, capture.linktype);
      let seconds = 0;
      for (const prefix of capture.prefixes)
        for (const frame of FRAMES) {
          const data = Uint8Array.from([...prefix, ...frame]);
          writer.write({ seconds: seconds++, nanos: 0, data, wireLength: data.length });
        }
      writer.close();
      const counts: string[] = [];
      for (const expr of EXPRESSIONS) {
        const t = spawnSync(tcpdump as string, ["--count", "-r", path, expr], { encoding: "utf8" });
        const theirs = /^(\d+) packets?/m.exec(t.stdout)?.[1];
        const refused = /^tcpdump: (.*)$/m.exec(t.stderr)?.[1];
        assert.ok(theirs !== undefined || refused, `tcpdump --count -r ${capture.name} '${expr}': ${t.stdout}${t.stderr}`);
        counts.push(`'${expr}' ${theirs ?? "refused"}`);
        for (const engine of ["jit", "interp", "cbpf"]) {
          const ours = tsbpf(["filter", "-r", path, "--count", "--engine", engine, expr]);
          if (theirs === undefined) assert.equal(ours.stderr, `tsbpf filter: ${refused}\n`, `${capture.name} '${expr}'`);
          else {
            const expected = `${theirs} packet${theirs === "1" ? "" : "s"}\n`;
            assert.equal(ours.stdout, expected, `${capture.name} '${expr}' on ${engine}: ${ours.stderr}`);
          }
        }
      }
      console.log(`# ${capture.name}: ${counts.join(", ")}`);
    });
  }
});
