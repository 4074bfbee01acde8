// The `tsbpf` command as users and scripts call it: flags, outputs and exit statuses are contracts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tsbpf } from "./support/cli.js";
import { BIN, REPO } from "./support/paths.js";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const SOURCE = "mov %r0, 0\nldxb %r2, [%r1+1]\nadd %r0, %r2\nexit\n";

describe("tsbpf asm / disasm", () => {
  it("assembles to hex and to raw bytes, and disassembles them back in both dialects", () => {
    const src = file("p.s", SOURCE);
    const hex = tsbpf(["asm", "--hex", src]);
    assert.equal(hex.status, 0, hex.stderr);
    assert.equal(hex.stdout.trim(), "b7 00 00 00 00 00 00 00 71 12 01 00 00 00 00 00 0f 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    const bin = join(dir, "p.bin");
    assert.equal(tsbpf(["asm", "-o", bin, src]).status, 0);
    assert.equal(readFileSync(bin).length, 32);
    assert.equal(tsbpf(["disasm", bin]).stdout, "mov %r0, 0\nldxb %r2, [%r1+1]\nadd %r0, %r2\nexit\n");
    assert.equal(tsbpf(["disasm", "--dialect", "llvm", bin]).stdout, "r0 = 0x0\nw2 = *(u8 *)(r1 + 0x1)\nr0 += r2\nexit\n");
    const hexFile = file("p.hex", hex.stdout);
    assert.equal(
      tsbpf(["disasm", "--hex", "--dialect", "llvm", "--decimal", hexFile]).stdout,
      "r0 = 0\nw2 = *(u8 *)(r1 + 1)\nr0 += r2\nexit\n",
    );
  });

  it("assembles the llvm dialect", () => {
    const src = file("p.ll", "r0 = 0\nr2 = *(u8 *)(r1 + 0x1)\nr0 += r2\nexit\n");
    assert.equal(
      tsbpf(["asm", "--hex", "--dialect", "llvm", src]).stdout.trim(),
      tsbpf(["asm", "--hex", file("q.s", SOURCE)]).stdout.trim(),
    );
  });

  it("reports assembly errors with the line and exits 1", () => {
    const r = tsbpf(["asm", file("bad.s", "mov %r0, 1\nfrob %r0\nexit\n")]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 2: Invalid mnemonic: frob/);
  });

  it("rejects unknown flags, bad choices and missing files", () => {
    assert.equal(tsbpf(["asm", "--frob", "x"]).status, 2);
    assert.match(tsbpf(["disasm", "--dialect", "intel", "x"]).stderr, /must be one of conformance, llvm/);
    const missing = tsbpf(["disasm", join(dir, "missing.bin")]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /ENOENT/);
    assert.equal(tsbpf(["nonsense"]).status, 2);
  });
});

describe("tsbpf run", () => {
  it("prints r0 as 0x-hex with --mem and --mem-file", () => {
    const src = file("r.s", SOURCE);
    assert.equal(tsbpf(["run", src, "--mem", "00 29"]).stdout, "0x29\n");
    assert.equal(tsbpf(["run", src, "--mem-file", file("m.bin", new Uint8Array([0, 0x30]))]).stdout, "0x30\n");
    assert.equal(tsbpf(["run", src, "--engine", "interp", "--mem", "0001"]).stdout, "0x1\n");
    assert.equal(tsbpf(["run", src, "--engine", "jit", "--mem", "0001"]).stdout, "0x1\n");
  });

  it("runs .data test files with their own memory", () => {
    const data = file("t.data", "-- asm\nldxh %r0, [%r1]\nexit\n-- mem\n34 12\n-- result\n0x1234\n");
    assert.equal(tsbpf(["run", data]).stdout, "0x1234\n");
  });

  it("traces pc, instruction and changed registers", () => {
    const r = tsbpf(["run", "--trace", file("tr.s", "mov %r0, 5\nadd %r0, 2\nexit\n")]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0] ?? "", /^\s*0: mov %r0, 5\s+r0=0x5$/);
    assert.match(lines[1] ?? "", /^\s*1: add %r0, 2\s+r0=0x7$/);
    assert.match(lines[2] ?? "", /^\s*2: exit$/);
    assert.equal(lines[3], "0x7");
  });

  it("reports faults and validation errors with the pc and exits 1", () => {
    const fault = tsbpf(["run", file("f.s", "ldxw %r0, [%r1+8]\nexit\n"), "--mem", "00"]);
    assert.equal(fault.status, 1);
    assert.match(fault.stderr, /out of bounds memory load at pc 0: addr 0x[0-9a-f]+, size 4/);
    const invalid = tsbpf(["run", file("v.s", "mov %r0, 1\n")]);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /at pc 0/);
    const budget = tsbpf(["run", "--budget", "100", file("loop.s", "l:\nja l\n")]);
    assert.equal(budget.status, 1);
    assert.match(budget.stderr, /budget of 100 exhausted/);
    const jitBudget = tsbpf(["run", "--engine", "jit", "--budget", "100", file("loop2.s", "l:\nja l\n")]);
    assert.equal(jitBudget.status, 1);
    assert.match(jitBudget.stderr, /budget of 100 exhausted at pc 0/);
  });
});

