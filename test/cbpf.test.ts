// Classic BPF against tcpdump 4.99.3 / libpcap 1.10.3 (../shared/pcap-filter): every recorded program
// listing (-dd) read back prints exactly tcpdump's -d, -dd and -ddd; and every recorded expression, compiled
// by our pcap-filter compiler optimized and unoptimized, run by our cBPF machine over small.pcap (gen_pcap.py,
// checked against pcap.sha256) and translated to eBPF on the JIT and on the interpreter, matches exactly as
// many packets as tcpdump counted.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compileExpression, NameDb } from "../src/cbpf/compiler/index.js";
import { compileFilter } from "../src/cbpf/filter.js";
import type { CbpfInsn } from "../src/cbpf/insn.js";
import { CbpfParseError, parseCbpf } from "../src/cbpf/parse.js";
import { openCapture } from "../src/cbpf/pcap.js";
import { formatD, formatDD, formatDDD } from "../src/cbpf/print.js";
import { CbpfValidationError, runCbpf, validateCbpf } from "../src/cbpf/vm.js";
import { sharedMissing } from "./support/paths.js";
import { corpusRows, PCAP_FILTER_DIR } from "./support/pcap-corpus.js";
import { smallPcap } from "./support/small-pcap.js";

const DIR = PCAP_FILTER_DIR;

const cases = corpusRows;

describe("classic BPF listings", { skip: sharedMissing() }, () => {
  it("print every recorded program exactly as tcpdump -d, -dd and -ddd do", () => {
    let programs = 0;
    const differ: string[] = [];
    for (const file of ["en10mb_valid.jsonl", "other_linktypes.jsonl"]) {
      for (const c of cases(file)) {
        for (const [dd, d, ddd] of [
          [c.unopt_dd, c.unopt_d, undefined],
          [c.opt_dd, c.opt_d, c.opt_ddd],
        ] as const) {
          if (!dd || !d) continue;
          const program = parseCbpf(dd);
          programs++;
          if (formatD(program) !== d) differ.push(`${c.linktype} '${c.expr}' -d`);
          if (formatDD(program) !== dd) differ.push(`${c.linktype} '${c.expr}' -dd`);
          if (ddd && formatDDD(program) !== ddd) differ.push(`${c.linktype} '${c.expr}' -ddd`);
          if (ddd) assert.deepEqual(parseCbpf(ddd), program);
        }
      }
    }
    console.log(`# cBPF listings identical to tcpdump's: ${programs - differ.length}/${programs} programs`);
    assert.deepEqual(differ.slice(0, 10), []);
  });

  it("refuse malformed listings and programs, naming the line or instruction", () => {
    assert.throws(
      () => parseCbpf("{ 0x28, 0, 0, 0x0000000c },\n{ 0x6, 0, 0 },\n"),
      (e: unknown) => e instanceof CbpfParseError && e.line === 2,
    );
    assert.throws(() => parseCbpf("2\n6 0 0 0\n"), /line 1: the count says 2 instructions, 1 follow/);
    assert.throws(() => parseCbpf("{ 0x28, 300, 0, 0x0 },"), /jt 300 is out of range/);
    const bad = (p: CbpfInsn[], message: RegExp): void => {
      assert.throws(
        () => validateCbpf(p),
        (e: unknown) => e instanceof CbpfValidationError && message.test(e.message),
      );
    };
    bad(
      [
        { code: 0x15, jt: 5, jf: 0, k: 0 },
        { code: 0x6, jt: 0, jf: 0, k: 0 },
      ],
      /instruction 0: conditional jump past the end/,
    );
    bad(
      [
        { code: 0x60, jt: 0, jf: 0, k: 16 },
        { code: 0x6, jt: 0, jf: 0, k: 0 },
      ],
      /instruction 0: scratch index 16/,
    );
    bad(
      [
        { code: 0x34, jt: 0, jf: 0, k: 0 },
        { code: 0x6, jt: 0, jf: 0, k: 0 },
      ],
      /division by constant zero/,
    );
    bad([{ code: 0x0, jt: 0, jf: 0, k: 0 }], /must end with a return/);
  });
});

describe("the cBPF machine", { skip: sharedMissing() }, () => {
  it("matches as many packets of small.pcap as tcpdump, for every recorded expression, on all three engines", {
    skip: smallPcap() ? undefined : "python3 not available to generate small.pcap",
  }, () => {
    const path = smallPcap() as string;
    const capture = openCapture(path);
    const packets: Array<{ data: Uint8Array; wire: number }> = [];
    for (const p of capture.packets()) packets.push({ data: p.data.slice(), wire: p.wireLength }); // views are reused: copy
    capture.close();
    assert.equal(packets.length, 20000);
    const byExpr = new Map(cases("en10mb_valid.jsonl").map((c) => [c.expr, c]));
    const counts = readFileSync(join(DIR, "counts_small20k.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { expr: string; count: number; count_unopt?: number; note?: string })
      .filter((c) => c.note === undefined);
    const differ: string[] = [];
    let compared = 0;
    // Our compiler's program for each expression (optimized, as tcpdump runs it, and unoptimized), on the
    // cBPF machine and translated to eBPF on both engines.
    const names = NameDb.fromDirectory(join(DIR, "fixture", "etc"));
    const count = (expr: string, optimize: boolean): number => {
      const { program } = compileExpression(expr, { names, optimize });
      validateCbpf(program);
      const results = (["cbpf", "jit", "interp"] as const).map((engine) => {
        const filter =
          engine === "cbpf" ? { run: (d: Uint8Array, w: number) => runCbpf(program, d, w) } : compileFilter(program, { engine });
        let n = 0;
        for (const p of packets) if (filter.run(p.data, p.wire) !== 0) n++;
        return n;
      });
      if (new Set(results).size !== 1) differ.push(`'${expr}': cBPF ${results[0]}, JIT ${results[1]}, interpreter ${results[2]}`);
      return results[0] as number;
    };
    for (const c of counts) {
      const e = byExpr.get(c.expr);
      if (!e?.opt_dd) continue;
      compared++;
      const opt = count(c.expr, true);
      if (opt !== c.count) differ.push(`'${c.expr}' optimized: ${opt}, tcpdump ${c.count}`);
      if (e.unopt_dd && c.count_unopt !== undefined) {
        const unopt = count(c.expr, false);
        if (unopt !== c.count_unopt) differ.push(`'${c.expr}' unoptimized: ${unopt}, tcpdump ${c.count_unopt}`);
      }
    }
    console.log(`# cBPF match counts on small.pcap equal to tcpdump's: ${compared - differ.length}/${compared} expressions`);
    assert.deepEqual(differ.slice(0, 10), []);
    assert.ok(compared > 100, `only ${compared} expressions compared`);
  });
});
