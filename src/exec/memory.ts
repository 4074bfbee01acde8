/**
 * The machine's memory model: one linear memory (a WebAssembly.Memory, so JIT-compiled code shares it),
 * in which every region a program may point to lives — call-frame stacks, input memory, and later context,
 * packet and map values. A pointer is a plain offset into this memory; an access is allowed only when it
 * lies wholly inside one region with the right permission. Offsets below GUARD_SIZE are never mapped, so
 * NULL and small integers used as pointers fault.
 */
import { MAX_CALL_FRAMES, STACK_SIZE } from "../isa/opcodes.js";

export const GUARD_SIZE = 0x1000;
/** The JIT's scratch: r0-r5 for helper calls (48 bytes), the LD_ABS packet (16), the end-of-run flag (8). */
export const ENGINE_SCRATCH = 72;
const PAGE = 65536;

export interface Region {
  readonly name: string;
  readonly start: number;
  readonly size: number;
  readonly writable: boolean;
}

export class Memory {
  readonly wasm: WebAssembly.Memory;
  /** Views over the current buffer; refreshed when memory grows. */
  bytes: Uint8Array;
  view: DataView;
  /** Region bounds as flat arrays, scanned by the interpreter on the slow path of an access check. */
  regionStart: Float64Array;
  regionEnd: Float64Array;
  regionWritable: Uint8Array;
  regionCount = 0;
  private readonly regionNames: string[] = [];
  private top: number;
  /** The call-frame stacks: [stackBase, stackTop); frame 0 sits just below stackTop. */
  readonly stackBase: number;
  readonly stackTop: number;
  /** Bytes programs cannot reach (no region), for the JIT: register spills and per-frame saves. */
  readonly engineScratch: number;

  constructor(initialBytes = PAGE) {
    this.wasm = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(initialBytes / PAGE)) });
    this.bytes = new Uint8Array(this.wasm.buffer);
    this.view = new DataView(this.wasm.buffer);
    this.regionStart = new Float64Array(8);
    this.regionEnd = new Float64Array(8);
    this.regionWritable = new Uint8Array(8);
    this.top = GUARD_SIZE;
    this.stackBase = this.reserve(MAX_CALL_FRAMES * STACK_SIZE);
    this.stackTop = this.stackBase + MAX_CALL_FRAMES * STACK_SIZE;
    // reserved whichever engine runs, so addresses (and fault messages) are the same under both
    this.engineScratch = this.reserve(ENGINE_SCRATCH);
  }

  /** Reserves bytes (16-byte aligned) without making them accessible; grows the memory when needed. */
  private reserve(size: number): number {
    const start = (this.top + 15) & ~15;
    const end = start + size;
    if (end > this.wasm.buffer.byteLength) {
      this.wasm.grow(Math.ceil((end - this.wasm.buffer.byteLength) / PAGE));
      this.bytes = new Uint8Array(this.wasm.buffer);
      this.view = new DataView(this.wasm.buffer);
    }
    this.top = end;
    return start;
  }

  /** Allocates a region the program may access. */
  map(name: string, size: number, writable: boolean): Region {
    const start = this.reserve(Math.max(size, 1));
    const region: Region = { name, start, size, writable };
    if (this.regionCount === this.regionStart.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.regionStart = grow(this.regionStart, (n) => new Float64Array(n));
      this.regionEnd = grow(this.regionEnd, (n) => new Float64Array(n));
      this.regionWritable = grow(this.regionWritable, (n) => new Uint8Array(n));
    }
    this.regionStart[this.regionCount] = start;
    this.regionEnd[this.regionCount] = start + size;
    this.regionWritable[this.regionCount] = writable ? 1 : 0;
    this.regionCount++;
    this.regionNames.push(name);
    return region;
  }

  /** Shrinks or regrows region `index` within the space first mapped for it. */
  resize(index: number, size: number): void {
    this.regionEnd[index] = (this.regionStart[index] as number) + size;
  }

  /** Regions mapped now (not counting the stack, which the interpreter bounds by call depth). */
  regions(): Region[] {
    return this.regionNames.map((name, i) => {
      const start = this.regionStart[i] as number;
      return { name, start, size: (this.regionEnd[i] as number) - start, writable: this.regionWritable[i] === 1 };
    });
  }

  /** Whether [addr, addr+size) lies in one mapped region (writable when `write`). */
  inRegion(addr: number, size: number, write: boolean): boolean {
    const end = addr + size;
    for (let i = 0; i < this.regionCount; i++) {
      if (addr >= (this.regionStart[i] as number) && end <= (this.regionEnd[i] as number)) {
        return !write || this.regionWritable[i] === 1;
      }
    }
    return false;
  }

  /** The region containing addr (the stack counts as one region), if any. */
  regionAt(addr: number): Region | undefined {
    if (addr >= this.stackBase && addr < this.stackTop) {
      return { name: "stack", start: this.stackBase, size: this.stackTop - this.stackBase, writable: true };
    }
    return this.regions().find((r) => addr >= r.start && addr < r.start + r.size);
  }
}

/**
 * A region reused run after run (input memory, a context, a packet): resized to each run's size, and mapped
 * anew (the old space left unreachable) only when a run needs more than it has.
 */
export class ReusableRegion {
  private index = -1;
  private capacity = -1;
  private start = 0;

  constructor(
    private readonly memory: Memory,
    private readonly name: string,
    private readonly minimum = 64,
  ) {}

  /** The region's address, now exactly `size` bytes long (their contents are whatever the last run left). */
  take(size: number): number {
    if (size > this.capacity) {
      if (this.index >= 0) this.memory.resize(this.index, 0);
      const capacity = Math.max(size, this.minimum);
      this.start = this.memory.map(this.name, capacity, true).start;
      this.index = this.memory.regionCount - 1;
      this.capacity = capacity;
    }
    this.memory.resize(this.index, size);
    return this.start;
  }
}
