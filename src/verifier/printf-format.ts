/**
 * bpf_bprintf_prepare's check of a format string (bpf_snprintf's, checked when the program loads): plain
 * printable text, and no more conversions than the program passes arguments, each one the kernel's printf
 * can do (%d %i %u %x %X with l/ll, %c, %s, %p with its k/u/K/x/s/S/B/i4/I4/i6/I6 forms, optional width).
 */
const isPrint = (c: number): boolean => c >= 0x20 && c < 0x7f;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPunct = (c: number): boolean => isPrint(c) && !isSpace(c) && !/[0-9A-Za-z]/.test(String.fromCharCode(c));
/** After %s or %p: the end, a space or punctuation. */
const ends = (c: number): boolean => c === 0 || isSpace(c) || isPunct(c);

/** Whether `fmt` (up to its NUL) is a format bpf_snprintf may be given with `numArgs` arguments. */
export function printfFormatOk(fmt: Uint8Array, numArgs: number): boolean {
  const end = fmt.indexOf(0);
  const n = end < 0 ? fmt.length : end;
  const at = (k: number): number => (k < n ? (fmt[k] as number) : 0);
  let specs = 0;
  for (let i = 0; i < n; i++) {
    const c = at(i);
    // Bytes from 0x80 pass (UTF-8 text); ASCII control bytes do not.
    if (c < 0x80 && !isPrint(c) && !isSpace(c)) return false;
    if (c !== 0x25) continue; // '%'
    if (at(i + 1) === 0x25) {
      i++;
      continue;
    }
    if (specs >= numArgs) return false;
    i++;
    if (at(i) >= 0x80) return false;
    while ([0x30, 0x2b, 0x2d, 0x20].includes(at(i))) i++; // 0 + - space
    if (at(i) >= 0x31 && at(i) <= 0x39) {
      i++;
      while (at(i) >= 0x30 && at(i) <= 0x39) i++;
    }
    const ch = String.fromCharCode(at(i));
    if (ch === "p") {
      const next = String.fromCharCode(at(i + 1));
      if (ends(at(i + 1))) {
        specs++;
        continue;
      }
      if ((next === "k" || next === "u") && at(i + 2) === 0x73) {
        i += 2;
        if (!ends(at(i + 1))) return false;
        specs++;
        continue;
      }
      if ("KxsSB".includes(next)) {
        i++;
        specs++;
        continue;
      }
      if ((next !== "i" && next !== "I") || (at(i + 2) !== 0x34 && at(i + 2) !== 0x36)) return false;
      i += 2;
      specs++;
      continue;
    }
    if (ch === "s") {
      if (!ends(at(i + 1))) return false;
      specs++;
      continue;
    }
    if (ch === "c") {
      specs++;
      continue;
    }
    if (at(i) === 0x6c) i++; // l
    if (at(i) === 0x6c) i++; // ll
    if (!"iduxX".includes(String.fromCharCode(at(i))) || at(i) === 0) return false;
    specs++;
  }
  return true;
}
