/**
 * Capture files: the classic pcap format (either byte order, microsecond or nanosecond timestamps) read as a
 * stream in constant memory, and written; pcapng (section header, interface description, enhanced and simple
 * packet blocks) read the same way. Malformed files fail with the byte offset of the problem.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { TsbpfError } from "../errors.js";

export class CaptureError extends TsbpfError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super("ECAPTURE", `${message} (byte ${offset})`);
  }
}

export interface Packet {
  /** Seconds and nanoseconds since the epoch. */
  seconds: number;
  nanos: number;
  /** The captured bytes (a view, valid until the next packet is read: copy to keep it). */
  data: Uint8Array;
  /** The packet's length on the wire. */
  wireLength: number;
}

export interface CaptureInfo {
  format: "pcap" | "pcapng";
  linktype: number;
  snaplen: number;
  littleEndian: boolean;
  nanosecond: boolean;
}

/** Reads `length` bytes at the file position into a growing buffer; the reader's only I/O. */
class FileBytes {
  private buf = new Uint8Array(1 << 16);
  private start = 0; // file offset of buf[0]
  private end = 0; // valid bytes in buf
  private eof = false;

  constructor(private readonly fd: number) {}

  /** The bytes [offset, offset+length), or undefined at a clean end of file (none of them there). */
  read(offset: number, length: number): Uint8Array | undefined {
    if (offset < this.start) {
      // a second pass from an earlier offset (the header's first look, then the packets): read it again
      this.start = offset;
      this.end = 0;
      this.eof = false;
    }
    while (offset + length > this.start + this.end && !this.eof) {
      // drop what was consumed, grow if one record is larger than the buffer, then read more
      const keep = this.start + this.end - offset;
      if (keep > 0) this.buf.copyWithin(0, offset - this.start, this.end);
      this.start = offset;
      this.end = Math.max(keep, 0);
      if (length > this.buf.length) {
        const bigger = new Uint8Array(Math.max(length, this.buf.length * 2));
        bigger.set(this.buf.subarray(0, this.end));
        this.buf = bigger;
      }
      const n = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.start + this.end);
      if (n === 0) this.eof = true;
      this.end += n;
    }
    const available = this.start + this.end - offset;
    if (available <= 0) return undefined;
    if (available < length) throw new CaptureError(`truncated: ${length} bytes needed, ${available} left`, offset);
    return this.buf.subarray(offset - this.start, offset - this.start + length);
  }
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
/** libpcap's INITIAL_MAX_BLOCKSIZE: a larger pcapng block is corrupt (and would be read into memory whole). */
const MAX_BLOCK = 16 * 1024 * 1024;

/** Opens a capture file: its header now, its packets as they are iterated. */
/** libpcap's max_snaplen_for_dlt: the longest record it reads for a link type (D-Bus, EBHSCR and USBPcap differ). */
export function maxSnaplen(linktype: number): number {
  if (linktype === 231) return 128 * 1024 * 1024;
  if (linktype === 279) return 8 * 1024 * 1024;
  if (linktype === 249) return 1024 * 1024;
  return 262144;
}

/** The snapshot length libpcap reads a file with: the header's, or the maximum when that is 0 or larger. */
export function fileSnapshot(snaplen: number, linktype: number): number {
  const max = maxSnaplen(linktype);
  return snaplen === 0 || snaplen > max ? max : snaplen;
}

/**
 * How many bytes of a record libpcap keeps (sf-pcap.c): all of a record up to the snapshot length, the first
 * `snapshot` bytes of a longer one (old Solaris captures wrote such files); a record longer than the link
 * type's maximum is corrupt and ends the read with libpcap's message.
 */
export function keptLength(caplen: number, snapshot: number, linktype: number, at: number): number {
  if (caplen <= snapshot) return caplen;
  if (caplen > maxSnaplen(linktype))
    throw new CaptureError(`invalid packet capture length ${caplen}, bigger than snaplen of ${snapshot}`, at);
  return snapshot;
}

