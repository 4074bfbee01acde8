// The folders of src/ import one way (../shared/DESIGN.md): the graph of which folder imports which has no
// cycle, the verifier stands on neither engine nor the kernel, and only kernel/ touches koffi.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "./support/paths.js";

const SRC = join(REPO, "src");

/** The folder a source file belongs to; src/errors.ts (the error base every folder shares) is one of its own. */
function folderOf(path: string): string {
  const parts = relative(SRC, path).split("/");
  if (parts.length > 1) return parts[0] as string;
  return (parts[0] as string).replace(/\.[jt]s$/, "") === "errors" ? "errors" : "(root)";
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Folder → the folders it imports (relative imports), and the bare packages each folder imports. */
function importGraph(): { folders: Map<string, Set<string>>; packages: Map<string, Set<string>> } {
  const folders = new Map<string, Set<string>>();
  const packages = new Map<string, Set<string>>();
  for (const file of sources(SRC)) {
    const from = folderOf(file);
    const text = readFileSync(file, "utf8");
    // Static imports and re-exports, dynamic imports, and packages loaded through createRequire(...)("name").
    const uses = /(?:import|export)[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|\)\(\s*["']([^"'./][^"']*)["']\s*\)/g;
    for (const m of text.matchAll(uses)) {
      const spec = (m[1] ?? m[2] ?? m[3]) as string;
      if (spec.startsWith(".")) {
        const to = folderOf(normalize(join(dirname(file), spec)));
        if (to !== from) folders.set(from, (folders.get(from) ?? new Set()).add(to));
      } else packages.set(from, (packages.get(from) ?? new Set()).add(spec));
    }
  }
  return { folders, packages };
}

/** A cycle in the folder graph, as the folders along it, or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "open") return [...path.slice(path.indexOf(n)), n];
    state.set(n, "open");
    path.push(n);
    for (const m of graph.get(n) ?? []) {
      const found = visit(m);
      if (found) return found;
    }
    path.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of graph.keys()) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

describe("the folders of src/", () => {
  const { folders, packages } = importGraph();

  it("import one way: no folder imports one that imports it back, directly or through others", () => {
    assert.ok(folders.size > 8);
    assert.equal(findCycle(folders)?.join(" -> "), undefined);
    // The cycle finder finds cycles.
    assert.deepEqual(
      findCycle(
        new Map([
          ["a", new Set(["b"])],
          ["b", new Set(["a"])],
        ]),
      ),
      ["a", "b", "a"],
    );
  });

  it("keep the verifier off the engines and the kernel, and koffi inside kernel/", () => {
    for (const engine of ["vm", "jit", "kernel"]) assert.ok(!folders.get("verifier")?.has(engine), `verifier imports ${engine}`);
    for (const [folder, used] of packages) if (folder !== "kernel") assert.ok(!used.has("koffi"), `${folder} imports koffi`);
    assert.ok(packages.get("kernel")?.has("koffi"));
  });
});
