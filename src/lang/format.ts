/**
 * printf as bpftrace 0.17 runs it: the format is cut after each conversion specifier and each piece goes
 * through C's snprintf with its argument; the tail after the last specifier is written as it is (so `%%`
 * stays doubled there). Integer arguments are 64-bit; the length modifier picks the bits snprintf sees.
 */

export interface Specifier {
  /** Index in the format string of the '%'. */
  readonly at: number;
  readonly end: number;
  readonly flags: string;
  readonly width: string;
  readonly precision: string | undefined;
  readonly length: string;
  readonly conversion: string;
}

const SPEC = /^%([-0]*)([0-9]*)(?:\.([0-9]*))?(hh|h|ll|l|j|z|t)?([diouxXcspr])/;

/** The conversion specifiers of a format, in order (`%%` and unknown ones like `%f` are not specifiers). */
export function specifiers(format: string): Specifier[] {
  const out: Specifier[] = [];
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== "%") continue;
    if (format[i + 1] === "%") {
      i++;
      continue;
    }
    const m = SPEC.exec(format.slice(i));
    if (!m) continue;
    out.push({
      at: i,
      end: i + m[0].length,
      flags: m[1] ?? "",
      width: m[2] ?? "",
      precision: m[3],
      length: m[4] ?? "",
      conversion: m[5] as string,
    });
    i += m[0].length - 1;
  }
  return out;
}

/** What a specifier's argument must be. */
export function specifierKind(s: Specifier): "integer" | "string" | "buffer" {
  return s.conversion === "s" ? "string" : s.conversion === "r" ? "buffer" : "integer";
}

export type PrintfArg = bigint | Uint8Array;

/** Formats `format` with the arguments (bytes of a string or buffer, or a 64-bit integer), into bytes. */
export function printf(format: Uint8Array, args: readonly PrintfArg[]): Uint8Array {
  const text = latin1(format);
  const specs = specifiers(text);
  if (args.length === 0 || specs.length === 0) return format;
  const out: number[] = [];
  let from = 0;
  specs.forEach((s, n) => {
    const piece = text.slice(from, s.end);
    pushLatin1(out, cPiece(piece, s, args[n] ?? 0n));
    from = s.end;
  });
  for (let i = from; i < format.length; i++) out.push(format[i] as number);
  return Uint8Array.from(out);
}

/** One snprintf call on a piece that ends with its specifier: `%%` before it becomes `%`. */
function cPiece(piece: string, s: Specifier, arg: PrintfArg): string {
  const prefix = piece.slice(0, piece.length - (s.end - s.at)).replace(/%%/g, "%");
  return prefix + convert(s, arg);
}

function convert(s: Specifier, arg: PrintfArg): string {
  let body: string;
  let zeroPad = s.flags.includes("0") && !s.flags.includes("-");
  if (s.conversion === "s" || s.conversion === "r") {
    const bytes = typeof arg === "bigint" ? new Uint8Array() : arg;
    let str = s.conversion === "r" ? escapeBuffer(bytes) : latin1(cString(bytes));
    if (s.precision !== undefined) str = str.slice(0, Number(s.precision || "0"));
    body = str;
    zeroPad = false;
  } else {
    const v = typeof arg === "bigint" ? arg : 0n;
    const bits = s.length === "hh" ? 8 : s.length === "h" ? 16 : s.length === "" ? 32 : 64;
    const signed = BigInt.asIntN(bits, v);
    const unsigned = BigInt.asUintN(bits, v);
    switch (s.conversion) {
      case "d":
      case "i":
        body = signed.toString();
        break;
      case "u":
        body = unsigned.toString();
        break;
      case "x":
        body = unsigned.toString(16);
        break;
      case "X":
        body = unsigned.toString(16).toUpperCase();
        break;
      case "o":
        body = unsigned.toString(8);
        break;
      case "c":
        body = String.fromCharCode(Number(BigInt.asUintN(8, v)));
        break;
      default: {
        // %p: 64 bits whatever the modifier; glibc prints 0 as (nil)
        const p = BigInt.asUintN(64, v);
        body = p === 0n ? "(nil)" : `0x${p.toString(16)}`;
        zeroPad = false;
      }
    }
    if (s.precision !== undefined && s.conversion !== "c" && s.conversion !== "p") {
      const neg = body.startsWith("-");
      const digits = neg ? body.slice(1) : body;
      const want = Number(s.precision || "0");
      body = (neg ? "-" : "") + (want === 0 && digits === "0" ? "" : digits.padStart(want, "0"));
      zeroPad = false;
    }
  }
  const width = Number(s.width || "0");
  if (body.length >= width) return body;
  if (s.flags.includes("-")) return body.padEnd(width, " ");
  if (zeroPad) {
    const neg = body.startsWith("-");
    return (neg ? "-" : "") + (neg ? body.slice(1) : body).padStart(width - (neg ? 1 : 0), "0");
  }
  return body.padStart(width, " ");
}

/** Bytes up to the first NUL. */
export function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/** %r: printable bytes as they are, others as \xNN. */
export function escapeBuffer(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  return s;
}

export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function pushLatin1(out: number[], s: string): void {
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}
