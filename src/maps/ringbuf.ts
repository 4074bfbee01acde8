/**
 * RINGBUF: programs reserve space, fill it in place and submit (or discard) it, or copy a record in with
 * bpf_ringbuf_output; user space drains the records in the order they were reserved. The data area lives in
 * linear memory with the kernel's 8-byte record headers (length with BUSY and DISCARD bits). The kernel maps
 * the area twice so records wrap seamlessly; here a record that would straddle the end is preceded by a
 * discarded filler up to the end instead, which the consumer skips.
 */
import type { MapSpec } from "../object/maps.js";
import { EAGAIN, EINVAL, type MapEnv, VmMap } from "./map.js";

const HEADER = 8;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const BPF_RB_NO_WAKEUP = 1;
const BPF_RB_FORCE_WAKEUP = 2;

export class RingBufMap extends VmMap {
  readonly data: number;
  private readonly size: number;
  private producer = 0;
  private consumer = 0;
  /** Reservations refused for lack of space (user space never sees those records). */
  dropped = 0;

  constructor(spec: MapSpec, env: MapEnv) {
    super(spec, env);
    const n = spec.maxEntries;
    // key and value sizes are ignored: BTF definitions may name a value type, which libbpf drops too
    if (n < 4096 || (n & (n - 1)) !== 0) this.fail("create", EINVAL, `max_entries ${n} is not a power of 2 of at least a page`);
    this.size = n;
    this.data = env.memory.map(`map ${spec.name} data`, n, true).start;
  }

  /** Bytes waiting for the consumer. */
  get pending(): number {
    return this.producer - this.consumer;
  }

  /** bpf_ringbuf_reserve: the record's data address, or 0 when it does not fit. */
  reserve(size: number, flags: number): number {
    if (flags !== 0 || size === 0 || size > this.size - HEADER) return 0;
    const total = (size + HEADER + 7) & ~7;
    let at = this.producer % this.size;
    const filler = at + total > this.size ? this.size - at : 0;
    if (this.producer + filler + total - this.consumer > this.size) {
      this.dropped++;
      return 0;
    }
    const view = this.env.memory.view;
    if (filler > 0) {
      view.setUint32(this.data + at, (filler - HEADER) | DISCARD, true);
      this.producer += filler;
      at = 0;
    }
    view.setUint32(this.data + at, size | BUSY, true);
    view.setUint32(this.data + at + 4, 0, true);
    this.producer += total;
    return this.data + at + HEADER;
  }

  /** bpf_ringbuf_submit / bpf_ringbuf_discard of the record at `dataAddr`. */
  commit(dataAddr: number, discard: boolean, flags: number): void {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return;
    const view = this.env.memory.view;
    const header = dataAddr - HEADER;
    const len = view.getUint32(header, true) & ~BUSY;
    view.setUint32(header, discard ? len | DISCARD : len, true);
  }

  /** bpf_ringbuf_output: 0, or -EAGAIN when the record does not fit. */
  output(srcAddr: number, size: number, flags: number): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -EINVAL;
    const at = this.reserve(size, 0);
    if (at === 0) return -EAGAIN;
    this.env.memory.bytes.copyWithin(at, srcAddr, srcAddr + size);
    this.commit(at, false, 0);
    return 0;
  }

  /**
   * Hands every submitted record to `onRecord` in order (a copy; the kernel reader has the same `poll`), stopping at a record still being written;
   * returns how many it handed over. Discarded records are skipped.
   */
  poll(onRecord: (record: Uint8Array) => void): number {
    const view = this.env.memory.view;
    let n = 0;
    while (this.consumer < this.producer) {
      const at = this.data + (this.consumer % this.size);
      const header = view.getUint32(at, true);
      if (header & BUSY) break;
      const len = header & ~(BUSY | DISCARD);
      if (!(header & DISCARD)) {
        onRecord(this.env.memory.bytes.slice(at + HEADER, at + HEADER + len));
        n++;
      }
      this.consumer += (len + HEADER + 7) & ~7;
    }
    return n;
  }

  get(_key: Uint8Array): Uint8Array | undefined {
    return this.fail("lookup", EINVAL, "ring buffers are read with poll()");
  }

  set(): void {
    this.fail("update", EINVAL, "ring buffers are written by programs");
  }

  delete(): void {
    this.fail("delete", EINVAL, "ring buffers have no elements");
  }

  nextKey(): Uint8Array | undefined {
    return this.fail("get_next_key", EINVAL, "ring buffers have no keys");
  }

  lookupFromProgram(): number {
    return 0;
  }
}
