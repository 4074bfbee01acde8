// The kernel's recorded verdicts (ebpf-samples and the verifier selftests), read once, with the program each
// row names: what the verifier tests and the benchmark compare against.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CollectionSpec, loadCollectionSpec } from "../../src/object/collection.js";
import type { ProgramSpec } from "../../src/object/programs.js";
import type { ProgramType } from "../../src/object/section-types.js";
import { SHARED } from "./paths.js";

export interface VerdictRow {
  /** Which csv: "samples" or "selftests". */
  corpus: "samples" | "selftests";
  object: string;
  section: string;
  func: string;
  type: ProgramType;
  verdict: "ACCEPT" | "REJECT";
  reason: string;
  processed: number;
  verifUsec: number;
  progFlags: number;
}

export const CORPORA = {
  samples: join(SHARED, "ebpf-samples"),
  selftests: join(SHARED, "verifier-selftests"),
} as const;

/** Rejections this host's configuration causes, not the program (the csv's own note). */
export const HOST_CAUSED = /bpf_probe_write_user|bpf_override_return/;

/** Every ACCEPT/REJECT row whose object our loader reads. */
export function verdictRows(): VerdictRow[] {
  const rows: VerdictRow[] = [];
  for (const corpus of ["samples", "selftests"] as const) {
    const text = readFileSync(join(CORPORA[corpus], "kernel-verdicts.csv"), "utf8").trim().split("\n");
    const header = (text[0] as string).split(",");
    const col = (name: string): number => header.indexOf(name);
    for (const line of text.slice(1)) {
      const c = csvFields(line);
      const verdict = c[col("verdict")];
      if (verdict !== "ACCEPT" && verdict !== "REJECT") continue;
      rows.push({
        corpus,
        object: c[col("object")] as string,
        section: c[col("section")] as string,
        func: c[col("function")] as string,
        type: c[col("prog_type")] as ProgramType,
        verdict,
        reason: c[col("reason")] as string,
        processed: Number(c[col("processed")]),
        verifUsec: Number(c[col("verif_usec")]),
        progFlags: col("prog_flags") >= 0 ? Number(c[col("prog_flags")] ?? 0) : 0,
      });
    }
  }
  return rows;
}

/** One csv line's fields (double-quoted fields may hold commas and doubled quotes). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let k = 0; k < line.length; k++) {
    const ch = line[k] as string;
    if (quoted) {
      if (ch === '"' && line[k + 1] === '"') {
        field += '"';
        k++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(field);
      field = "";
    } else field += ch;
  }
  out.push(field);
  return out;
}

const specs = new Map<string, CollectionSpec | Error>();

/** The row's object and program, or the loader's error. */
export function rowProgram(row: VerdictRow): { spec: CollectionSpec; program: ProgramSpec } | Error {
  const path = join(CORPORA[row.corpus], row.object);
  let spec = specs.get(path);
  if (!spec) {
    try {
      spec = loadCollectionSpec(readFileSync(path));
    } catch (e) {
      spec = e as Error;
    }
    specs.set(path, spec);
  }
  if (spec instanceof Error) return spec;
  const program = spec.programs.get(row.func) ?? [...spec.programs.values()].find((q) => q.section === row.section);
  if (!program) return new Error(`${row.object}: no program ${row.func}`);
  return { spec, program };
}
