// The inputs fuzzing found in ../shared/fuzz-found (each once a raw stack trace, a hang or a slow run) give one
// `tsbpf <cmd>: ...` line and exit 1 — or, for the pcap and BTF inputs that libpcap and bpftool read, what they
// print. And the JIT counts any budget up to 2^53 exactly, as the interpreter does.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { VmError } from "../src/exec/errors.js";
import { assemble } from "../src/isa/index.js";
import { Machine } from "../src/vm/machine.js";
import { tsbpf } from "./support/cli.js";
import { SHARED, sharedMissing } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

const FOUND = join(SHARED, "fuzz-found");
const found = (name: string): string => join(FOUND, name);

/** One line on stderr naming the command, exit 1 (2 for a usage error). */
function oneLineError(args: string[], pattern: RegExp, status = 1): void {
  const r = tsbpf(args);
  assert.equal(r.status, status, `${args.join(" ")}: status ${r.status}, stderr ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
  assert.match(lines[0] as string, /^tsbpf [a-z]+: /);
  assert.match(lines[0] as string, pattern);
}

describe("inputs found by fuzzing", { skip: sharedMissing() }, () => {
  it("objects with a section header of type SHT_NULL read as empty sections", () => {
    // libbpf ignores an inactive section header's size: both objects' programs are listed, none crashes
    for (const name of ["elf-readslot-oob.o", "elf-collection-oob.o"]) {
      const r = tsbpf(["obj", "info", found(name)]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).license, "GPL");
    }
  });

  it("BTF referring to a type that does not exist is an error naming the type and offset", () => {
    oneLineError(["btf", "dump", "file", found("btf-cdump-rangeerror.o"), "--format", "c"], /type 12 refers to type \d+.*offset 0x/);
  });

  const bpftool = ensureTool("bpftool", "bpftool", ["version"]);
  it("a member at bit offset 0xfffffff0 prints what bpftool prints, at once", {
    skip: bpftool ? undefined : "bpftool not installed",
  }, () => {
    const ours = tsbpf(["btf", "dump", "file", found("elf-hang.o"), "--format", "c"]);
    assert.equal(ours.status, 0, ours.stderr);
    const theirs = execFileSync("bpftool", ["btf", "dump", "file", found("elf-hang.o"), "format", "c"], { encoding: "utf8" });
    assert.equal(ours.stdout, theirs);
  });

  it("broken pcapng blocks give libpcap's messages", () => {
    oneLineError(["filter", "-r", found("pcapng-idb-oob.pcap"), "--count", "tcp"], /block total length in header and trailer don't match/);
    oneLineError(["filter", "-r", found("pcapng-epb-oob.pcap"), "--count"], /block total length in header and trailer don't match/);
    oneLineError(["filter", "-r", found("pcapng-218-oob.pcap"), "--count"], /block total length in header and trailer don't match/);
    oneLineError(
      ["filter", "-r", found("pcapng-reader-backwards.pcap"), "--count", "tcp"],
      /packet block before any Interface Description Blocks/,
    );
  });

  it("budgets past 2^32 are exact in the JIT; past 2^53 they are refused", () => {
    const mem = Array.from({ length: 200 }, () => "01").join(" ");
    for (const budget of ["4294967296", "4294967295", "4294967300", String(2 ** 53 - 1)]) {
      for (const engine of ["jit", "interp"]) {
        const r = tsbpf(["run", "examples/sum-bytes.s", "--mem", mem, "--budget", budget, "--engine", engine]);
        assert.deepEqual([r.status, r.stdout.trim(), r.stderr], [0, "0xc8", ""], `${engine} ${budget}`);
      }
    }
    oneLineError(["run", "examples/sum-bytes.s", "--budget", "9007199254740993"], /larger than 9007199254740991/, 2);
  });
});

describe("the JIT's budget", () => {
  const loop = assemble(`
    mov %r0, 0
    mov %r1, 100
  top:
    add %r0, %r1
    sub %r1, 1
    jne %r1, 0, top
    exit
  `);
  it("runs out at the same instruction as the interpreter's, for every budget around the program's need", () => {
    for (let budget = 295; budget <= 305; budget++) {
      const outcome = (engine: "jit" | "interp"): string => {
        try {
          return String(new Machine().load(loop, { engine, budget }).run().r0);
        } catch (e) {
          assert.ok(e instanceof VmError, String(e));
          return `${e.code} at pc ${e.pc}`;
        }
      };
      assert.equal(outcome("jit"), outcome("interp"), `budget ${budget}`);
    }
  });

  it("is counted exactly above 2^32 (not modulo it)", () => {
    for (const budget of [2 ** 32, 2 ** 32 + 1, 2 ** 32 + 301, 2 ** 40, 2 ** 53 - 1]) {
      assert.equal(new Machine().load(loop, { engine: "jit", budget }).run().r0, 5050n, `budget ${budget}`);
    }
  });

  it("refuses budgets a number cannot hold exactly", () => {
    for (const budget of [2 ** 53, -1, 1.5, Number.POSITIVE_INFINITY])
      assert.throws(
        () => new Machine().load(loop, { budget }),
        (e: unknown) => e instanceof VmError && e.code === "BUDGET",
      );
  });
});
