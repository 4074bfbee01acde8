/**
 * Reading a BPF perf buffer (BPF_MAP_TYPE_PERF_EVENT_ARRAY + bpf_perf_event_output): one BPF_OUTPUT perf
 * event per CPU with an mmap'd ring, its fd stored in the map at the CPU's index. Records are
 * PERF_RECORD_SAMPLE (raw data) or PERF_RECORD_LOST (count of samples the ring had no room for); a record
 * that wraps around the end of a ring is copied, the others are views into the ring.
 */
import { KernelError } from "./errors.js";
import { type KernelMap, possibleCpus } from "./map.js";
import { linuxSys, type Sys } from "./sys.js";

const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_BPF_OUTPUT = 10;
const PERF_SAMPLE_RAW = 1 << 10;
const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;
const PERF_EVENT_IOC_ENABLE = 0x2400;
const PAGE = 4096;

interface CpuRing {
  cpu: number;
  fd: number;
  mapping: { bytes: Uint8Array; unmap(): void };
  meta: DataView;
  data: Uint8Array;
}

export interface PerfBufStats {
  records: number;
  /** Samples the kernel dropped because a ring was full (from PERF_RECORD_LOST). */
  lost: number;
}

export class PerfBufReader {
  readonly stats: PerfBufStats = { records: 0, lost: 0 };
  private readonly rings: CpuRing[] = [];
  private closed = false;

  /** `pagesPerCpu` must be a power of two (the ring's data pages). */
  constructor(
    private readonly map: KernelMap,
    pagesPerCpu = 8,
    private readonly sys: Sys = linuxSys(),
  ) {
    if (map.spec.type !== 4)
      throw new KernelError(`perf buffer ${map.name}`, 22, `map type ${map.spec.typeName} is not a perf_event_array`);
    if (pagesPerCpu & (pagesPerCpu - 1)) throw new KernelError(`perf buffer ${map.name}`, 22, "pages per CPU must be a power of two");
    try {
      for (let cpu = 0; cpu < possibleCpus(); cpu++) {
        const attr = new Uint8Array(136);
        const v = new DataView(attr.buffer);
        v.setUint32(0, PERF_TYPE_SOFTWARE, true);
        v.setUint32(4, attr.length, true);
        v.setBigUint64(8, BigInt(PERF_COUNT_SW_BPF_OUTPUT), true);
        v.setBigUint64(16, 1n, true); // sample_period
        v.setBigUint64(24, BigInt(PERF_SAMPLE_RAW), true); // sample_type
        v.setUint32(48, 1, true); // wakeup_events
        const fd = sys.perfEventOpen(attr, -1, cpu, -1, 8 /* PERF_FLAG_FD_CLOEXEC */);
        let mapping: { bytes: Uint8Array; unmap(): void };
        try {
          mapping = sys.mmap(fd, PAGE * (pagesPerCpu + 1), true, 0);
        } catch (e) {
          sys.close(fd);
          throw e;
        }
        this.rings.push({
          cpu,
          fd,
          mapping,
          meta: new DataView(mapping.bytes.buffer, mapping.bytes.byteOffset, PAGE),
          data: mapping.bytes.subarray(PAGE),
        });
        sys.ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, cpu, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, fd, true);
        map.set(key, value);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Delivers every sample available now (cpu, raw data); returns how many. */
  poll(callback: (sample: Uint8Array, cpu: number) => void): number {
    if (this.closed) throw new KernelError(`perf buffer ${this.map.name}`, 9, "closed");
    let n = 0;
    for (const ring of this.rings) {
      const size = ring.data.length;
      const head = Number(ring.meta.getBigUint64(1024, true));
      let tail = Number(ring.meta.getBigUint64(1032, true));
      const read = (at: number, len: number): Uint8Array => {
        const start = at % size;
        if (start + len <= size) return ring.data.subarray(start, start + len);
        const copy = new Uint8Array(len); // wraps around the end of the ring
        copy.set(ring.data.subarray(start));
        copy.set(ring.data.subarray(0, len - (size - start)), size - start);
        return copy;
      };
      while (tail < head) {
        const header = read(tail, 8);
        const hv = new DataView(header.buffer, header.byteOffset, 8);
        const type = hv.getUint32(0, true);
        const recordSize = hv.getUint16(6, true);
        if (recordSize < 8) break; // corrupt: stop reading this ring
        if (type === PERF_RECORD_SAMPLE) {
          const lenBytes = read(tail + 8, 4);
          const len = new DataView(lenBytes.buffer, lenBytes.byteOffset, 4).getUint32(0, true);
          callback(read(tail + 12, len), ring.cpu);
          n++;
        } else if (type === PERF_RECORD_LOST) {
          const lost = read(tail + 16, 8);
          this.stats.lost += Number(new DataView(lost.buffer, lost.byteOffset, 8).getBigUint64(0, true));
        }
        tail += recordSize;
      }
      ring.meta.setBigUint64(1032, BigInt(tail), true);
    }
    this.stats.records += n;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.rings) {
      r.mapping.unmap();
      this.sys.close(r.fd);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
