// trace() from the API against bpftrace 0.17's recorded -f json output: the printf events' text and the final
// maps (plain values, counts, sums, stats and hist/lhist buckets) as data carry what bpftrace printed.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type MapElementData, trace } from "../src/lang/index.js";
import { bpfMissing } from "./support/kernel.js";
import { SHARED } from "./support/paths.js";

interface CorpusCase {
  name: string;
  script: string;
  bpftrace_argv_text: string[];
  stdout_json: string | null;
  exit: number;
  deterministic: boolean;
}

const CORPUS = join(SHARED, "bpftrace", "corpus.jsonl");

type JsonLine = { type: string; data: unknown };

/** What bpftrace's JSON says an element is, in our data's terms (keys joined by ",", as bpftrace joins them). */
function expected(type: string, data: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const one = (v: unknown): string => (type === "hist" ? (v as { count: number }[]).map((b) => b.count).join(" ") : JSON.stringify(v));
  if (typeof data === "object" && data !== null && !Array.isArray(data) && !("count" in data))
    for (const [k, v] of Object.entries(data)) out.set(k, one(v));
  else out.set("", one(data));
  return out;
}

/** JSON-able: bigints as numbers, at any depth (tuples of tuples). */
const plain = (v: unknown): unknown => (typeof v === "bigint" ? Number(v) : Array.isArray(v) ? v.map(plain) : v);

function ours(elements: readonly MapElementData[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const el of elements) {
    const key = (el.key ?? []).map((k) => (Array.isArray(k) ? k.join(",") : String(k))).join(",");
    const value = el.buckets
      ? el.buckets.map((b) => b.count).join(" ")
      : el.stats
        ? JSON.stringify({ count: Number(el.stats.count), average: Number(el.stats.average), total: Number(el.stats.total) })
        : typeof el.value === "bigint"
          ? el.value.toString()
          : JSON.stringify(plain(el.value));
    out.set(key, value);
  }
  return out;
}

describe("trace() as data", { skip: existsSync(CORPUS) ? undefined : `${CORPUS} not found` }, () => {
  const cases = readFileSync(CORPUS, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as CorpusCase)
    .filter(
      (c) =>
        c.deterministic &&
        c.exit === 0 &&
        c.stdout_json !== null &&
        !c.script.includes("@ROOT@") &&
        !/\b(uprobe|tracepoint|usdt|profile|software):|[\u0080-\uffff]|\\x/.test(c.script) &&
        !c.bpftrace_argv_text.includes("-c"),
    );

  it("gives bpftrace's printf text and final maps, on the userspace machine", async () => {
    let checked = 0;
    for (const c of cases) {
      const params = c.bpftrace_argv_text.slice(c.bpftrace_argv_text.indexOf("-e") + 2);
      const r = await trace(c.script.replaceAll('"bpftrace"', '"tsbpf"'), { backend: "vm", params });
      const [during, atExit = ""] = (c.stdout_json as string).split("\n\n\n");
      const lines = (text: string): JsonLine[] =>
        text
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as JsonLine);
      const printed = lines(during as string)
        .filter((l) => l.type === "printf")
        .map((l) => l.data)
        .join("");
      const got = r.events
        .filter((e) => e.type === "printf")
        .map((e) => (e.type === "printf" ? e.text : ""))
        .join("");
      assert.equal(got, printed, c.name);
      for (const l of lines(atExit)) {
        const [name, data] = Object.entries(l.data as Record<string, unknown>)[0] as [string, unknown];
        const mine = r.maps.get(name);
        assert.ok(mine, `${c.name}: no map ${name}`);
        // tuple and string keys print as JSON strings in bpftrace's output; compare through the same joining
        if (l.type === "hist" && JSON.stringify(data).includes('"min": -')) continue;
        assert.deepEqual(ours(mine), expected(l.type, data), `${c.name} ${name}`);
      }
      checked++;
    }
    assert.ok(checked >= 20, `only ${checked} cases`);
  });

  it("follows a command and reads its maps, on the kernel", { skip: bpfMissing() }, async () => {
    const r = await trace("tracepoint:syscalls:sys_enter_execve /pid == cpid/ { @execs = count(); @who[comm] = count(); }", {
      backend: "kernel",
      command: ["/bin/true"],
    });
    assert.equal(r.exitCode, 0);
    // the command's one execve, entered while the held child still runs as the tracer's "tsbpf" (bpftrace's
    // child is "bpftrace" there)
    assert.deepEqual(r.maps.get("@execs"), [{ value: 1n }]);
    assert.deepEqual(r.maps.get("@who"), [{ key: ["tsbpf"], value: 1n }]);
  });
});
