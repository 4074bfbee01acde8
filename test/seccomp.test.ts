// Seccomp filters: the kernel's validation rules, and a differential test against the kernel itself — random
// filters over seccomp_data are installed (prctl SECCOMP_MODE_FILTER, unprivileged with no_new_privs) in a
// python3 child that then makes system calls with chosen numbers and arguments; the errno each call gets must
// be the one our verdict predicts, on the cBPF machine, the JIT and the interpreter.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { compileFilter } from "../src/cbpf/filter.js";
import type { CbpfInsn } from "../src/cbpf/insn.js";
import * as C from "../src/cbpf/insn.js";
import { parseCbpf } from "../src/cbpf/parse.js";
import {
  AUDIT_ARCH_X86_64,
  runSeccomp,
  type SeccompData,
  SeccompValidationError,
  seccompAction,
  seccompInput,
  validateSeccomp,
} from "../src/cbpf/seccomp.js";
import { rng } from "./support/rng.js";

const insn = (code: number, k = 0, jt = 0, jf = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });

/**
 * A filter that allows every real system call (the child must keep working) and, for numbers >= 1000, runs a
 * random body over the arguments that ends in ERRNO(value) or ALLOW.
 */
function randomFilter(seed: number): CbpfInsn[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const body: Array<CbpfInsn | "end"> = [];
  const stored = new Set<number>();
  const n = 4 + Math.floor(r() * 14);
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(r() * 9);
    const word = pick([0, 4, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]);
    switch (kind) {
      case 0:
      case 1:
        body.push(insn(C.LD | C.W | C.ABS, word));
        break;
      case 2:
        body.push(insn(C.ALU | pick([C.ADD, C.SUB, C.MUL, C.AND, C.OR, C.XOR]) | C.K, Math.floor(r() * 2 ** 32)));
        break;
      case 3:
        body.push(insn(C.ALU | pick([C.ADD, C.SUB, C.MUL, C.AND, C.OR, C.XOR]) | C.X));
        break;
      case 4:
        body.push(insn(C.ALU | pick([C.LSH, C.RSH]) | C.K, Math.floor(r() * 32)));
        break;
      case 5:
        body.push(insn(C.ALU | C.DIV | C.K, 1 + Math.floor(r() * 1000)));
        break;
      case 6: {
        const m = Math.floor(r() * 16);
        body.push(insn(C.ST, m));
        stored.add(m);
        if (r() < 0.5) body.push(insn(C.LDX | C.MEM, m));
        break;
      }
      case 7:
        body.push(pick([insn(C.MISC | C.TAX), insn(C.MISC | C.TXA), insn(C.ALU | C.NEG), insn(C.LDX | C.IMM, Math.floor(r() * 2 ** 32))]));
        break;
      case 8:
        // a forward branch: to the end (ERRNO from A) or past the next instruction
        body.push(insn(C.JMP | pick([C.JEQ, C.JGT, C.JGE, C.JSET]) | pick([C.K, C.X]), Math.floor(r() * 2 ** 32)), "end");
        break;
    }
  }
  // layout: [ld nr; jge #1000 → body, else allow] body... [and #0x3ff; or #ERRNO; ret a] [ret #ALLOW]
  const out: CbpfInsn[] = [insn(C.LD | C.W | C.ABS, 0), insn(C.JMP | C.JGE | C.K, 1000, 0, 0)];
  const bodyStart = out.length;
  const items = body.filter((b) => b !== "end") as CbpfInsn[];
  const endAt = bodyStart + items.length;
  let idx = 0;
  for (const b of body) {
    if (b === "end") continue;
    const here = bodyStart + idx;
    if (C.CLASS(b.code) === C.JMP) {
      const toEnd = endAt - here - 1;
      const next = Math.min(1, toEnd);
      b.jt = r() < 0.5 ? toEnd : next;
      b.jf = r() < 0.5 ? next : toEnd + 3; // +3: the ALLOW return
    }
    out.push(b);
    idx++;
  }
  const jge = out[1] as CbpfInsn;
  jge.jf = endAt + 3 - 2; // to ret #ALLOW
  out.push(insn(C.ALU | C.AND | C.K, 0x3ff), insn(C.ALU | C.OR | C.K, 0x50000), insn(C.RET | C.A), insn(C.RET | C.K, 0x7fff0000));
  return out;
}

