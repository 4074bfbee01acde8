/**
 * Reading a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) from user space, zero-copy: the consumer page and the
 * producer page plus the data area (mapped twice back to back by the kernel, so records never wrap) are
 * mmap'd; each record is handed to the callback as a view into kernel memory, valid during the callback.
 * Layout: kernel/bpf/ringbuf.c and Documentation/bpf/ringbuf.rst.
 */
import { KernelError } from "./errors.js";
import type { KernelMap } from "./map.js";
import { linuxSys, type Sys } from "./sys.js";

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HEADER = 8;
const PAGE = 4096;

export interface RingBufStats {
  /** Records delivered to callbacks. */
  records: number;
  /** Records the producer discarded (bpf_ringbuf_discard), skipped. */
  discarded: number;
}

export class RingBufReader {
  readonly stats: RingBufStats = { records: 0, discarded: 0 };
  private readonly consumer: { bytes: Uint8Array; unmap(): void };
  private readonly producer: { bytes: Uint8Array; unmap(): void };
  private readonly cons: DataView;
  private readonly prod: DataView;
  private readonly data: Uint8Array;
  private readonly dataView: DataView;
  private readonly mask: number;
  private epoll: { wait(timeoutMs: number): Promise<number>; close(): void } | undefined;
  private closed = false;

  constructor(
    private readonly map: KernelMap,
    private readonly sys: Sys = linuxSys(),
  ) {
    if (map.spec.type !== 27) throw new KernelError(`ring buffer ${map.name}`, 22, `map type ${map.spec.typeName} is not a ringbuf`);
    const size = map.spec.maxEntries;
    this.mask = size - 1;
    this.consumer = sys.mmap(map.fd, PAGE, true, 0);
    this.producer = sys.mmap(map.fd, PAGE + 2 * size, false, PAGE);
    this.cons = new DataView(this.consumer.bytes.buffer, this.consumer.bytes.byteOffset, 8);
    this.prod = new DataView(this.producer.bytes.buffer, this.producer.bytes.byteOffset, 8);
    this.data = this.producer.bytes.subarray(PAGE);
    this.dataView = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }

  /** Delivers every record available now as a view (valid during the callback); returns how many. */
  poll(callback: (record: Uint8Array) => void): number {
    return this.pollRaw((buf, offset, length) => callback(buf.subarray(offset, offset + length)));
  }

  /**
   * The allocation-free form: the callback gets the data area, the record's offset and its length. The
   * consumer position is published every 256 records and at the end, freeing space for the producer.
   */
  pollRaw(callback: (data: Uint8Array, offset: number, length: number) => void): number {
    if (this.closed) throw new KernelError(`ring buffer ${this.map.name}`, 9, "closed");
    const cons32 = this.cons;
    let cons = cons32.getUint32(0, true) + cons32.getUint32(4, true) * 4294967296;
    const prod = this.prod.getUint32(0, true) + this.prod.getUint32(4, true) * 4294967296;
    const data = this.data;
    const view = this.dataView;
    const mask = this.mask;
    let n = 0;
    while (cons < prod) {
      const at = cons % (mask + 1);
      const header = view.getUint32(at, true);
      if (header & BUSY) break; // reserved, not yet submitted
      const len = header & 0x3fffffff;
      if (header & DISCARD) this.stats.discarded++;
      else {
        callback(data, at + HEADER, len);
        n++;
      }
      cons += (len + HEADER + 7) & ~7;
      if ((n & 255) === 0) this.publish(cons);
    }
    this.publish(cons);
    this.stats.records += n;
    return n;
  }

  private publish(cons: number): void {
    this.cons.setUint32(0, cons >>> 0, true);
    this.cons.setUint32(4, Math.floor(cons / 4294967296), true);
  }

  /** Waits (without blocking the event loop) until data may be there or the timeout passes. */
  async wait(timeoutMs: number): Promise<void> {
    this.epoll ??= this.sys.epollFor(this.map.fd);
    await this.epoll.wait(timeoutMs);
  }

  /** Records as copies, waiting for more as they come; ends when the reader closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    while (!this.closed) {
      const batch: Uint8Array[] = [];
      this.poll((r) => batch.push(r.slice()));
      yield* batch;
      if (batch.length === 0) await this.wait(100);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.epoll?.close();
    this.consumer.unmap();
    this.producer.unmap();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
