// Seeded mutation fuzzing of the parsers the other fuzz tests do not reach: capture files (pcap and pcapng,
// through `tsbpf filter -r` in-process), pcap-filter text, and BTF through the C dump. Each input either
// works or ends in one `tsbpf <cmd>: ...` line / a TsbpfError — never another exception, a hang or a crash.
// FUZZ_RUNS scales every campaign (scripts/fuzz.sh runs long ones); a failing seed is printed for a
// regression case.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compileExpression, FilterError } from "../src/cbpf/compiler/index.js";
import { createPcapWriter } from "../src/cbpf/pcap.js";
import type { Io } from "../src/cli/commands.js";
import { main } from "../src/cli/main.js";
import { TsbpfError } from "../src/errors.js";
import { dumpBtfC, parseBtf } from "../src/object/btf/index.js";
import { parseElf } from "../src/object/elf.js";
import { objectCorpus } from "./support/corpus.js";
import { SHARED, sharedMissing } from "./support/paths.js";
import { rng } from "./support/rng.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 0);
const runs = (short: number): number => (RUNS > 0 ? RUNS : short);

/** Byte flips, a truncation or a 32-bit field overwritten: what breaks length fields and offsets. */
function mutate(seed: Uint8Array, r: () => number): Uint8Array {
  const out = new Uint8Array(seed);
  const at = (): number => Math.floor(r() * out.length);
  switch (Math.floor(r() * 4)) {
    case 0:
      for (let k = 0, n = 1 + Math.floor(r() * 6); k < n; k++) out[at()] = Math.floor(r() * 256);
      return out;
    case 1:
      return out.subarray(0, at());
    case 2: {
      const p = at() & ~3;
      if (p + 4 <= out.length)
        new DataView(out.buffer).setUint32(p, [0, 1, 0xffffffff, 0x7fffffff, 12, 0x10000][Math.floor(r() * 6)] as number, true);
      return out;
    }
    default: {
      const p = at() & ~3;
      if (p + 4 <= out.length) new DataView(out.buffer).setUint32(p, Math.floor(r() * 0x100000000), true);
      return out;
    }
  }
}

function quietIo(): { io: Io; stderr(): string } {
  let err = "";
  return {
    io: {
      stdout: () => {},
      stderr: (t: string | Uint8Array) => {
        err += String(t);
      },
      stdin: () => new Uint8Array(0),
    },
    stderr: () => err,
  };
}

const tmp = mkdtempSync(join(tmpdir(), "tsbpf-parser-fuzz-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A classic pcap of a few TCP and UDP frames, and the same frames as pcapng (SHB, IDB, EPBs and an SPB). */
function captureSeeds(): Uint8Array[] {
  const frames = [0x06, 0x11, 0x06, 0x01].map((proto, k) => {
    const f = new Uint8Array(54 + k * 10);
    f.set([0x08, 0x00, 0x45, 0x00], 12);
    f[23] = proto;
    return f;
  });
  const pcap = join(tmp, "seed.pcap");
  const w = createPcapWriter(pcap, 1);
  for (const [k, f] of frames.entries()) w.write({ seconds: k, nanos: 0, data: f, wireLength: f.length });
  w.close();
  const block = (type: number, body: Uint8Array): Uint8Array => {
    const len = 12 + ((body.length + 3) & ~3);
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, len, true);
    b.set(body, 8);
    v.setUint32(len - 4, len, true);
    return b;
  };
  const shb = new Uint8Array(16);
  new DataView(shb.buffer).setUint32(0, 0x1a2b3c4d, true);
  new DataView(shb.buffer).setUint16(4, 1, true);
  new DataView(shb.buffer).setBigInt64(8, -1n, true);
  const idb = new Uint8Array(16); // linktype 1, snaplen, then if_tsresol = 9 (nanoseconds)
  new DataView(idb.buffer).setUint16(0, 1, true);
  new DataView(idb.buffer).setUint32(4, 65535, true);
  idb.set([9, 0, 1, 0, 9, 0, 0, 0], 8);
  const epb = (f: Uint8Array, ts: number): Uint8Array => {
    const body = new Uint8Array(20 + f.length);
    const v = new DataView(body.buffer);
    v.setUint32(8, ts, true);
    v.setUint32(12, f.length, true);
    v.setUint32(16, f.length, true);
    body.set(f, 20);
    return block(6, body);
  };
  const spb = (f: Uint8Array): Uint8Array => {
    const body = new Uint8Array(4 + f.length);
    new DataView(body.buffer).setUint32(0, f.length, true);
    body.set(f, 4);
    return block(3, body);
  };
  const parts = [block(0x0a0d0d0a, shb), block(1, idb), ...frames.slice(0, 3).map((f, k) => epb(f, k)), spb(frames[3] as Uint8Array)];
  const pcapng = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    pcapng.set(p, o);
    o += p.length;
  }
  const found = sharedMissing()
    ? []
    : ["pcapng-idb-oob.pcap", "pcapng-epb-oob.pcap", "pcapng-218-oob.pcap", "pcapng-reader-backwards.pcap"].map(
        (f) => new Uint8Array(readFileSync(join(SHARED, "fuzz-found", f))),
      );
  return [new Uint8Array(readFileSync(pcap)), pcapng, ...found];
}

