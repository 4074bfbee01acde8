// The machine: memory faults are typed and located, never JS exceptions or host memory; the budget
// stops runaway loops; call frames have their own stacks; results match the DESIGN.md semantics.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VmError, type VmErrorCode } from "../src/exec/errors.js";
import { GUARD_SIZE } from "../src/exec/memory.js";
import { assemble } from "../src/isa/index.js";
import { Machine } from "../src/vm/machine.js";

const run = (asm: string, input?: Uint8Array, budget?: number): bigint =>
  new Machine().load(assemble(asm), budget !== undefined ? { budget } : {}).run(input ? { input } : {}).r0;

const faults = (asm: string, code: VmErrorCode, pc: number, message?: RegExp, input?: Uint8Array): void => {
  assert.throws(
    () => run(asm, input),
    (e: unknown) => e instanceof VmError && e.code === code && e.pc === pc && (message === undefined || message.test(e.message)),
    `${code} at pc ${pc}`,
  );
};

describe("memory faults", () => {
  it("names the pc, address and size of an out-of-bounds load", () => {
    faults(
      "mov %r0, 0\nldxw %r0, [%r1+4]\nexit",
      "OUT_OF_BOUNDS",
      1,
      /^out of bounds memory load at pc 1: addr 0x[0-9a-f]+, size 4$/,
      new Uint8Array(6),
    );
  });

  it("faults on a NULL or small-integer pointer", () => {
    faults("mov %r1, 0\nldxb %r0, [%r1]\nexit", "OUT_OF_BOUNDS", 1, /addr 0x0, size 1/);
    faults(`mov %r1, ${GUARD_SIZE - 8}\nstdw [%r1], 1\nexit`, "OUT_OF_BOUNDS", 1, /store/);
  });

  it("faults on addresses beyond 32 bits and on wrap-around", () => {
    faults("lddw %r1, 0x100000000\nldxb %r0, [%r1]\nexit", "OUT_OF_BOUNDS", 2, /addr 0x100000000/);
    faults("mov %r1, -1\nldxb %r0, [%r1]\nexit", "OUT_OF_BOUNDS", 1, /addr 0xffffffffffffffff/);
  });

  it("bounds each access by the stack in use: below the current frame faults", () => {
    assert.equal(run("stdw [%r10-512], 7\nldxdw %r0, [%r10-512]\nexit"), 7n);
    faults("stdw [%r10-520], 7\nexit", "OUT_OF_BOUNDS", 0, /store at pc 0/);
    faults("ldxdw %r0, [%r10]\nexit", "OUT_OF_BOUNDS", 0);
  });

  it("gives each call frame its own 512-byte stack and lets callees read callers' frames", () => {
    const asm = `
      stdw [%r10-8], 11
      mov %r1, %r10
      call local f
      ldxdw %r1, [%r10-8]
      add %r0, %r1
      exit
    f:
      stdw [%r10-8], 22     # callee's own slot
      ldxdw %r0, [%r1-8]    # caller's slot through a pointer
      ldxdw %r2, [%r10-8]
      add %r0, %r2
      exit`;
    assert.equal(run(asm), 11n + 22n + 11n);
  });

  it("does not let an access straddle two regions", () => {
    faults("ldxdw %r0, [%r1+4]\nexit", "OUT_OF_BOUNDS", 0, /size 8/, new Uint8Array(8));
  });

  it("stops runaway loops with the instruction budget", () => {
    // 1000 instructions run (pc 0, then 1,2,1,2…); the 1001st, at pc 2, is refused.
    assert.throws(
      () => run("mov %r0, 0\nloop:\nadd %r0, 1\nja loop", undefined, 1000),
      (e: unknown) =>
        e instanceof VmError && e.code === "BUDGET" && e.pc === 2 && /instruction budget of 1000 exhausted at pc 2/.test(e.message),
    );
    assert.equal(run("mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 10, loop\nexit", undefined, 22), 10n);
    assert.throws(() => run("mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 10, loop\nexit", undefined, 21), VmError);
  });

  it("limits call depth to 8 frames", () => {
    faults("call local f\nexit\nf:\ncall local f\nexit", "CALL_DEPTH", 2, /call stack too deep/);
  });

  it("keeps stores to the input visible in the output", () => {
    const m = new Machine().load(assemble("stw [%r1+0], 0x44332211\nmov %r0, 0\nexit"));
    assert.deepEqual(m.run({ input: new Uint8Array(4) }).output, new Uint8Array([0x11, 0x22, 0x33, 0x44]));
  });
});

describe("semantics (DESIGN.md)", () => {
  it("zero-extends 32-bit results and compares only the low half in JMP32", () => {
    assert.equal(run("lddw %r0, 0xffffffffffffffff\nadd32 %r0, 1\nexit"), 0n);
    assert.equal(run("lddw %r0, 0x1ffffffff\nmov %r1, -1\njeq32 %r0, %r1, +1\nexit\nmov %r0, 7\nexit"), 7n);
  });

  it("sign-extends 64-bit immediates, also for unsigned compares", () => {
    assert.equal(run("mov %r0, -1\nexit"), 0xffffffffffffffffn);
    assert.equal(run("lddw %r1, 0xffffffffffffffff\nmov %r0, 0\njeq %r1, 0xffffffff, +1\nexit\nmov %r0, 1\nexit"), 1n);
  });

  it("divides and takes remainders as the kernel does", () => {
    assert.equal(run("mov %r0, 7\ndiv %r0, 0\nexit"), 0n);
    assert.equal(run("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit"), 7n);
    assert.equal(run("lddw %r0, 0x1ffffffff\nmov32 %r1, 0\nmod32 %r0, %r1\nexit"), 0xffffffffn);
    assert.equal(run("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"), 0x8000000000000000n);
    assert.equal(run("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0n);
    assert.equal(run("mov %r0, -7\nsmod %r0, 2\nexit"), 0xffffffffffffffffn);
    assert.equal(
      run("lddw %r0, 0xfffffffffffffff1\nlddw %r1, 0x10000000000003\ndiv %r0, %r1\nexit"),
      0xfffffffffffffff1n / 0x10000000000003n,
    );
    assert.equal(
      run("lddw %r0, 0xfffffffffffffff1\nlddw %r1, 0x10000000000003\nmod %r0, %r1\nexit"),
      0xfffffffffffffff1n % 0x10000000000003n,
    );
  });

  it("masks shift amounts", () => {
    assert.equal(run("mov %r0, 1\nlsh %r0, 65\nexit"), 2n);
    assert.equal(run("mov32 %r0, 1\nlsh32 %r0, 33\nexit"), 2n);
  });

  it("swaps and truncates bytes", () => {
    assert.equal(run("lddw %r0, 0x1122334455667788\nbe16 %r0\nexit"), 0x8877n);
    assert.equal(run("lddw %r0, 0x1122334455667788\nle32 %r0\nexit"), 0x55667788n);
    assert.equal(run("lddw %r0, 0x1122334455667788\nbswap64 %r0\nexit"), 0x8877665544332211n);
  });

  it("runs the legacy packet loads in network byte order and ends the program when out of bounds", () => {
    const packet = new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a]);
    assert.equal(run("ldabsh 1\nexit", packet), 0x3456n);
    assert.equal(run("mov %r3, 1\nldindw %r3, 0\nexit", packet), 0x3456789an);
    assert.equal(run("mov %r0, 9\nldabsw 2\nmov %r0, 5\nexit", packet), 0n);
  });
});
