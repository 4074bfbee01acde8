/**
 * Filtering a classic pcap file fast: the file is read in large chunks straight into a buffer the caller
 * provides (for the JIT, a region of the filter's own machine memory, so packets are never copied), and
 * records are walked in place. pcapng and anything unusual go through `openCapture` instead.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { CaptureError, fileSnapshot, keptLength } from "./pcap.js";

export interface ScanRecord {
  seconds: number;
  nanos: number;
  /** Offset of the packet's bytes in the buffer, and its captured and wire lengths. */
  offset: number;
  length: number;
  wireLength: number;
}

export interface ScanOptions {
  /** Where to read the file (at least 64 KiB; a record larger than it ends the fast path). */
  buffer: () => Uint8Array;
  /** The filter's verdict for the packet at [offset, offset+length) of the buffer. */
  test(offset: number, length: number, wireLength: number): boolean;
  /** Called for each matching packet (its bytes are valid until the next call). */
  onMatch?(record: ScanRecord, bytes: Uint8Array): void;
  /** Stop after this many matches. */
  limit?: number;
  /**
   * Filters all complete records in [offset, end) of the buffer at once (little-endian files, when neither
   * `onMatch` nor `limit` is given): matches, records, and the offset of the first record that is incomplete
   * or captured more than `longest` bytes (the file's snapshot length: such a record is cut to it here).
   */
  bulk?(offset: number, end: number, longest: number): { matched: number; records: number; next: number } | undefined;
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

/** Filters a classic pcap file; returns undefined when the file is not one (e.g. pcapng). */
export function scanPcap(path: string, opts: ScanOptions): { packets: number; matched: number } | undefined {
  const fd = openSync(path, "r");
  try {
    const header = new Uint8Array(24);
    if (readSync(fd, header, 0, 24, 0) < 24) return undefined;
    const h = new DataView(header.buffer);
    let le: boolean;
    if (h.getUint32(0, true) === MAGIC_US || h.getUint32(0, true) === MAGIC_NS) le = true;
    else if (h.getUint32(0, false) === MAGIC_US || h.getUint32(0, false) === MAGIC_NS) le = false;
    else return undefined;
    const nano = h.getUint32(0, le) === MAGIC_NS;
    const linktype = h.getUint32(20, le) & 0x0fffffff;
    const snapshot = fileSnapshot(h.getUint32(16, le), linktype);
    let buf = opts.buffer();
    if (buf.length < 65536) throw new RangeError("scanPcap needs a buffer of at least 64 KiB");
    let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let filePos = 24; // file offset of buf[0]
    let filled = 0;
    let pos = 0;
    let eof = false;
    let packets = 0;
    let matched = 0;
    /** Makes [pos, pos+need) present; false at the end of the file. */
    const ensure = (need: number): boolean => {
      if (pos + need <= filled) return true;
      if (need > buf.length) return false;
      buf = opts.buffer();
      buf.copyWithin(0, pos, filled);
      filePos += pos;
      filled -= pos;
      pos = 0;
      while (filled < need && !eof) {
        const n = readSync(fd, buf, filled, buf.length - filled, filePos + filled);
        if (n === 0) eof = true;
        filled += n;
      }
      view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      return filled >= need;
    };
    /** A record that cannot be completed: too large for the buffer, or cut off by the end of the file. */
    const incomplete = (length: number): never => {
      if (16 + length > buf.length) throw new CaptureError(`record of ${length} bytes is larger than the scan buffer`, filePos + pos);
      throw new CaptureError(`truncated: ${16 + length} bytes needed, ${filled - pos} left`, filePos + pos);
    };
    const bulk = le && !opts.onMatch && opts.limit === undefined ? opts.bulk : undefined;
    while (bulk) {
      if (!ensure(16)) {
        if (filled > pos) throw new CaptureError("truncated record header", filePos + pos);
        return { packets, matched };
      }
      const r = bulk(pos, filled, snapshot);
      if (!r) break;
      packets += r.records;
      matched += r.matched;
      if (r.next !== pos) {
        pos = r.next;
        continue;
      }
      // the record at pos is incomplete (read the rest of it: ensure moves it to the buffer's start) or
      // longer than the snapshot (filter its first `snapshot` bytes, as libpcap does)
      const length = view.getUint32(pos + 8, le);
      const kept = keptLength(length, snapshot, linktype, filePos + pos);
      if (!ensure(16 + length)) {
        incomplete(length);
      }
      if (kept === length) continue;
      packets++;
      if (opts.test(pos + 16, kept, view.getUint32(pos + 12, le))) matched++;
      pos += 16 + length;
    }
    for (;;) {
      if (!ensure(16)) {
        if (filled > pos) throw new CaptureError("truncated record header", filePos + pos);
        break;
      }
      const length = view.getUint32(pos + 8, le);
      const wireLength = view.getUint32(pos + 12, le);
      const kept = keptLength(length, snapshot, linktype, filePos + pos);
      if (!ensure(16 + length)) {
        incomplete(length);
      }
      packets++;
      const offset = pos + 16;
      if (opts.test(offset, kept, wireLength)) {
        matched++;
        if (opts.onMatch) {
          const seconds = view.getUint32(pos, le);
          const frac = view.getUint32(pos + 4, le);
          opts.onMatch({ seconds, nanos: nano ? frac : frac * 1000, offset, length: kept, wireLength }, buf);
        }
        if (opts.limit !== undefined && matched >= opts.limit) break;
      }
      pos = offset + length;
    }
    return { packets, matched };
  } finally {
    closeSync(fd);
  }
}
