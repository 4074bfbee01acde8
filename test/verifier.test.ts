// The verifier against its oracles: the kernel's recorded verdicts and reasons for every sample and selftest
// program, the instruction the live kernel's log ends on, and concrete arithmetic for tnums and bounds.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { assemble } from "../src/isa/index.js";
import * as O from "../src/isa/opcodes.js";
import { makePinDir } from "../src/kernel/bpffs.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import type { KernelError } from "../src/kernel/errors.js";
import { KernelProgram } from "../src/kernel/program.js";
import { analyzeLog } from "../src/kernel/verifier-error.js";
import { vmlinuxBtf } from "../src/kernel/vmlinux.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { readKernelConfig } from "../src/object/kconfig.js";
import { programForVerifier, type VerifyOptions, type VerifyResult, verify, verifyProgram } from "../src/verifier/index.js";
import { markConstScalar, markUnknown, Reg, syncBounds } from "../src/verifier/reg.js";
import { scalarAlu } from "../src/verifier/scalar-alu.js";
import * as T from "../src/verifier/tnum.js";
import { tsbpf } from "./support/cli.js";
import { bpfMissing, kernelBtfMissing } from "./support/kernel.js";
import { REPO, SHARED, sharedMissing } from "./support/paths.js";
import { HOST_CAUSED, rowProgram, type VerdictRow, verdictRows } from "./support/verdicts.js";

/**
 * What this verifier does not do yet, by program: each entry must still disagree with the kernel (the test
 * fails when one starts to agree, so the list only shrinks).
 */
const KNOWN_GAPS = new Map<string, string>([]);

/**
 * Ours on every program of a testdata object against this kernel's answers (Linux 6.18, root: where its
 * level-1 log ends and its last line, or accept), recorded here; where bpf() works, the live kernel must still
 * give them.
 */
function judgedObject(file: string, kernel: Record<string, string>, opts: VerifyOptions = {}): VerifyResult[] {
  const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", file)));
  const answer = (r: VerifyResult): string =>
    r.verdict === "accept" ? "accept" : `reject at ${r.insn}: ${(r.message ?? "").split("\n").pop()}`;
  const results = verify(spec, { logLevel: 1, ...opts });
  assert.deepEqual(Object.fromEntries(results.map((r) => [r.name, answer(r)])), kernel);
  if (bpfMissing()) return results;
  const pins = `/sys/fs/bpf/tsbpf_test_${file.replace(/\W/g, "_")}`;
  makePinDir(pins);
  try {
    for (const name of Object.keys(kernel)) {
      let live = "accept";
      try {
        loadKernelCollection(spec, { programs: [name], pinPath: pins }).close();
      } catch (e) {
        const a = analyzeLog((e as { log?: string }).log ?? "");
        live = `reject at ${a.insn ?? null}: ${a.reason}`;
      }
      assert.equal(live, kernel[name], `${file} ${name}: the live kernel's answer changed`);
    }
  } finally {
    rmSync(pins, { recursive: true, force: true });
  }
  return results;
}