export function openCapture(path: string): { info: CaptureInfo; packets(): Generator<Packet>; close(): void } {
  const fd = openSync(path, "r");
  try {
    const bytes = new FileBytes(fd);
    const head = bytes.read(0, 24);
    if (!head) throw new CaptureError("empty file", 0);
    const v = new DataView(head.buffer, head.byteOffset, 24);
    const magicLe = v.getUint32(0, true);
    const magicBe = v.getUint32(0, false);
    if (magicLe === PCAPNG_SHB) return pcapng(fd, bytes);
    const le = magicLe === PCAP_US || magicLe === PCAP_NS;
    if (!le && magicBe !== PCAP_US && magicBe !== PCAP_NS)
      throw new CaptureError(`not a pcap or pcapng file (magic 0x${magicBe.toString(16)})`, 0);
    const nanosecond = (le ? magicLe : magicBe) === PCAP_NS;
    const info: CaptureInfo = {
      format: "pcap",
      littleEndian: le,
      nanosecond,
      snaplen: v.getUint32(16, le),
      linktype: v.getUint32(20, le) & 0x0fffffff,
    };
    const snapshot = fileSnapshot(info.snaplen, info.linktype);
    return {
      info,
      *packets() {
        let at = 24;
        for (;;) {
          const rec = bytes.read(at, 16);
          if (!rec) return;
          const r = new DataView(rec.buffer, rec.byteOffset, 16);
          const seconds = r.getUint32(0, le);
          const frac = r.getUint32(4, le);
          const caplen = r.getUint32(8, le);
          const wireLength = r.getUint32(12, le);
          const kept = keptLength(caplen, snapshot, info.linktype, at);
          const data = bytes.read(at + 16, caplen) ?? new Uint8Array(0);
          if (data.length < caplen) throw new CaptureError("truncated record", at);
          yield { seconds, nanos: nanosecond ? frac : frac * 1000, data: data.subarray(0, kept), wireLength };
          at += 16 + caplen;
        }
      },
      close: () => closeSync(fd),
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function pcapng(fd: number, bytes: FileBytes): { info: CaptureInfo; packets(): Generator<Packet>; close(): void } {
  const shb = bytes.read(0, 12) as Uint8Array;
  const bom = new DataView(shb.buffer, shb.byteOffset, 12).getUint32(8, true);
  const le = bom === 0x1a2b3c4d;
  if (!le && bom !== 0x4d3c2b1a) throw new CaptureError("bad pcapng byte-order magic", 8);
  const interfaces: Array<{ linktype: number; snaplen: number; tsDivisor: number }> = [];
  let at = 0;
  const block = (offset: number): { type: number; length: number; body: DataView } | undefined => {
    const h = bytes.read(offset, 8);
    if (!h) return undefined;
    const hv = new DataView(h.buffer, h.byteOffset, 8);
    const type = hv.getUint32(0, le);
    const length = hv.getUint32(4, le);
    if (length < 12 || length % 4) throw new CaptureError(`bad pcapng block length ${length}`, offset);
    if (length > MAX_BLOCK) throw new CaptureError(`pcapng block size ${length} > maximum ${MAX_BLOCK}`, offset);
    const all = bytes.read(offset, length);
    if (!all) throw new CaptureError(`truncated: ${length} bytes needed, 8 left`, offset);
    const trailer = new DataView(all.buffer, all.byteOffset + length - 4, 4).getUint32(0, le);
    if (trailer !== length) throw new CaptureError("block total length in header and trailer don't match", offset);
    return { type, length, body: new DataView(all.buffer, all.byteOffset + 8, length - 12) };
  };
  // libpcap's get_from_block_data: a block too short for its fixed fields
  const need = (body: DataView, n: number, type: number, offset: number): DataView => {
    if (body.byteLength < n) throw new CaptureError(`block of type ${type} in pcapng dump file is too short`, offset);
    return body;
  };
  const info: CaptureInfo = { format: "pcapng", littleEndian: le, nanosecond: false, linktype: 0, snaplen: 0 };
  const readInterface = (body: DataView): void => {
    const linktype = body.getUint16(0, le);
    const snaplen = body.getUint32(4, le);
    let tsDivisor = 1e6; // if_tsresol default: microseconds
    for (let o = 8; o + 4 <= body.byteLength; ) {
      const code = body.getUint16(o, le);
      const len = body.getUint16(o + 2, le);
      if (code === 0) break;
      if (code === 9 && len >= 1 && o + 4 < body.byteLength) {
        const r = body.getUint8(o + 4);
        tsDivisor = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
      }
      o += 4 + ((len + 3) & ~3);
    }
    interfaces.push({ linktype, snaplen, tsDivisor });
  };
  return {
    // the first interface description gives the file's link type
    info: (() => {
      let o = 0;
      for (let n = 0; n < 16; n++) {
        const b = block(o);
        if (!b) break;
        if (b.type === 1) {
          need(b.body, 8, b.type, o);
          info.linktype = b.body.getUint16(0, le);
          info.snaplen = b.body.getUint32(4, le);
          break;
        }
        o += b.length;
      }
      return info;
    })(),
    *packets() {
      at = 0;
      for (;;) {
        const b = block(at);
        if (!b) return;
        if (b.type === 1) readInterface(need(b.body, 8, b.type, at));
        else if (b.type === 6) {
          need(b.body, 20, b.type, at);
          const id = b.body.getUint32(0, le);
          const iface = interfaces[id];
          if (!iface)
            throw new CaptureError(
              interfaces.length === 0
                ? "the capture file has a packet block before any Interface Description Blocks"
                : `a packet arrived on interface ${id}, but there's no Interface Description Block for that interface`,
              at,
            );
          const ts = (BigInt(b.body.getUint32(4, le)) << 32n) | BigInt(b.body.getUint32(8, le));
          const caplen = b.body.getUint32(12, le);
          const wireLength = b.body.getUint32(16, le);
          if (20 + caplen > b.body.byteLength) throw new CaptureError("enhanced packet block shorter than its packet", at);
          const data = new Uint8Array(b.body.buffer, b.body.byteOffset + 20, caplen);
          const div = BigInt(iface.tsDivisor);
          const seconds = Number(ts / div);
          const nanos = Number(((ts % div) * 1_000_000_000n) / div);
          yield { seconds, nanos, data, wireLength };
        } else if (b.type === 3) {
          need(b.body, 4, b.type, at);
          if (interfaces.length === 0)
            throw new CaptureError("the capture file has a packet block before any Interface Description Blocks", at);
          const wireLength = b.body.getUint32(0, le);
          const iface = interfaces[0];
          const caplen = Math.min(wireLength, iface?.snaplen || wireLength, b.body.byteLength - 4);
          yield { seconds: 0, nanos: 0, data: new Uint8Array(b.body.buffer, b.body.byteOffset + 4, caplen), wireLength };
        }
        at += b.length;
      }
    },
    close: () => closeSync(fd),
  };
}

/** Writes a classic pcap file (little-endian; microsecond or nanosecond timestamps). */
export function createPcapWriter(path: string, linktype: number, opts: { snaplen?: number; nanosecond?: boolean } = {}) {
  const fd = openSync(path, "w");
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, opts.nanosecond ? PCAP_NS : PCAP_US, true);
  h.setUint16(4, 2, true);
  h.setUint16(6, 4, true);
  h.setUint32(16, opts.snaplen ?? 262144, true);
  h.setUint32(20, linktype, true);
  writeSync(fd, header);
  const rec = new Uint8Array(16);
  const r = new DataView(rec.buffer);
  return {
    write(p: Packet): void {
      r.setUint32(0, p.seconds, true);
      r.setUint32(4, opts.nanosecond ? p.nanos : Math.floor(p.nanos / 1000), true);
      r.setUint32(8, p.data.length, true);
      r.setUint32(12, p.wireLength, true);
      writeSync(fd, rec);
      writeSync(fd, p.data);
    },
    close(): void {
      closeSync(fd);
    },
  };
}