describe("parser fuzzing", () => {
  it("capture files: every mutated pcap and pcapng reads or ends in one tsbpf line", async () => {
    const seeds = captureSeeds();
    const file = join(tmp, "mutated.pcap");
    const commands = [
      ["filter", "-r", file, "--count", "tcp"],
      ["filter", "-r", file, "-c", "2", "--engine", "cbpf", "udp"],
      ["filter", "-r", file, "-w", join(tmp, "out.pcap"), "ip"],
    ];
    for (let seed = 1, n = runs(1500); seed <= n; seed++) {
      const r = rng(seed);
      writeFileSync(file, mutate(seeds[Math.floor(r() * seeds.length)] as Uint8Array, r));
      const argv = commands[seed % commands.length] as string[];
      const q = quietIo();
      let status: number;
      try {
        status = await main(argv, q.io);
      } catch (e) {
        assert.fail(`seed ${seed}: ${argv.join(" ")} threw ${e instanceof Error ? e.stack : String(e)}`);
      }
      if (status !== 0) {
        const lines = q.stderr().trimEnd().split("\n");
        assert.ok(
          status === 1 && lines.length === 1 && /^tsbpf filter: /.test(lines[0] as string),
          `seed ${seed}: ${status} ${q.stderr()}`,
        );
      }
    }
  });

  it("pcap-filter text: random token strings compile or fail with a FilterError", () => {
    const words = (
      "host net port portrange proto protochain src dst ether ip ip6 arp rarp tcp udp icmp icmp6 vlan mpls pppoes geneve " +
      "and or not less greater len broadcast multicast gateway mask decnet atalk iso llc wlan type subtype dir " +
      "tcpflags tcp-syn icmptype ( ) [ ] : + - * / % & | ^ << >> = != < > <= >= ! 0 1 80 255 65535 4294967295 " +
      "10.0.0.1 10.0.0.0/8 ::1 fe80::1/64 00:11:22:33:44:55 1.2 1.2.3 0x10 \\ ip[ tcp[ ether["
    ).split(" ");
    for (let seed = 1, n = runs(4000); seed <= n; seed++) {
      const r = rng(seed);
      const parts = Array.from({ length: 1 + Math.floor(r() * 10) }, () =>
        r() < 0.9 ? (words[Math.floor(r() * words.length)] as string) : String.fromCharCode(32 + Math.floor(r() * 95)),
      );
      const expr = parts.join(r() < 0.8 ? " " : "");
      try {
        compileExpression(expr, { optimize: r() < 0.5 });
      } catch (e) {
        assert.ok(e instanceof FilterError, `seed ${seed} ${JSON.stringify(expr)}: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  });

  it("BTF: mutated sections print as C or throw a TsbpfError", { skip: sharedMissing() }, () => {
    const seeds = objectCorpus()
      .map((c) => parseElf(c.bytes).sectionByName(".BTF")?.data)
      .filter((d): d is Uint8Array => d !== undefined && d.length < 64 << 10)
      .slice(0, 40);
    assert.ok(seeds.length >= 20);
    for (let seed = 1, n = runs(2000); seed <= n; seed++) {
      const r = rng(seed);
      const bytes = mutate(seeds[Math.floor(r() * seeds.length)] as Uint8Array, r);
      try {
        dumpBtfC(parseBtf(bytes));
      } catch (e) {
        assert.ok(e instanceof TsbpfError, `seed ${seed}: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  });
});
