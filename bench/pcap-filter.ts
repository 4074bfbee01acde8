/**
 * The pcap-filter bench (classic BPF issue): for each expression of ../shared/pcap-filter/filters.txt over
 * big.pcap (1,000,000 packets from gen_pcap.py, generated once into the temp directory), the wall time of
 * `tsbpf filter -r big.pcap --count EXPR` next to `tcpdump -r big.pcap -w /dev/null EXPR` (best of 3 each,
 * in the same run), as packets per second; the same scan in-process (without node's start-up); and the
 * filter alone in ns/packet on the JIT, next to the bpf_filter ns/packet recorded for libpcap in summary.json.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileExpression } from "../src/cbpf/compiler/index.js";
import { compileFilter } from "../src/cbpf/filter.js";
import { scanPcap } from "../src/cbpf/pcap-scan.js";

interface SummaryRow {
  expr: string;
  pps_mean: number;
  matches: number;
  bpf_filter_ns_per_pkt_opt: number | null;
}

const PACKETS = 1_000_000;

function bigPcap(dir: string): string {
  const path = join(tmpdir(), "tsbpf-big.pcap");
  if (existsSync(path) && statSync(path).size === 672_500_380) return path;
  execFileSync("python3", [join(dir, "gen_pcap.py"), "-n", String(PACKETS), "-s", "20240601", "-o", path], { stdio: "ignore" });
  return path;
}

function bestOf3(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { seconds: number; stdout: string } {
  let best = Number.POSITIVE_INFINITY;
  let stdout = "";
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...(env ? { env } : {}) });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    best = Math.min(best, s);
    stdout = r.stdout;
  }
  return { seconds: best, stdout };
}

/**
 * In-process throughput (the CLI's scan without node's start-up) and the filter's own cost: the first 64 MiB
 * of records, resident in the filter's memory, filtered by the JIT's record loop.
 */
function inProcess(path: string, expr: string): { pps: number; filterNs: number } {
  const f = compileFilter(compileExpression(expr).program, { engine: "jit" });
  const region = f.buffer(64 << 20);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    scanPcap(path, {
      buffer: () => region.view(),
      test: () => false,
      bulk: (offset, end, longest) => {
        const r = f.scanRecords(region.address + offset, region.address + end, longest);
        return r && { ...r, next: r.next - region.address };
      },
    });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  // The buffer now ends with the file's last 64 MiB of whole records: filter them again, in place.
  let filterNs = Number.POSITIVE_INFINITY;
  const view = region.view();
  const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
  let end = 0;
  while (end + 16 <= view.length && end + 16 + dv.getUint32(end + 8, true) <= view.length && dv.getUint32(end + 8, true) > 0)
    end += 16 + dv.getUint32(end + 8, true);
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    const r = f.scanRecords(region.address, region.address + end);
    const ns = Number(process.hrtime.bigint() - t0);
    if (r && r.records > 0) filterNs = Math.min(filterNs, ns / r.records);
  }
  return { pps: PACKETS / best, filterNs };
}

export function pcapFilterBench(shared: string, bin: string): string[] {
  const dir = join(shared, "pcap-filter");
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { rows: SummaryRow[] };
  const exprs = readFileSync(join(dir, "filters.txt"), "utf8")
    .split("\n")
    .filter((l) => l !== "");
  const path = bigPcap(dir);
  const tcpdump = spawnSync("tcpdump", ["--version"], { stdio: "ignore" }).status === 0;
  // Node 20 reads every certificate of NODE_EXTRA_CA_CERTS when it starts (~60-100 ms here), before any of
  // our code runs and although the CLI makes no TLS connection: where it is set, the CLI is also timed without.
  const { NODE_EXTRA_CA_CERTS: extraCerts, ...withoutCerts } = process.env;
  const lines = [
    `pcap filters over big.pcap (${PACKETS.toLocaleString("en")} packets), best of 3 wall-clock runs each:`,
    [
      "expression",
      "matches",
      "tsbpf CLI pps",
      "tcpdump pps",
      "CLI/tcpdump",
      "tsbpf in-process pps",
      "in-process/tcpdump",
      ...(extraCerts ? ["CLI pps without NODE_EXTRA_CA_CERTS", "that/tcpdump"] : []),
      "filter ns/pkt",
      "libpcap ns/pkt (recorded)",
    ].join(" | "),
  ];
  for (const expr of exprs) {
    const ours = bestOf3(process.execPath, [bin, "filter", "-r", path, "--count", expr]);
    const matches = Number(/^(\d+) packets?/.exec(ours.stdout)?.[1] ?? Number.NaN);
    const recorded = summary.rows.find((r) => r.expr === expr);
    if (recorded && recorded.matches !== matches)
      lines.push(`MISMATCH '${expr}': ${matches} matches, tcpdump recorded ${recorded.matches}`);
    const theirs = tcpdump ? bestOf3("tcpdump", ["-r", path, "-w", "/dev/null", expr]) : undefined;
    const pps = PACKETS / ours.seconds;
    const tpps = theirs ? PACKETS / theirs.seconds : undefined;
    const inside = inProcess(path, expr);
    const bare = extraCerts ? PACKETS / bestOf3(process.execPath, [bin, "filter", "-r", path, "--count", expr], withoutCerts).seconds : 0;
    const ratio = (x: number): string => (tpps ? `${(x / tpps).toFixed(2)}x` : "-");
    lines.push(
      [
        expr,
        String(matches),
        `${(pps / 1e6).toFixed(2)} M`,
        tpps ? `${(tpps / 1e6).toFixed(2)} M` : "tcpdump not installed",
        ratio(pps),
        `${(inside.pps / 1e6).toFixed(2)} M`,
        ratio(inside.pps),
        ...(extraCerts ? [`${(bare / 1e6).toFixed(2)} M`, ratio(bare)] : []),
        inside.filterNs.toFixed(1),
        recorded?.bpf_filter_ns_per_pkt_opt?.toFixed(0) ?? "-",
      ].join(" | "),
    );
  }
  return lines;
}