const kconfigMissing = (): string | undefined => {
  try {
    readKernelConfig();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

const key = (r: VerdictRow): string => `${r.corpus} ${r.object}:${r.func}`;

function ours(row: VerdictRow) {
  const rp = rowProgram(row);
  if (rp instanceof Error) return rp;
  return verifyProgram(programForVerifier(rp.spec, rp.program, row.type), { progFlags: row.progFlags, logLevel: 0 });
}

describe("the verifier", { skip: sharedMissing() }, () => {
  it("gives the kernel's verdict and reason on every program of both corpora", () => {
    const differ: string[] = [];
    const unreadable: string[] = [];
    let agree = 0;
    const gapsSeen = new Set<string>();
    for (const row of verdictRows()) {
      if (row.verdict === "REJECT" && HOST_CAUSED.test(row.reason)) continue;
      const r = ours(row);
      if (r instanceof Error) {
        // Fuzzed objects our ELF reader refuses: the object loader's concern, counted here.
        unreadable.push(key(row));
        continue;
      }
      const verdict = r.verdict === "accept" ? "ACCEPT" : "REJECT";
      const same = verdict === row.verdict && (row.verdict === "ACCEPT" || (r.message ?? "").includes(row.reason));
      if (KNOWN_GAPS.has(key(row))) {
        gapsSeen.add(key(row));
        assert.ok(!same, `${key(row)} now agrees with the kernel: take it off KNOWN_GAPS`);
        continue;
      }
      if (same) agree++;
      else differ.push(`${key(row)}: kernel ${row.verdict} "${row.reason}", ours ${verdict} "${r.message ?? ""}"`);
    }
    console.log(
      `# verdicts and reasons equal to the kernel's: ${agree}, known gaps ${gapsSeen.size}, unreadable objects ${unreadable.length}`,
    );
    assert.deepEqual(differ, []);
    assert.deepEqual([...gapsSeen].sort(), [...KNOWN_GAPS.keys()].sort());
    assert.ok(agree > 400);
    assert.ok(
      unreadable.every((k) => k.startsWith("samples invalid/")),
      unreadable.join("\n"),
    );
  });

  it("stops at the instruction the kernel's log ends on", { skip: bpfMissing() }, () => {
    const pins = "/sys/fs/bpf/tsbpf_test_verifier";
    makePinDir(pins);
    const differ: string[] = [];
    let checked = 0;
    try {
      for (const row of verdictRows()) {
        if (row.verdict !== "REJECT" || HOST_CAUSED.test(row.reason) || KNOWN_GAPS.has(key(row))) continue;
        const rp = rowProgram(row);
        if (rp instanceof Error) continue;
        let log = "";
        try {
          loadKernelCollection(rp.spec, {
            programs: [rp.program.name],
            types: new Map([[rp.program.name, row.type]]),
            pinPath: pins,
            progFlags: row.progFlags,
          }).close();
        } catch (e) {
          log = (e as { log?: string }).log ?? "";
        }
        const kernel = analyzeLog(log).insn ?? null;
        const r = ours(row);
        if (r instanceof Error) continue;
        checked++;
        if (r.insn !== kernel) differ.push(`${key(row)}: kernel at ${kernel}, ours at ${r.insn} (${r.message?.split("\n")[0]})`);
      }
    } finally {
      rmSync(pins, { recursive: true, force: true });
    }
    console.log(`# rejections checked against the live kernel's last instruction: ${checked}`);
    assert.ok(checked > 50);
    assert.deepEqual(differ, []);
  });

  it("walks clang's callbacks, locks, strings and classic loads (testdata/verifier_calls.c) as this kernel does", () => {
    judgedObject("verifier_calls.o", {
      loop_sum: "accept",
      for_each_flow: "accept",
      loop_bad_return: "reject at 9: At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]",
      compare_name: "accept",
      compare_unterminated: "reject at 7: string is not zero-terminated",
      locked_count: "accept",
      locked_leave: "reject at 22: BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region",
      ldabs_int_subprog: "accept",
      ldabs_void_subprog: "reject at null: LD_ABS is only allowed in functions that return 'int'.",
    });
  });

  it("checks iterators against the kernel's BTF (testdata/verifier_iter.c) as this kernel does", { skip: kernelBtfMissing() }, () => {
    const results = judgedObject(
      "verifier_iter.o",
      {
        iter_pids: "accept",
        iter_no_null_check: "reject at 1: R1 invalid mem access 'trusted_ptr_or_null_'",
        iter_store: "reject at 3: only read is supported",
        iter_wrong_seq: "reject at 7: R1 is of type task_struct but seq_file is expected",
        iter_beyond: "reject at 4: access beyond struct task_struct at off 1048576 size 1",
        iter_bad_return: "reject at 1: At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]",
        iter_current: "accept",
      },
      { kernelBtf: vmlinuxBtf() },
    );
    // The state line names the kernel type, as the kernel prints it.
    const noCheck = results.find((r) => r.name === "iter_no_null_check") as VerifyResult;
    assert.match(noCheck.log, /R1=trusted_ptr_or_null_task_struct\(id=1\)/);
    // Without the kernel's BTF the iterator cannot be checked, and says so.
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "verifier_iter.o")));
    const [without] = verify(spec, { programs: ["iter_pids"], logLevel: 0 });
    assert.match(without?.message ?? "", /needs the kernel's BTF/);
  });

  it("checks BTF tracepoints against the kernel's BTF (testdata/verifier_tp_btf.c) as this kernel does", {
    skip: kernelBtfMissing(),
  }, () => {
    judgedObject(
      "verifier_tp_btf.o",
      {
        switch_pids: "accept",
        switch_store: "reject at 2: only read is supported",
        switch_no_such_arg: "reject at 0: invalid bpf_context access off=40 size=8",
        pi_unchecked: "reject at 1: R1 invalid mem access 'trusted_ptr_or_null_'",
        pi_checked: "accept",
      },
      { kernelBtf: vmlinuxBtf() },
    );
  });

  it("checks bpf_snprintf's format as this kernel does (testdata/verifier_printf.c)", () => {
    const bad = "reject at 17: Invalid format string";
    judgedObject("verifier_printf.o", {
      fmt_ints: "accept",
      fmt_ints_long: "accept",
      fmt_too_many: bad,
      fmt_percent: "accept",
      fmt_unknown: bad,
      fmt_string: "accept",
      fmt_string_glued: bad,
      fmt_pointers: "accept",
      fmt_symbols: "accept",
      fmt_symbols_offset: "accept",
      fmt_ip: "accept",
      fmt_ip_bad: bad,
      fmt_kernel_string: "accept",
      fmt_control: bad,
      fmt_float: bad,
      fmt_no_args: bad,
    });
  });

  it("verifies from the CLI with this host's kconfig, kernel BTF and CO-RE, as the loader would load it", {
    skip: kernelBtfMissing() ?? kconfigMissing(),
  }, () => {
    // core.o reads .kconfig externs and CO-RE fields; iter_task.o is an iterator over the kernel's task_struct.
    for (const file of ["core.o", "iter_task.o"]) {
      const r = tsbpf(["verify", join(REPO, "testdata", file), "--json"]);
      const parsed = JSON.parse(r.stdout) as { programs: Array<{ verdict: string; message: string | null }> };
      assert.deepEqual(
        parsed.programs.map((p) => p.verdict),
        parsed.programs.map(() => "accept"),
        `${file}: ${parsed.programs.map((p) => p.message).join("; ")}`,
      );
      assert.equal(r.status, 0);
    }
  });

  it("reads the kernel log's last instruction, also one the kernel could only print as BUG_<opcode>", () => {
    // The tail of a log this kernel wrote for a program with an atomic of an unknown operation.
    const log = [
      "9: (bf) r2 = r10                      ; R2=fp0 R10=fp0",
      "10: BUG_c3",
      "BPF_ATOMIC uses invalid atomic opcode fffffff0",
      "processed 10 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
    ].join("\n");
    assert.deepEqual(analyzeLog(log), { reason: "BPF_ATOMIC uses invalid atomic opcode fffffff0", insn: 10, insnText: "BUG_c3" });
  });

  it("answers `tsbpf verify` with the JSON, the words and the exit status of the contract", () => {
    const obj = join(SHARED, "ebpf-samples", "build", "badmapptr.o");
    const json = tsbpf(["verify", obj, "--json"]);
    assert.equal(json.status, 1, json.stderr);
    const parsed = JSON.parse(json.stdout) as { programs: Array<Record<string, unknown>> };
    assert.equal(parsed.programs.length, 1);
    const p = parsed.programs[0] as Record<string, unknown>;
    assert.deepEqual(Object.keys(p), ["name", "section", "type", "verdict", "insn", "message", "processed", "ms"]);
    assert.equal(p.verdict, "reject");
    assert.equal(p.insn, 4); // the kernel's log ends on "4: (07) r1 += 32"
    assert.match(String(p.message), /R1 pointer arithmetic on map_ptr prohibited/);
    assert.equal(typeof p.ms, "number");
    const text = tsbpf(["verify", obj]);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /^4: \(07\) r1 \+= 32$/m); // the kernel's words for the instruction
    // The source line is the one the kernel's log names for this instruction.
    assert.match(
      text.stdout,
      /test_repro: rejected at insn 4: R1 pointer arithmetic on map_ptr prohibited\n {2}from: uint32_t\* value = bpf_map_lookup_elem\(map \+ 1, &key\); @ badmapptr\.c:25\n$/,
    );
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-verify-"));
    try {
      writeFileSync(join(dir, "ok.s"), "mov %r0, 0\nexit\n");
      writeFileSync(join(dir, "bad.s"), "mov %r0, %r5\nexit\n");
      writeFileSync(join(dir, "junk.bin"), new Uint8Array([1, 2, 3]));
      assert.equal(tsbpf(["verify", join(dir, "ok.s"), "--json"]).status, 0);
      const bad = tsbpf(["verify", join(dir, "bad.s"), "--type", "xdp", "--json"]);
      assert.equal(bad.status, 1);
      assert.equal((JSON.parse(bad.stdout) as { programs: Array<{ message: string; type: string }> }).programs[0]?.message, "R5 !read_ok");
      const junk = tsbpf(["verify", join(dir, "junk.bin")]);
      assert.equal(junk.status, 2);
      assert.match(junk.stderr, /^tsbpf verify: .*\n$/);
      assert.equal(tsbpf(["verify", join(dir, "ok.s"), "--log-level", "3"]).status, 2);
      assert.equal(tsbpf(["verify", join(dir, "ok.s"), "--type", "nosuch"]).status, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses reading a register never written, as the kernel does", () => {
    const r = verifyProgram({ insns: assemble("mov %r0, %r5\nexit"), type: "socket_filter" });
    assert.equal(r.verdict, "reject");
    assert.equal(r.message, "R5 !read_ok");
    assert.equal(r.insn, 0);
    assert.match(r.log, /processed 1 insns/);
    assert.equal(verifyProgram({ insns: assemble("mov %r0, 0\nexit"), type: "socket_filter" }).verdict, "accept");
  });

  it("ends every malformed or endless program with a rejection inside the instruction budget", () => {
    const counted = verifyProgram({ insns: assemble("mov %r0, 0\nadd %r0, 1\njlt %r0, 100000000, -2\nexit"), type: "socket_filter" });
    assert.equal(counted.verdict, "reject");
    assert.match(counted.message ?? "", /BPF program is too large/);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -8, max: 8 }), fc.integer()),
          { minLength: 1, maxLength: 24 },
        ),
        (raw) => {
          const insns = raw.map(([op, regs, off, imm]) => ({
            op,
            dst: regs & 15,
            src: regs >> 4,
            off,
            imm,
            ...(op === O.OP_LDDW ? { imm2: 0 } : {}),
          }));
          const r = verifyProgram({ insns, type: "socket_filter" });
          assert.ok(r.verdict === "accept" || (r.message ?? "").length > 0);
        },
      ),
      { numRuns: 2000, seed: 22 },
    );
  });

  it("refuses, as bpf_prog_load does, a program with no instructions or more than a million", () => {
    const exit = { op: O.OP_EXIT, dst: 0, src: 0, off: 0, imm: 0 };
    const mov = { op: 0xb7, dst: 0, src: 0, off: 0, imm: 0 };
    const huge = [...Array.from({ length: 1_000_000 }, () => mov), exit];
    for (const insns of [[], huge]) {
      const ours = verifyProgram({ insns, type: "socket_filter" }, { logLevel: 0 });
      assert.equal(ours.verdict, "reject");
      assert.match(ours.message ?? "", /\(E2BIG\)$/);
      if (!bpfMissing())
        assert.throws(
          () => KernelProgram.load(insns, { type: "socket_filter" }).close(),
          (e: unknown) => (e as KernelError).code === "E2BIG",
        );
    }
  });
});

