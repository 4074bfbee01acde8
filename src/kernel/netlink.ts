/**
 * rtnetlink messages, built and parsed in TypeScript: the framing (nlmsghdr, nested attributes, 4-byte
 * alignment) and the kernel's answers, including the extended-ack text the kernel attaches to an error
 * ("Exclusivity flag on, cannot modify"). The socket itself is in kernel/sys (`netlinkRoute`).
 */
import { KernelError } from "./errors.js";

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSGERR_ATTR_MSG = 1;
const NLM_F_ACK_TLVS = 0x200;
const NLM_F_CAPPED = 0x100;

/** An attribute: a number (u32 unless `u8`), a string (NUL-terminated), bytes, or nested attributes. */
export type NetlinkAttribute =
  | { type: number; u32: number }
  | { type: number; s32: number }
  | { type: number; string: string }
  | { type: number; nested: readonly NetlinkAttribute[] };

const align4 = (n: number): number => (n + 3) & ~3;

function encodeAttribute(a: NetlinkAttribute): Uint8Array {
  let payload: Uint8Array;
  let type = a.type;
  if ("nested" in a) {
    payload = concat(a.nested.map(encodeAttribute));
    type |= NLA_F_NESTED;
  } else if ("string" in a) {
    payload = new TextEncoder().encode(`${a.string}\0`);
  } else {
    payload = new Uint8Array(4);
    const v = new DataView(payload.buffer);
    if ("u32" in a) v.setUint32(0, a.u32, true);
    else v.setInt32(0, a.s32, true);
  }
  const out = new Uint8Array(align4(4 + payload.length));
  const v = new DataView(out.buffer);
  v.setUint16(0, 4 + payload.length, true);
  v.setUint16(2, type, true);
  out.set(payload, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let sequence = 1;

/** One request: header, the fixed family struct (ifinfomsg, tcmsg), then attributes. */
export function netlinkMessage(type: number, flags: number, family: Uint8Array, attributes: readonly NetlinkAttribute[] = []): Uint8Array {
  const body = concat([family, ...attributes.map(encodeAttribute)]);
  const out = new Uint8Array(16 + align4(body.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, 16 + body.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, sequence++, true);
  out.set(body, 16);
  return out;
}

/** A parsed reply message: its type and the bytes after the 16-byte header. */
export interface NetlinkReply {
  type: number;
  flags: number;
  payload: Uint8Array;
}

/** Splits datagrams into messages; throws the kernel's error (with its extended-ack text) if one is an error. */
export function parseReplies(datagrams: readonly Uint8Array[], operation: string): NetlinkReply[] {
  const out: NetlinkReply[] = [];
  for (const d of datagrams) {
    const v = new DataView(d.buffer, d.byteOffset, d.length);
    let at = 0;
    while (at + 16 <= d.length) {
      const len = v.getUint32(at, true);
      if (len < 16 || at + len > d.length) throw new KernelError(operation, 71 /* EPROTO */, `malformed netlink reply at byte ${at}`);
      const type = v.getUint16(at + 4, true);
      const flags = v.getUint16(at + 6, true);
      const payload = d.subarray(at + 16, at + len);
      if (type === NLMSG_ERROR) {
        const errno = -new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true);
        if (errno !== 0) throw new KernelError(operation, errno, extendedAck(payload, flags));
      } else if (type !== NLMSG_DONE) {
        out.push({ type, flags, payload });
      }
      at += align4(len);
    }
  }
  return out;
}

/** The message text of an error's extended ack, when the kernel gave one. */
function extendedAck(payload: Uint8Array, flags: number): string | undefined {
  if (!(flags & NLM_F_ACK_TLVS)) return undefined;
  // struct nlmsgerr: int error, then the request's header (and, unless capped, its whole body)
  const requestLength = new DataView(payload.buffer, payload.byteOffset + 4, 4).getUint32(0, true);
  const start = 4 + (flags & NLM_F_CAPPED ? 16 : align4(requestLength));
  const attrs = parseAttributes(payload.subarray(start));
  const msg = attrs.get(NLMSGERR_ATTR_MSG);
  return msg && cString(msg);
}

/** Attributes by type (the last one wins; nested ones are parsed by the caller). */
export function parseAttributes(bytes: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 0;
  while (at + 4 <= bytes.length) {
    const len = v.getUint16(at, true);
    if (len < 4 || at + len > bytes.length) break;
    out.set(v.getUint16(at + 2, true) & ~NLA_F_NESTED, bytes.subarray(at + 4, at + len));
    at += align4(len);
  }
  return out;
}

export function u32(bytes: Uint8Array | undefined): number | undefined {
  return bytes && bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) : undefined;
}

export function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Whether a datagram ends a request's answer (an ack/error, or the end of a dump). */
export function endsAnswer(datagram: Uint8Array): boolean {
  const v = new DataView(datagram.buffer, datagram.byteOffset, datagram.length);
  let at = 0;
  while (at + 16 <= datagram.length) {
    const len = v.getUint32(at, true);
    const type = v.getUint16(at + 4, true);
    if (type === NLMSG_ERROR || type === NLMSG_DONE) return true;
    if (len < 16) return true;
    at += align4(len);
  }
  return false;
}