// One python3 process; each filter is installed in a fork of it (filters stack, so each needs a fresh
// process) that makes the calls and reports over a pipe. Input on stdin: [[filter hex, calls], ...].
const CHILD = `
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
libc.syscall.restype = ctypes.c_long
class FProg(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
results = []
for hexprog, cases in json.load(sys.stdin):
    prog = bytes.fromhex(hexprog)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        buf = ctypes.create_string_buffer(prog, len(prog))
        fp = FProg(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
        if libc.prctl(38, 1, None, 0, 0) != 0 or libc.prctl(22, 2, ctypes.cast(ctypes.pointer(fp), ctypes.c_void_p), 0, 0) != 0:
            out = {"error": ctypes.get_errno()}
        else:
            out = []
            for c in cases:
                ctypes.set_errno(0)
                v = libc.syscall(*[ctypes.c_long(int(x)) for x in c])
                out.append([v, ctypes.get_errno() if v == -1 else 0])
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    results.append(json.loads(data.decode() or "null"))
sys.stdout.write(json.dumps(results))
`;

const hasPython = spawnSync("python3", ["-c", "import ctypes"], { stdio: "ignore" }).status === 0;
const onLinuxX64 = process.platform === "linux" && process.arch === "x64";

function encode(program: readonly CbpfInsn[]): string {
  const b = Buffer.alloc(program.length * 8);
  program.forEach((p, i) => {
    b.writeUInt16LE(p.code, i * 8);
    b.writeUInt8(p.jt, i * 8 + 2);
    b.writeUInt8(p.jf, i * 8 + 3);
    b.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return b.toString("hex");
}

describe("seccomp filters", () => {
  it("validates as the kernel does", () => {
    const ok = parseCbpf(
      "{ 0x20, 0, 0, 0x00000000 },\n{ 0x15, 0, 1, 0x0000003c },\n{ 0x6, 0, 0, 0x00050001 },\n{ 0x6, 0, 0, 0x7fff0000 },\n",
    );
    validateSeccomp(ok);
    const rejects: Array<[string, CbpfInsn[]]> = [
      ["byte load", [insn(C.LD | C.B | C.ABS, 0), insn(C.RET | C.A)]],
      ["load past seccomp_data", [insn(C.LD | C.W | C.ABS, 64), insn(C.RET | C.A)]],
      ["unaligned load", [insn(C.LD | C.W | C.ABS, 2), insn(C.RET | C.A)]],
      ["indirect load", [insn(C.LD | C.W | C.IND, 0), insn(C.RET | C.A)]],
      ["msh", [insn(C.LDX | C.B | C.MSH, 0), insn(C.RET | C.A)]],
      ["modulo", [insn(C.ALU | C.MOD | C.K, 3), insn(C.RET | C.A)]],
      ["shift by 32", [insn(C.ALU | C.LSH | C.K, 32), insn(C.RET | C.A)]],
    ];
    for (const [what, p] of rejects) assert.throws(() => validateSeccomp(p), SeccompValidationError, what);
  });

  it("decodes verdicts and reads seccomp_data in host byte order", () => {
    assert.deepEqual(seccompAction(0x7fff0000), { action: "allow", data: 0 });
    assert.deepEqual(seccompAction(0x00050000 | 9999), { action: "errno", data: 4095 });
    assert.deepEqual(seccompAction(0), { action: "kill_thread", data: 0 });
    assert.deepEqual(seccompAction(0x12340000), { action: "kill_process", data: 0 });
    const d: SeccompData = { nr: 59, arch: AUDIT_ARCH_X86_64, instructionPointer: 0n, args: [0x1122334455667788n] };
    // ld [16] reads the low half of args[0] on a little-endian machine
    assert.equal(runSeccomp([insn(C.LD | C.W | C.ABS, 16), insn(C.RET | C.A)], d), 0x55667788);
    assert.equal(runSeccomp([insn(C.LD | C.W | C.ABS, 4), insn(C.RET | C.A)], d), AUDIT_ARCH_X86_64);
    assert.equal(runSeccomp([insn(C.LD | C.W | C.LEN), insn(C.RET | C.A)], d), 64);
  });

  it("gives every system call the errno the kernel gives it, for random filters", {
    skip: !onLinuxX64 ? "needs Linux on x86-64 (seccomp_data layout, syscall numbers)" : hasPython ? undefined : "python3 not available",
  }, () => {
    const programs = Number(process.env.SECCOMP_RUNS ?? 300);
    const differ: string[] = [];
    let refused = 0;
    const runs = Array.from({ length: programs }, (_, i) => {
      const seed = i + 1;
      const program = randomFilter(seed);
      let valid = true;
      try {
        validateSeccomp(program);
      } catch (e) {
        if (!(e instanceof SeccompValidationError)) throw e;
        valid = false;
        refused++;
      }
      const r = rng(seed * 7919);
      const cases = Array.from({ length: 8 }, () => [
        1000 + Math.floor(r() * 50),
        ...Array.from(
          { length: 6 },
          () => BigInt(Math.floor(r() * 2 ** 32)) * BigInt(1 + Math.floor(r() * 3)) + BigInt(Math.floor(r() * 2 ** 31)),
        ),
      ]);
      return { seed, program, valid, cases };
    });
    const child = spawnSync("python3", ["-c", CHILD], {
      input: JSON.stringify(runs.map((x) => [encode(x.program), x.cases.map((c) => c.map(String))])),
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    type Report = Array<[number, number]> | { error: number } | null;
    const reports = JSON.parse(child.stdout || "null") as Report[] | null;
    assert.ok(Array.isArray(reports) && reports.length === programs, `the python3 child failed: ${child.stderr}`);
    for (const { seed, program, valid, cases } of runs) {
      const kernel: Report = reports[seed - 1] ?? null;
      if (!valid) {
        // what we refuse, the kernel refuses (EINVAL)
        assert.deepEqual(kernel, { error: 22 }, `seed ${seed}: we refuse the filter, the kernel said ${JSON.stringify(kernel)}`);
        continue;
      }
      assert.ok(Array.isArray(kernel), `seed ${seed}: the kernel refused a filter we accept (${JSON.stringify(kernel)})`);
      const engines = [
        (d: SeccompData) => runSeccomp(program, d),
        ...(["jit", "interp"] as const).map((engine) => {
          const f = compileFilter(program, { engine });
          return (d: SeccompData) => f.run(seccompInput(d), 64) >>> 0;
        }),
      ];
      cases.forEach((c, i) => {
        const data: SeccompData = {
          nr: Number(c[0]),
          arch: AUDIT_ARCH_X86_64,
          instructionPointer: 0n,
          args: c.slice(1).map((a) => BigInt(a)),
        };
        for (const [e, run] of engines.entries()) {
          const v = seccompAction(run(data));
          const want = v.action === "allow" ? [-1, 38] : v.data === 0 ? [0, 0] : [-1, v.data];
          if (kernel[i]?.[0] !== want[0] || kernel[i]?.[1] !== want[1])
            differ.push(`seed ${seed} case ${i} engine ${e}: kernel ${JSON.stringify(kernel[i])}, ours ${JSON.stringify(want)}`);
        }
      });
    }
    assert.deepEqual(differ.slice(0, 10), []);
    assert.ok(refused < programs / 2, `${refused} of ${programs} generated filters were refused`);
  });
});
