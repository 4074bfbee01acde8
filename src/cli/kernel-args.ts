/**
 * How the kernel commands name objects and bytes: tsbpf's own short forms (a bare ID; a key or value as one hex
 * text, "01 00 00 00") and bpftool's, so that a bpftool command line works as it is: PROG, MAP and LINK as
 * `id ID` or `pinned PATH`, programs and maps also as `name NAME`, programs as `tag TAG`; bytes as
 * `key [hex] BYTE...` and `value [hex] BYTE...`.
 */
import { parseHex } from "../isa/codec.js";
import { KernelError } from "../kernel/errors.js";
import { type KernelObjectKind, listMaps, listPrograms, pinnedObject } from "../kernel/inventory.js";
import { UsageError } from "./args.js";

const NOUN: Record<KernelObjectKind, string> = { prog: "program", map: "map", link: "link" };
const FORMS: Record<KernelObjectKind, string> = {
  prog: "ID | id ID | pinned PATH | name NAME | tag TAG",
  map: "ID | id ID | pinned PATH | name NAME",
  link: "ID | id ID | pinned PATH",
};

/** The object the words at the front name, as an id, and the words after them. */
export function takeHandle(words: readonly string[], kind: KernelObjectKind, command: string): { id: number; rest: string[] } {
  const [first, second] = words;
  const need = (what: string): string => {
    if (second === undefined) throw new UsageError(`${command}: '${first}' needs ${what}`);
    return second;
  };
  if (first !== undefined && /^\d+$/.test(first)) return { id: Number(first), rest: words.slice(1) };
  switch (first) {
    case "id": {
      const id = need("a numeric ID");
      if (!/^\d+$/.test(id)) throw new UsageError(`${command}: '${id}' is not a numeric ID`);
      return { id: Number(id), rest: words.slice(2) };
    }
    case "pinned": {
      const path = need("a path in bpffs");
      const found = pinnedObject(path);
      if (found.kind !== kind) throw new KernelError(command, 22, `${path} holds a ${NOUN[found.kind]}, not a ${NOUN[kind]}`);
      return { id: found.id, rest: words.slice(2) };
    }
    case "name":
    case "tag": {
      if (kind === "link" || (first === "tag" && kind !== "prog")) break;
      const wanted = need(first === "name" ? "a name" : "a tag");
      // the kernel keeps 15 characters of a name
      const ids = (kind === "prog" ? listPrograms() : listMaps())
        .filter((o) => (first === "name" ? o.name === wanted.slice(0, 15) : "tag" in o && o.tag === wanted.toLowerCase()))
        .map((o) => o.id);
      if (ids.length === 0) throw new KernelError(command, 2, `no ${NOUN[kind]} with ${first} ${wanted}`);
      if (ids.length > 1)
        throw new UsageError(`${command}: ${ids.length} ${NOUN[kind]}s have ${first} ${wanted} (ids ${ids.join(", ")}); name one by id`);
      return { id: ids[0] as number, rest: words.slice(2) };
    }
  }
  throw new UsageError(`${command} needs a ${NOUN[kind]}: ${FORMS[kind]}${first === undefined ? "" : ` (got '${first}')`}`);
}

/**
 * bpftool's `WORD VALUE ...` arguments, each of `allowed` at most once, by word. Words in `handles` take a map or
 * program as their value, named as takeHandle names one (one word or two); their ids come back in `ids`.
 * `unexpected` follows the error for a word not allowed (the list, or the usage).
 */
export function takeKeywords<W extends string>(
  words: readonly string[],
  allowed: readonly W[],
  command: string,
  unexpected: string,
  handles: Partial<Record<W, KernelObjectKind>> = {},
): { values: Map<W, string>; ids: Map<W, number> } {
  const values = new Map<W, string>();
  const ids = new Map<W, number>();
  for (let i = 0; i < words.length; ) {
    const word = words[i] as W;
    const value = words[i + 1];
    if (!allowed.includes(word)) throw new UsageError(`${command}: unexpected '${word}'${unexpected}`);
    if (values.has(word)) throw new UsageError(`${command}: '${word}' given twice`);
    if (value === undefined) throw new UsageError(`${command}: '${word}' needs a value`);
    values.set(word, value);
    const kind = handles[word];
    if (kind === undefined) {
      i += 2;
      continue;
    }
    const handle = takeHandle(words.slice(i + 1), kind, `${command} ${word}`);
    ids.set(word, handle.id);
    i = words.length - handle.rest.length;
  }
  return { values, ids };
}

/**
 * Bytes for a key or value of `size` bytes: bpftool's `WORD [hex] BYTE...` when the words start with `word`
 * (each byte as C's strtoul reads it, 0x hex, 0 octal, else decimal; all hex after `hex`), else one hex text.
 * Returns the bytes and the words after them.
 */
export function takeBytes(
  words: readonly string[],
  word: "key" | "value",
  size: number,
  command: string,
  mapId: number,
): { bytes: Uint8Array; rest: string[] } {
  const wrongSize = (got: number): UsageError =>
    new UsageError(`${command}: the ${word} has ${got} bytes; map ${mapId}'s ${word}s have ${size}`);
  const sized = (bytes: Uint8Array): Uint8Array => {
    if (bytes.length !== size) throw wrongSize(bytes.length);
    return bytes;
  };
  if (words[0] !== word) {
    if (words[0] === undefined) throw new UsageError(`${command} needs a ${word}: hex text, or ${word} [hex] BYTE...`);
    return { bytes: sized(parseHex(words[0])), rest: words.slice(1) };
  }
  const hex = words[1] === "hex";
  const start = hex ? 2 : 1;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const text = words[start + i];
    // the words ran out, or the next part of the command (`value`, a flag) came first
    if (text === undefined || (/^[a-z]{3,}$/i.test(text) && !(hex && /^[0-9a-f]+$/i.test(text)))) throw wrongSize(i);
    const value = hex ? (/^(0x)?[0-9a-f]{1,2}$/i.test(text) ? Number.parseInt(text.replace(/^0x/i, ""), 16) : Number.NaN) : cByte(text);
    if (!(value >= 0 && value <= 255))
      throw new UsageError(
        `${command}: byte ${i} of the ${word}, '${text}', is not a byte${hex ? " in hex" : " (decimal, 0x hex or 0 octal)"}`,
      );
    bytes[i] = value;
  }
  return { bytes, rest: words.slice(start + size) };
}

/** A byte as strtoul(text, NULL, 0) reads it, or NaN. */
function cByte(text: string): number {
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return Number.parseInt(text, 8);
  if (/^[1-9][0-9]*$/.test(text)) return Number.parseInt(text, 10);
  return Number.NaN;
}
