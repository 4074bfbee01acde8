/** Reads the bpf_conformance suite from ../shared/conformance. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type DataFile, parseDataFile } from "../../src/isa/data-format.js";
import { CONFORMANCE } from "./paths.js";

export interface ConformanceCase {
  name: string;
  data: DataFile;
  /** The suite's pre-assembled bytes (raw/tests.jsonl), as space-separated hex. */
  expectedHex: string | undefined;
}

interface RawEntry {
  file: string;
  hex?: string;
}

export function conformanceCases(dir: "tests" | "negative" = "tests"): ConformanceCase[] {
  const raw = new Map<string, RawEntry>(
    readFileSync(join(CONFORMANCE, "raw", "tests.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as RawEntry)
      .map((e) => [e.file, e]),
  );
  return readdirSync(join(CONFORMANCE, dir))
    .filter((f) => f.endsWith(".data"))
    .sort()
    .map((f) => ({
      name: f,
      data: parseDataFile(readFileSync(join(CONFORMANCE, dir, f), "utf8")),
      expectedHex: raw.get(`${dir}/${f}`)?.hex,
    }));
}
