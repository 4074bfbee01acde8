// `tsbpf filter`, the real binary, against tcpdump's recorded output (../shared/pcap-filter): listings with
// -d/-dd/-ddd (optimized, and -O), -y link types, match counts over small.pcap on each engine, -w and -c,
// and libpcap's error messages with exit status 1.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type CliResult, tsbpf as run } from "./support/cli.js";
import { sharedMissing } from "./support/paths.js";
import { corpusRows, PCAP_FILTER_DIR } from "./support/pcap-corpus.js";
import { smallPcap } from "./support/small-pcap.js";

const DIR = PCAP_FILTER_DIR;
const ETC = join(DIR, "fixture", "etc");

const tsbpf = (...args: string[]): CliResult => run(["filter", ...args]);

const rows = corpusRows;

describe("tsbpf filter", { skip: sharedMissing() }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-filter-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("prints -d, -dd, -ddd and -O -d exactly as tcpdump", () => {
    const sample = rows("en10mb_valid.jsonl").filter((r, i) => r.opt_d && r.unopt_d && i % 40 === 0);
    assert.ok(sample.length > 10);
    for (const r of sample) {
      assert.equal(tsbpf("--etc", ETC, "-d", "--", r.expr).stdout, r.opt_d, r.expr);
      assert.equal(tsbpf("--etc", ETC, "-dd", "--", r.expr).stdout, r.opt_dd, r.expr);
      assert.equal(tsbpf("--etc", ETC, "-ddd", "--", r.expr).stdout, r.opt_ddd, r.expr);
      assert.equal(tsbpf("--etc", ETC, "-O", "-d", "--", r.expr).stdout, r.unopt_d, r.expr);
    }
  });

  it("compiles for the link type -y names", () => {
    // (rows recorded from a byte-swapped DLT_NULL file need that file: -y alone means this machine's order)
    const sample = rows("other_linktypes.jsonl").filter((x, i) => x.opt_d && !x.source?.includes("own:null_swapped") && i % 25 === 0);
    for (const r of sample)
      assert.equal(tsbpf("--etc", ETC, "-y", r.linktype, "-d", "--", r.expr).stdout, r.opt_d, `${r.linktype} ${r.expr}`);
  });

  it("rejects a bad expression with libpcap's message and status 1", () => {
    const r = tsbpf("-d", "host 1.2.3.256");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /invalid IPv4 address '1\.2\.3\.256'/);
    assert.equal(tsbpf("-d", "tcp and and").status, 1);
    assert.equal(tsbpf("--bogus").status, 2);
  });

  it("counts matches over small.pcap as tcpdump does, on every engine; -w and -c", {
    skip: smallPcap() ? undefined : "python3 not available to generate small.pcap",
  }, () => {
    const pcap = smallPcap() as string;
    const counts = readFileSync(join(DIR, "counts_small20k.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { expr: string; count: number; note?: string })
      .filter((c, i) => c.note === undefined && i % 60 === 1);
    assert.ok(counts.length > 8);
    for (const c of counts)
      for (const engine of ["jit", "interp", "cbpf"]) {
        const r = tsbpf("--etc", ETC, "-r", pcap, "--count", "--engine", engine, "--", c.expr);
        assert.equal(r.stdout, `${c.count} packet${c.count === 1 ? "" : "s"}\n`, `${engine} ${c.expr}`);
      }
    const out = join(tmp, "syn.pcap");
    const tcp80 = counts.find(() => true) as { expr: string; count: number };
    assert.equal(tsbpf("--etc", ETC, "-r", pcap, "-w", out, "--", tcp80.expr).status, 0);
    assert.equal(tsbpf("-r", out, "--count").stdout, `${tcp80.count} packet${tcp80.count === 1 ? "" : "s"}\n`);
    const listed = tsbpf("-r", pcap, "-c", "3", "udp").stdout.trim().split("\n");
    assert.equal(listed.length, 3);
    assert.match(listed[0] ?? "", /^\d\d:\d\d:\d\d\.\d{6} length \d+$/);
  });
});
