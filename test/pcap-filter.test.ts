// The pcap-filter compiler against tcpdump 4.99.3 / libpcap 1.10.3 (../shared/pcap-filter): for every
// recorded expression, the unoptimized program prints exactly tcpdump's `-O -d` and `-O -dd` and the optimized
// one exactly its `-d`, `-dd` and `-ddd` (Ethernet and every other link type in the corpus), and every
// rejected expression fails with libpcap's own message.
// Names resolve from the corpus's fixture directory, as the recordings did.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { compileExpression, FilterError, NameDb } from "../src/cbpf/compiler/index.js";
import { formatD, formatDD, formatDDD } from "../src/cbpf/print.js";
import { sharedMissing } from "./support/paths.js";
import { type CorpusRow, corpusRows, PCAP_FILTER_DIR } from "./support/pcap-corpus.js";

const DIR = PCAP_FILTER_DIR;
type Row = CorpusRow;
const rows = corpusRows;

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

  it("optimized -d, -dd and -ddd equal tcpdump's for every recorded program, and the same expressions are refused", () => {
    const cases = [...rows("en10mb_valid.jsonl"), ...rows("other_linktypes.jsonl")].filter((r) => r.opt_d !== undefined);
    assert.ok(cases.length > 1000);
    const wrong: string[] = [];
    for (const r of cases) {
      try {
        const { program } = compileExpression(r.expr, {
          linktype: r.linktype,
          names,
          swapped: r.source?.includes("own:null_swapped") ?? false,
        });
        if (formatD(program) !== r.opt_d || formatDD(program) !== r.opt_dd || formatDDD(program) !== r.opt_ddd)
          wrong.push(`${r.linktype} ${JSON.stringify(r.expr)}`);
      } catch (e) {
        if (!(e instanceof FilterError)) throw e;
        if (r.opt_d !== null || e.message !== (r.opt_error ?? r.error)) wrong.push(`${JSON.stringify(r.expr)}: ${e.message}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("answers any input with a program or a FilterError (never a crash or a hang)", () => {
    const words = [
      "tcp",
      "port",
      "80",
      "host",
      "1.2.3.4",
      "and",
      "or",
      "not",
      "(",
      ")",
      "[",
      "]",
      ":",
      "+",
      "-",
      "ip6",
      "src",
      "dst",
      "net",
      "/",
      "24",
      "mask",
      "vlan",
      "proto",
      "len",
      "=",
      "<",
      "!=",
      "ether",
      "00:11:22:33:44:55",
      "::1",
      "&",
      "|",
      "icmp[0]",
      "protochain",
      "gateway",
      "llc",
      "type",
      "subtype",
      "$1",
      "\\x",
      "0x1ffffffff",
      "099",
      "1e3",
    ];
    const input = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(fc.constantFrom(...words), { maxLength: 14 }).map((w) => w.join(" ")),
    );
    fc.assert(
      fc.property(input, fc.boolean(), (text, optimize) => {
        try {
          const { program } = compileExpression(text, { names, optimize });
          assert.ok(program.length > 0);
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
        }
      }),
      { numRuns: Number(process.env.FILTER_FUZZ_RUNS ?? 3000) },
    );
  });

  it("reports a scanning error only when the parser reaches it", () => {
    assert.throws(() => compileExpression("port 099", { names, optimize: false }), /number 099 contains non-octal digit/);
    assert.throws(() => compileExpression("tcp tcp 0x1ffffffff", { names, optimize: false }), /syntax error/);
  });
});
