// The pcap-filter compiler against tcpdump 4.99.3 / libpcap 1.10.3 (../shared/pcap-filter): for every
// recorded expression, the unoptimized program prints exactly tcpdump's `-O -d` and `-O -dd` (Ethernet and
// every other link type in the corpus), and every rejected expression fails with libpcap's own message.
// Names resolve from the corpus's fixture directory, as the recordings did.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compileExpression, FilterError, NameDb, OptimizerNotImplementedError } from "../src/cbpf/compiler/index.js";
import { formatD, formatDD } from "../src/cbpf/print.js";
import { SHARED, sharedMissing } from "./support/paths.js";

const DIR = join(SHARED, "pcap-filter");

interface Row {
  expr: string;
  linktype: string;
  source?: string[];
  unopt_d?: string | null;
  unopt_dd?: string | null;
  error?: string;
}

const rows = (file: string): Row[] =>
  readFileSync(join(DIR, file), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Row);

function compile(r: Row, names: NameDb): { d: string; dd: string } | { error: string } {
  try {
    const { program } = compileExpression(r.expr, {
      linktype: r.linktype,
      optimize: false,
      names,
      swapped: r.source?.includes("own:null_swapped") ?? false,
    });
    return { d: formatD(program), dd: formatDD(program) };
  } catch (e) {
    if (e instanceof FilterError) return { error: e.message };
    throw e;
  }
}

describe("pcap-filter compiler", { skip: sharedMissing() }, () => {
  const names = NameDb.fromDirectory(join(DIR, "fixture", "etc"));

  for (const file of ["en10mb_valid.jsonl", "other_linktypes.jsonl"]) {
    it(`unoptimized -d and -dd equal tcpdump's for every program of ${file}`, () => {
      const cases = rows(file).filter((r) => r.unopt_d);
      assert.ok(cases.length > 500);
      const wrong: string[] = [];
      for (const r of cases) {
        const got = compile(r, names);
        if (!("d" in got) || got.d !== r.unopt_d || got.dd !== r.unopt_dd) wrong.push(`${r.linktype} ${JSON.stringify(r.expr)}`);
      }
      assert.deepEqual(wrong, []);
    });
  }

  it("rejects every invalid expression with libpcap's message", () => {
    const cases = [...rows("en10mb_invalid.jsonl"), ...rows("other_linktypes.jsonl").filter((r) => r.error)];
    assert.ok(cases.length > 100);
    const wrong: string[] = [];
    for (const r of cases) {
      const got = compile(r, names);
      if (!("error" in got) || got.error !== r.error) wrong.push(`${JSON.stringify(r.expr)}: ${JSON.stringify(got)}`);
    }
    assert.deepEqual(wrong, []);
  });

  it("refuses to fake optimized output while the optimizer is missing", () => {
    assert.throws(() => compileExpression("tcp", { names }), OptimizerNotImplementedError);
    // Programs libpcap never optimizes (protochain) come out the same either way.
    const a = compileExpression("ip6 protochain 17", { names, optimize: false });
    const b = compileExpression("ip6 protochain 17", { names });
    assert.equal(formatD(a.program), formatD(b.program));
    assert.equal(a.noOptimize, true);
  });

  it("reports a scanning error only when the parser reaches it", () => {
    assert.throws(() => compileExpression("port 099", { names, optimize: false }), /number 099 contains non-octal digit/);
    assert.throws(() => compileExpression("tcp tcp 0x1ffffffff", { names, optimize: false }), /syntax error/);
  });
});
