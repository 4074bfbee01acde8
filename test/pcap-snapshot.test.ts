// Records that captured more than the file's snapshot length (old Solaris captures wrote such files): libpcap
// keeps the first `snaplen` bytes, and a record longer than the link type's maximum ends the read. tsbpf's
// scan, streaming reader and writer are judged by tcpdump (libpcap 1.10.3) on the same files.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tsbpf } from "./support/cli.js";
import { ensureTool } from "./support/tools.js";

/** A little-endian Ethernet pcap with the given snapshot length and (captured, wire) records. */
function capture(snaplen: number, records: { data: Uint8Array; caplen?: number }[]): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number): void => void parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  u32(0xa1b2c3d4);
  parts.push(2, 0, 4, 0);
  u32(0);
  u32(0);
  u32(snaplen);
  u32(1);
  records.forEach((r, i) => {
    u32(i);
    u32(0);
    u32(r.caplen ?? r.data.length);
    u32(r.data.length);
    parts.push(...r.data);
  });
  return Uint8Array.from(parts);
}

/** 100 bytes with 0x55 at byte 70, past a 64-byte snapshot. */
const LONG = Uint8Array.from({ length: 100 }, (_, i) => (i === 70 ? 0x55 : i === 12 ? 0x08 : 0));
const SHORT = new Uint8Array(60);

const tcpdump = ensureTool("tcpdump", "tcpdump", ["--version"]);

describe("records longer than the snapshot length", { skip: tcpdump ? undefined : "tcpdump not available" }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-snapshot-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("are filtered and written cut to the snapshot, as tcpdump does, on every engine", () => {
    const path = join(tmp, "snap64.pcap");
    writeFileSync(path, capture(64, [{ data: LONG }, { data: SHORT }, { data: LONG }]));
    // byte 70 is past the snapshot: the load fails and the filter rejects; `len` is the wire length
    for (const expr of ["ether[70] = 0x55", "len >= 100", "ether[70] = 0x55 or len >= 100", "ether[63] = 0"]) {
      const theirs = /^(\d+) packets?/m.exec(spawnSync(tcpdump as string, ["--count", "-r", path, expr], { encoding: "utf8" }).stdout)?.[1];
      assert.ok(theirs !== undefined, expr);
      for (const engine of ["jit", "interp", "cbpf"]) {
        const ours = tsbpf(["filter", "-r", path, "--count", "--engine", engine, expr]);
        assert.equal(ours.stdout, `${theirs} packet${theirs === "1" ? "" : "s"}\n`, `'${expr}' on ${engine}: ${ours.stderr}`);
      }
    }
    const theirsOut = join(tmp, "tcpdump.pcap");
    const oursOut = join(tmp, "tsbpf.pcap");
    spawnSync(tcpdump as string, ["-r", path, "-w", theirsOut, "len >= 0"]);
    assert.equal(tsbpf(["filter", "-r", path, "-w", oursOut, "len >= 0"]).status, 0);
    assert.deepEqual(readFileSync(oursOut), readFileSync(theirsOut));
  });

  it("longer than the link type's maximum end the read with libpcap's message", () => {
    const path = join(tmp, "corrupt.pcap");
    writeFileSync(path, capture(65535, [{ data: SHORT }, { data: SHORT, caplen: 0x7fffffff }]));
    const t = spawnSync(tcpdump as string, ["-r", path, "--count", "ip"], { encoding: "utf8" });
    const message = /^tcpdump: pcap_loop: (.*)$/m.exec(t.stderr)?.[1];
    assert.equal(message, "invalid packet capture length 2147483647, bigger than snaplen of 65535");
    for (const args of [["--count"], ["--count", "--engine", "interp"], ["-w", join(tmp, "out.pcap")]]) {
      const ours = tsbpf(["filter", "-r", path, ...args, "ip"]);
      assert.equal(ours.status, 1);
      assert.equal(ours.stderr, `tsbpf filter: ${message} (byte 100)\n`, args.join(" "));
    }
  });
});