// Concrete 64-bit values and tnums/bounds: every operation's result must contain the concrete result.
const u64 = fc.bigInt({ min: 0n, max: T.U64_MAX });
const member = (t: T.Tnum, x: bigint): boolean => (x & ~t.mask & T.U64_MAX) === t.value;

describe("tnums and scalar bounds", () => {
  const tnumWith = (x: bigint, m: bigint): T.Tnum => ({ value: x & ~m & T.U64_MAX, mask: m });
  it("over-approximate add, sub, mul, and, or, xor and shifts", () => {
    fc.assert(
      fc.property(u64, u64, u64, u64, fc.integer({ min: 0, max: 63 }), (a, ma, b, mb, sh) => {
        const ta = tnumWith(a, ma & 0xffffn);
        const tb = tnumWith(b, mb & 0xff00ffn);
        const x = a;
        const y = b;
        assert.ok(member(T.tnumAdd(ta, tb), (x + y) & T.U64_MAX));
        assert.ok(member(T.tnumSub(ta, tb), (x - y) & T.U64_MAX));
        assert.ok(member(T.tnumMul(ta, tb), (x * y) & T.U64_MAX));
        assert.ok(member(T.tnumAnd(ta, tb), x & y));
        assert.ok(member(T.tnumOr(ta, tb), x | y));
        assert.ok(member(T.tnumXor(ta, tb), x ^ y));
        assert.ok(member(T.tnumLshift(ta, sh), (x << BigInt(sh)) & T.U64_MAX));
        assert.ok(member(T.tnumRshift(ta, sh), x >> BigInt(sh)));
        assert.ok(member(T.tnumArshift(ta, sh, 64), T.u64(T.s64(x) >> BigInt(sh))));
        assert.ok(member(T.tnumRange(x < y ? x : y, x < y ? y : x), x));
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it("keep every concrete result of ALU operations inside the computed bounds", () => {
    const ops = [O.ALU_ADD, O.ALU_SUB, O.ALU_MUL, O.ALU_AND, O.ALU_OR, O.ALU_XOR, O.ALU_LSH, O.ALU_RSH, O.ALU_ARSH];
    const apply = (op: number, x: bigint, y: bigint, alu32: boolean): bigint => {
      const bits = alu32 ? 32 : 64;
      const m = (v: bigint): bigint => BigInt.asUintN(bits, v);
      const a = m(x);
      const b = m(y);
      switch (op) {
        case O.ALU_ADD:
          return m(a + b);
        case O.ALU_SUB:
          return m(a - b);
        case O.ALU_MUL:
          return m(a * b);
        case O.ALU_AND:
          return a & b;
        case O.ALU_OR:
          return a | b;
        case O.ALU_XOR:
          return a ^ b;
        case O.ALU_LSH:
          return m(a << b);
        case O.ALU_RSH:
          return a >> b;
        default:
          return m(BigInt.asIntN(bits, a) >> b);
      }
    };
    fc.assert(
      fc.property(
        u64,
        u64,
        u64,
        u64,
        fc.constantFrom(...ops),
        fc.boolean(),
        fc.integer({ min: 0, max: 31 }),
        (lo, span, x0, c, op, alu32, sh) => {
          // dst: an interval [lo, lo+span'] containing x; src: a constant (shift amounts in range).
          const width = span & 0xffffn;
          const x = T.u64(lo + (x0 % (width + 1n)));
          const d = new Reg();
          markUnknown(d);
          d.umin = lo;
          d.umax = T.u64(lo + width) >= lo ? lo + width : T.U64_MAX;
          syncBounds(d);
          if (x < d.umin || x > d.umax) return;
          const s = new Reg();
          const src = op === O.ALU_LSH || op === O.ALU_RSH || op === O.ALU_ARSH ? BigInt(sh) : c;
          markConstScalar(s, src);
          scalarAlu(d, s, op, alu32);
          const v = apply(op, x, src, alu32);
          assert.ok(d.umin <= v && v <= d.umax, `u64 ${op} ${x} ${src}`);
          assert.ok(d.smin <= T.s64(v) && T.s64(v) <= d.smax, `s64 ${op}`);
          const lo32 = Number(v & 0xffffffffn);
          assert.ok(d.u32min <= lo32 && lo32 <= d.u32max, `u32 ${op}`);
          assert.ok(d.s32min <= (lo32 | 0) && (lo32 | 0) <= d.s32max, `s32 ${op}`);
          assert.ok(member(d.varOff, v), `tnum ${op}`);
        },
      ),
      { numRuns: 5000, seed: 11 },
    );
  });
});
