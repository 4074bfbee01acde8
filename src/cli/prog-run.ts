/**
 * `tsbpf prog run PROG [data_in FILE] [data_out FILE] [data_size_out L] [ctx_in FILE] [ctx_out FILE]
 * [ctx_size_out M] [repeat N]`: bpftool's prog run — a loaded program run once or N times by
 * BPF_PROG_TEST_RUN on a packet and/or context; `-` reads standard input, or prints output as bpftool's hex dump.
 */
import { writeFileSync } from "node:fs";
import { progTestRun } from "../kernel/bpf.js";
import { KernelError } from "../kernel/errors.js";
import { withObjectFd } from "../kernel/inventory.js";
import { linuxSys } from "../kernel/sys.js";
import { UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { takeHandle, takeKeywords } from "./kernel-args.js";
import { readInput } from "./program-file.js";

const WORDS = ["data_in", "data_out", "data_size_out", "ctx_in", "ctx_out", "ctx_size_out", "repeat"] as const;
type Word = (typeof WORDS)[number];

export function progRunCommand(words: readonly string[], asJson: boolean, io: Io): number {
  const { id, rest } = takeHandle(words, "prog", "prog run");
  const given = takeKeywords(rest, WORDS, "prog run", ` (${WORDS.join(", ")})`).values;
  // one stream can feed one input and take one output
  if (given.get("data_in") === "-" && given.get("ctx_in") === "-")
    throw new UsageError("prog run: data_in and ctx_in cannot both be standard input");
  if (given.get("data_out") === "-" && given.get("ctx_out") === "-" && !asJson)
    throw new UsageError("prog run: data_out and ctx_out cannot both be standard output");
  const count = (word: Word, least: number): number | undefined => {
    const text = given.get(word);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < least || Number(text) > 0xffffffff)
      throw new UsageError(`prog run: ${word} '${text}' is not a count`);
    return Number(text);
  };
  const dataIn = given.get("data_in");
  const ctxIn = given.get("ctx_in");
  const data = dataIn === undefined ? undefined : readInput(dataIn);
  const ctx = ctxIn === undefined ? undefined : readInput(ctxIn);
  const repeat = count("repeat", 1) ?? 1;
  // output room only where output is asked for, as bpftool gives (the kernel refuses too little with ENOSPC)
  const dataOutSize = given.has("data_out") ? (count("data_size_out", 0) ?? Math.max(data?.length ?? 0, 1) + 256) : 0;
  const ctxOutSize = given.has("ctx_out") ? (count("ctx_size_out", 0) ?? Math.max(ctx?.length ?? 0, 1)) : 0;
  const result = withObjectFd("prog", id, "prog run", (fd) => {
    try {
      return progTestRun(linuxSys(), fd, { ...(data ? { data } : {}), ...(ctx ? { ctx } : {}), dataOutSize, ctxOutSize, repeat });
    } catch (e) {
      if (e instanceof KernelError && e.code === "ENOSPC")
        throw new KernelError(e.operation, e.errno, `the output is larger than data_size_out ${dataOutSize} or ctx_size_out ${ctxOutSize}`);
      throw e;
    }
  });
  const outputs = [
    ["data_out", result.dataOut],
    ["ctx_out", result.ctxOut],
  ] as const;
  const json: Record<string, unknown> = {};
  for (const [word, bytes] of outputs) {
    const file = given.get(word);
    if (file === undefined) continue;
    if (file !== "-") writeFileSync(file, bytes);
    else if (asJson) json[word] = Array.from(bytes);
    else io.stdout(hexDump(bytes));
  }
  if (asJson) io.stdout(`${JSON.stringify({ ...json, retval: result.retval, duration: result.duration })}\n`);
  else io.stdout(`Return value: ${result.retval}, duration${repeat > 1 ? " (average)" : ""}: ${result.duration}ns\n`);
  return 0;
}

/** Bytes as bpftool's hex_print shows them: offset, 16 bytes in pairs, then the printable ones. */
export function hexDump(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 16) {
    let line = `${i.toString(16).padStart(7, "0")}\t`;
    for (let j = i; j < i + 16; j++) {
      const b = bytes[j];
      line += `${b === undefined ? "  " : b.toString(16).padStart(2, "0")}${j % 2 ? " " : ""}`;
    }
    line += "| ";
    for (let j = i; j < i + 16 && j < bytes.length; j++) {
      const b = bytes[j] as number;
      line += `${b < 0x20 || b > 0x7e ? "." : String.fromCharCode(b)}${j === i + 7 ? " " : ""}`;
    }
    out += `${line}\n`;
  }
  return out;
}
