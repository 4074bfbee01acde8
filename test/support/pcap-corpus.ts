// ../shared/pcap-filter's recorded tcpdump output: one JSON object per line (the fields a row may carry).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SHARED } from "./paths.js";

export const PCAP_FILTER_DIR = join(SHARED, "pcap-filter");

export interface CorpusRow {
  expr: string;
  linktype: string;
  source?: string[];
  opt_d?: string | null;
  opt_dd?: string | null;
  opt_ddd?: string | null;
  opt_error?: string;
  unopt_d?: string | null;
  unopt_dd?: string | null;
  error?: string;
}

export const corpusRows = (file: string): CorpusRow[] =>
  readFileSync(join(PCAP_FILTER_DIR, file), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as CorpusRow);
