// Encoding: decode(encode(i)) == i for every generated valid instruction, in both byte orders; and the
// bytes of known instructions checked both ways against the conformance suite's pre-assembled programs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decode, encode, parseHex, toHex } from "../src/isa/codec.js";
import { DecodeError } from "../src/isa/errors.js";
import { insn } from "../src/isa/instruction.js";
import { instructionList } from "./support/gen.js";

describe("instruction codec", () => {
  it("decode(encode(i)) == i over generated instructions (little-endian)", () => {
    fc.assert(
      fc.property(instructionList, (insns) => {
        assert.deepEqual(decode(encode(insns)), insns);
      }),
      { numRuns: 2000 },
    );
  });

  it("decode(encode(i)) == i over generated instructions (big-endian)", () => {
    fc.assert(
      fc.property(instructionList, (insns) => {
        assert.deepEqual(decode(encode(insns, "big"), "big"), insns);
      }),
      { numRuns: 500 },
    );
  });

  // Value → bytes and bytes → value, for encodings taken from bpf_conformance's raw/tests.jsonl.
  const table: Array<[string, Parameters<typeof insn>[0]]> = [
    ["b4 01 00 00 02 00 00 00", { op: 0xb4, dst: 1, imm: 2 }],
    ["0c 10 00 00 00 00 00 00", { op: 0x0c, src: 1 }],
    ["79 a0 f8 ff 00 00 00 00", { op: 0x79, dst: 0, src: 10, off: -8 }],
    ["85 10 00 00 09 00 00 00", { op: 0x85, src: 1, imm: 9 }],
    ["bc 10 08 00 00 00 00 00", { op: 0xbc, dst: 0, src: 1, off: 8 }],
    ["18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11", { op: 0x18, imm: 0x55667788, imm2: 0x11223344 }],
    ["06 00 00 00 fc ff ff ff", { op: 0x06, imm: -4 }],
  ];
  it("matches known encodings both ways", () => {
    for (const [hex, fields] of table) {
      assert.equal(toHex(encode([insn(fields)])), hex);
      assert.deepEqual(decode(parseHex(hex)), [insn(fields)]);
    }
  });

  it("swaps register nibbles in big-endian objects", () => {
    assert.equal(toHex(encode([insn({ op: 0xbf, dst: 1, src: 2 })], "big")), "bf 12 00 00 00 00 00 00");
    assert.equal(toHex(encode([insn({ op: 0x07, dst: 1, imm: 1 })], "big")), "07 10 00 00 00 00 00 01");
  });

  it("rejects truncated programs and broken lddw pairs with a location", () => {
    assert.throws(
      () => decode(new Uint8Array(12)),
      (e: unknown) => e instanceof DecodeError && e.byteOffset === 8,
    );
    assert.throws(
      () => decode(parseHex("b7 00 00 00 00 00 00 00 18 01 00 00 00 00 00 00")),
      (e: unknown) => e instanceof DecodeError && e.code === "INCOMPLETE_LDDW" && e.pc === 1,
    );
    assert.throws(
      () => decode(parseHex("18 01 00 00 00 00 00 00 95 00 00 00 00 00 00 00")),
      (e: unknown) => e instanceof DecodeError && e.code === "INCOMPLETE_LDDW" && e.pc === 0,
    );
  });

  it("parses hex in the formats the suite and users write", () => {
    assert.deepEqual(parseHex("b7 00\n00 00"), new Uint8Array([0xb7, 0, 0, 0]));
    assert.deepEqual(parseHex("0xb7000000"), new Uint8Array([0xb7, 0, 0, 0]));
    assert.deepEqual(parseHex("0x5566778800000018\n0x1122334400000000"), parseHex("18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11"));
    assert.throws(() => parseHex("b7 0g"), DecodeError);
    assert.throws(() => parseHex("b7 0"), DecodeError);
  });
});
