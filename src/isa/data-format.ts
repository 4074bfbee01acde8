/**
 * The `.data` test-file format of bpf_conformance (and uBPF): sections introduced by `-- name` lines —
 * `asm` (conformance-dialect source), `raw` (program hex), `mem` (input memory hex), `result` (expected
 * r0), `error` (expected failure text). Leading `#` lines are comments. Unknown sections are kept by name.
 */
import { parseHex } from "./codec.js";
import { DecodeError } from "./errors.js";

export interface DataFile {
  readonly asm?: string;
  readonly raw?: Uint8Array;
  readonly mem?: Uint8Array;
  readonly result?: bigint;
  readonly error?: string;
  /** Every section's text by name, including the ones above. */
  readonly sections: ReadonlyMap<string, string>;
}

export function parseDataFile(text: string): DataFile {
  const sections = new Map<string, string>();
  let current: string | undefined;
  let body: string[] = [];
  const flush = (): void => {
    if (current !== undefined) sections.set(current, body.join("\n"));
  };
  for (const line of text.split(/\r?\n/)) {
    const header = /^--\s*(.*?)\s*$/.exec(line);
    if (header) {
      flush();
      current = header[1] as string;
      body = [];
    } else if (current !== undefined) {
      body.push(line);
    }
  }
  flush();
  const hexOf = (name: string): Uint8Array | undefined => {
    const t = sections.get(name);
    return t === undefined ? undefined : parseHex(t);
  };
  const resultText = sections.get("result")?.replace(/#.*$/gm, "").trim();
  let result: bigint | undefined;
  if (resultText !== undefined && resultText !== "") {
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(resultText)) throw new DecodeError("EDATA", `invalid result value: ${resultText}`);
    result = BigInt(resultText);
  }
  const asm = sections.get("asm");
  const raw = hexOf("raw");
  const mem = hexOf("mem");
  const error = sections.get("error")?.trim();
  return {
    sections,
    ...(asm !== undefined ? { asm } : {}),
    ...(raw !== undefined ? { raw } : {}),
    ...(mem !== undefined ? { mem } : {}),
    ...(result !== undefined ? { result } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
