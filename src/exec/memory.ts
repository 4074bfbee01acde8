/**
 * The machine's memory model: one linear memory (a WebAssembly.Memory, so JIT-compiled code shares it),
 * in which every region a program may point to lives — call-frame stacks, input memory, and later context,
 * packet and map values. A pointer is a plain offset into this memory; an access is allowed only when it
 * lies wholly inside one region with the right permission. Offsets below GUARD_SIZE are never mapped, so
 * NULL and small integers used as pointers fault.
 */
import { MAX_CALL_FRAMES, STACK_SIZE } from "../isa/opcodes.js";

export const GUARD_SIZE = 0x1000;
/**
 * The JIT's scratch: r0-r5 for helper calls (48 bytes), the LD_ABS packet (16), the end-of-run flag (8), the
 * region table's address and length (8), and the last regions checked code read and wrote (16 each: the
 * start, and the length less 8, so that an access of up to 8 bytes passes when `address - start` is at most
 * that).
 */
export const ENGINE_SCRATCH = 112;
/** Offsets in the scratch: the region table (i32 address, i32 count), then the read and write hit caches. */
export const SCRATCH_REGIONS = 72;
export const SCRATCH_READ_HIT = 80;
export const SCRATCH_WRITE_HIT = 96;
/** A region table entry in linear memory: i32 start, i32 end, i32 writable. */
export const REGION_ENTRY = 12;
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
    this.tableCapacity = 16;
    this.table = this.reserve(this.tableCapacity * REGION_ENTRY);
    this.view.setUint32(this.engineScratch + SCRATCH_REGIONS, this.table, true);
    this.forgetHits();
  }

  /** The region table checked JIT code scans, in linear memory (the arrays above mirror it). */
  private table: number;
  private tableCapacity: number;

  /**
   * Sets the hit caches to the outermost frame's top 8 bytes, which every checked access may use anyway:
   * after a region changes, no access passes on what an earlier one found.
   */
  private forgetHits(): void {
    const v = this.view;
    for (const at of [SCRATCH_READ_HIT, SCRATCH_WRITE_HIT]) {
      v.setUint32(this.engineScratch + at, this.stackTop - 8, true);
      v.setUint32(this.engineScratch + at + 4, 0, true);
      v.setUint32(this.engineScratch + at + 8, 0, true);
      v.setUint32(this.engineScratch + at + 12, 0, true);
    }
  }

  /** Writes region `index` into the linear-memory table (growing it when full). */
  private writeEntry(index: number): void {
    if (index >= this.tableCapacity) {
      const moved = this.reserve(this.tableCapacity * 2 * REGION_ENTRY);
      this.bytes.copyWithin(moved, this.table, this.table + this.tableCapacity * REGION_ENTRY);
      this.table = moved;
      this.tableCapacity *= 2;
      this.view.setUint32(this.engineScratch + SCRATCH_REGIONS, moved, true);
    }
    const v = this.view;
    const at = this.table + index * REGION_ENTRY;
    v.setUint32(at, this.regionStart[index] as number, true);
    v.setUint32(at + 4, this.regionEnd[index] as number, true);
    v.setUint32(at + 8, this.regionWritable[index] as number, true);
    v.setUint32(this.engineScratch + SCRATCH_REGIONS + 4, this.regionCount, true);
    this.forgetHits();
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
    this.writeEntry(this.regionCount - 1);
    return region;
  }

  /** Shrinks or regrows region `index` within the space first mapped for it. */
  resize(index: number, size: number): void {
    const end = (this.regionStart[index] as number) + size;
    if (this.regionEnd[index] === end) return;
    this.regionEnd[index] = end;
    this.writeEntry(index);
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
