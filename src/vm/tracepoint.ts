/**
 * Tracepoint contexts from a tracepoint's format description (tracefs `events/CATEGORY/NAME/format`): the
 * fields' offsets, sizes and signedness, so a test run can give a tracepoint program the record the kernel
 * would (`tracepointContext(format, { prev_pid: 42, prev_comm: "bash" })`). Pure text in, bytes out: the
 * format can be read on Linux once and kept with the tests.
 */
import { TsbpfError } from "../errors.js";

export interface TracepointField {
  name: string;
  /** The C type as written (`unsigned short`, `char[16]`, `__data_loc char[]`). */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** Elements of an array field (`char prev_comm[16]`: 16). */
  count?: number;
}

export interface TracepointFormat {
  name: string;
  id: number;
  fields: TracepointField[];
  /** Bytes up to the end of the last field. */
  size: number;
}

export class TracepointFormatError extends TsbpfError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super("EFORMAT", `tracepoint format line ${line}: ${message}`);
  }
}

const FIELD = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:([01]);/;

export function parseTracepointFormat(text: string): TracepointFormat {
  const lines = text.split("\n");
  const name = /^name:\s*(\S+)/m.exec(text)?.[1] ?? "";
  const id = Number(/^ID:\s*(\d+)/m.exec(text)?.[1] ?? 0);
  const fields: TracepointField[] = [];
  lines.forEach((line, i) => {
    if (!/^\s*field:/.test(line)) return;
    const m = FIELD.exec(line);
    if (!m) throw new TracepointFormatError(`cannot read the field description '${line.trim()}'`, i + 1);
    const decl = (m[1] as string).trim();
    const d = /^(.*?)([A-Za-z_]\w*)\s*(?:\[(\d*)\])?$/.exec(decl);
    if (!d) throw new TracepointFormatError(`cannot read the declaration '${decl}'`, i + 1);
    const count = d[3] ? Number(d[3]) : undefined;
    fields.push({
      name: d[2] as string,
      type: `${(d[1] as string).trim()}${d[3] !== undefined ? `[${d[3]}]` : ""}`,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === "1",
      ...(count !== undefined ? { count } : {}),
    });
  });
  if (fields.length === 0) throw new TracepointFormatError("no fields", 1);
  const size = Math.max(...fields.map((f) => f.offset + f.size));
  return { name, id, fields, size };
}

/**
 * The record a tracepoint program gets as its context: each named field written at its offset (numbers and
 * bigints in the host's byte order, little-endian; strings NUL-padded into char arrays; bytes as they are).
 */
export function tracepointContext(
  format: TracepointFormat | string,
  values: Readonly<Record<string, number | bigint | string | Uint8Array>>,
): Uint8Array {
  const f = typeof format === "string" ? parseTracepointFormat(format) : format;
  const out = new Uint8Array(f.size);
  const view = new DataView(out.buffer);
  for (const [name, value] of Object.entries(values)) {
    const field = f.fields.find((x) => x.name === name);
    if (!field)
      throw new TsbpfError("EFIELD", `tracepoint ${f.name} has no field '${name}' (it has: ${f.fields.map((x) => x.name).join(", ")})`);
    if (typeof value === "string" || value instanceof Uint8Array) {
      const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
      if (bytes.length > field.size) throw new TsbpfError("EFIELD", `field '${name}' holds ${field.size} bytes, not ${bytes.length}`);
      out.set(bytes, field.offset);
      continue;
    }
    const v = BigInt(value);
    const bits = BigInt(field.size * 8);
    const min = field.signed ? -(1n << (bits - 1n)) : 0n;
    const max = field.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
    if (field.size > 8 || v < min || v > max)
      throw new TsbpfError("EFIELD", `${value} does not fit field '${name}' (${field.type}, ${field.size} bytes)`);
    const u = BigInt.asUintN(field.size * 8, v);
    for (let i = 0; i < field.size; i++) view.setUint8(field.offset + i, Number((u >> BigInt(8 * i)) & 0xffn));
  }
  return out;
}
