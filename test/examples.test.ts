// The README's examples run as tests: what a newcomer types must work and print what the README says.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tsbpf } from "./support/cli.js";
import { bpfMissing } from "./support/kernel.js";
import { REPO } from "./support/paths.js";

describe("README examples", () => {
  it("verifies as the README's verifier examples say", () => {
    const ok = tsbpf(["verify", join(REPO, "testdata", "xdp_deny.o"), "--json"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^\{"programs":\[\{"name":"xdp_deny","section":"xdp","type":"xdp","verdict":"accept",/);
    const bad = tsbpf(["verify", join(REPO, "examples", "uninit.s")]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /prog: rejected at insn 0: R5 !read_ok\n {2}hint: /);
  });

  it("runs examples/sum-bytes.s on the userspace machine", () => {
    const r = tsbpf(["run", join(REPO, "examples", "sum-bytes.s"), "--mem", "01 02 03 04"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "0xa\n");
  });

  it("runs examples/api.ts", () => {
    const out = execFileSync(process.execPath, [join(REPO, "dist", "examples", "api.js")], { encoding: "utf8" });
    assert.equal(out, "r0 = 0x800\nw0 = *(u16 *)(r1 + 0xc)\nr0 = be16 r0\nexit\n24 bytes\n");
  });

  it("runs examples/machine-api.ts", () => {
    const out = execFileSync(process.execPath, [join(REPO, "dist", "examples", "machine-api.js")], { encoding: "utf8" });
    assert.equal(out, "retval 15045\n1 -> 3\n2 -> 6\n3 -> 9\n4 -> 12\n5 -> 15\n");
  });

  it("runs examples/cbpf.ts", () => {
    const out = execFileSync(process.execPath, [join(REPO, "dist", "examples", "cbpf.js")], { encoding: "utf8" });
    assert.equal(
      out,
      "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\nip: 1 of 3 packets\n",
    );
  });

  it("runs examples/trace-api.ts as the README shows it", () => {
    const out = execFileSync(process.execPath, [join(REPO, "dist", "examples", "trace-api.js")], { encoding: "utf8" });
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("examples/trace-api.ts"));
    assert.equal(out, /prints\n\n```\n([\s\S]*?)```/.exec(section)?.[1]);
    // the README's code is the example's, its import spelled as a user writes it
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1] as string;
    const example = readFileSync(join(REPO, "examples", "trace-api.ts"), "utf8");
    assert.ok(example.includes(code.replace('import { trace } from "tsbpf/lang";\n\n', "")), "README code differs from the example");
  });

  it("runs the test-run example", () => {
    const r = tsbpf(["test-run", join(REPO, "testdata", "machine.o"), "hop", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { retval: number }).retval, 34);
  });

  it("runs the tracing script as the README shows it", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Tracing scripts"));
    const script = /--backend vm -e '([^']+)'/.exec(section)?.[1] as string;
    const printed = /prints\n\n```\n([\s\S]*?)```/.exec(section)?.[1] as string;
    const r = tsbpf(["trace", "--backend", "vm", "-e", script.replace(/\\n/g, "\\n")]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, printed);
  });
});

describe("README tracing one-liners", { skip: bpfMissing() }, () => {
  const readme = (): string => readFileSync(join(REPO, "README.md"), "utf8");
  /** The command after `sudo npx tsbpf trace` and the block printed after it. */
  const oneLiner = (marker: string): { args: string[]; printed: string } => {
    const section = readme().slice(readme().indexOf(marker));
    const m = /sudo npx tsbpf trace -e '([^']+)'(?: -c '([^']+)')?\n```\n\n```\n([\s\S]*?)```/.exec(section);
    if (!m) throw new Error(`README: no one-liner after ${marker}`);
    return { args: ["trace", "-e", m[1] as string, ...(m[2] ? ["-c", m[2]] : [])], printed: m[3] as string };
  };

  it("counts syscalls by process", () => {
    const { args } = oneLiner("Syscall counts by process");
    const r = tsbpf(args);
    assert.equal(r.status, 0, r.stderr);
    // the tracer itself makes syscalls in that second, under its comm
    assert.match(r.stdout, /^Attaching 2 probes\.\.\.\n\n\n(@\[[^\]\n]+\]: \d+\n)+$/);
    assert.match(r.stdout, /^@\[tsbpf\]: \d+$/m);
  });

  it("prints a uprobe's latency histogram as the README shows it", () => {
    const { args, printed } = oneLiner("A latency histogram of a uprobe");
    const r = tsbpf(args);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, printed);
  });

  it("prints an interval report", () => {
    const { args } = oneLiner("An interval report");
    const r = tsbpf(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Attaching 2 probes\.\.\.\n(@opens: \d+\n){3}\n\n@opens: \d+\n@ticks: 3\n$/);
  });
});

describe("README kernel example", { skip: bpfMissing() }, () => {
  it("runs examples/kernel-api.ts and prints record sizes", () => {
    const out = execFileSync(process.execPath, [join(REPO, "dist", "examples", "kernel-api.js")], { encoding: "utf8" });
    const sizes = out.trim().split("\n");
    assert.ok(sizes.length >= 1 && sizes.every((s) => s === "276"), out);
  });
});