describe("tsbpf plugin (bpf_conformance protocol)", () => {
  it("reads program hex on stdin, memory hex in argv, prints r0 in hex", () => {
    const r = tsbpf(["plugin", "aabbccdd"], "61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "ddccbbaa\n");
  });

  it("runs without a memory argument", () => {
    assert.equal(tsbpf(["plugin"], "b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00").stdout, "2a\n");
  });

  it("prints the error and exits non-zero when the program fails", () => {
    const r = tsbpf(["plugin"], "b7 0a 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /r10 is read-only.* at pc 0/);
  });
});

describe("tsbpf writing into a pipe its reader closes early", {
  skip: existsSync("/sys/kernel/btf/vmlinux") ? undefined : "no /sys/kernel/btf/vmlinux to dump",
}, () => {
  it("stops quietly with status 0, as `bpftool … | head` does, instead of dying on EPIPE", async () => {
    // vmlinux as C is megabytes: far more than a pipe holds, so the writes go on after the reader is gone
    const child = spawn(process.execPath, [BIN, "btf", "dump", "/sys/kernel/btf/vmlinux", "--format", "c"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const first = await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString())));
    child.stdout.destroy(); // as `head -1` exits after its line
    const status = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    assert.match(first, /^#ifndef __VMLINUX_H__/);
    assert.equal(stderr, "");
    assert.equal(status, 0);
  });
});

describe("tsbpf's global options, as bpftool's", () => {
  const object = join(REPO, "testdata", "xdp_deny.o");
  /** The verdicts without the time each took. */
  const verdicts = (text: string): unknown =>
    (JSON.parse(text) as { programs: Array<Record<string, unknown>> }).programs.map(({ ms: _, ...rest }) => rest);

  it("takes -j/--json before the command as --json after it", () => {
    const after = tsbpf(["verify", object, "--json"]);
    assert.equal(after.status, 0, after.stderr);
    for (const flag of ["-j", "--json"]) {
      const before = tsbpf([flag, "verify", object]);
      assert.equal(before.status, 0, before.stderr);
      assert.match(before.stdout, /^\{"programs":\[\{"name":"xdp_deny",/);
      assert.deepEqual(verdicts(before.stdout), verdicts(after.stdout));
    }
  });

  it("indents JSON by 4 with -p/--pretty, as bpftool -p does", () => {
    const plain = tsbpf(["verify", object, "--json"]);
    for (const flag of ["-p", "--pretty"]) {
      const pretty = tsbpf([flag, "verify", object]);
      assert.equal(pretty.status, 0, pretty.stderr);
      assert.deepEqual(verdicts(pretty.stdout), verdicts(plain.stdout));
      assert.equal(pretty.stdout, `${JSON.stringify(JSON.parse(pretty.stdout), null, 4)}\n`);
      assert.match(pretty.stdout, /^\{\n {4}"programs": \[\n {8}\{\n/);
    }
  });

  it("says a global option needs a command", () => {
    const r = tsbpf(["-j"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^tsbpf: -j needs a command after it\n/);
  });
});
