// Runs after the whole suite (npm test starts it once the other tests ended): the kernel must hold nothing the
// tests created — no programs or maps named tsbpf* or named as in our testdata objects (whatever still holds
// them: a pin, a link, an interface's XDP or tc filter), no pins under /sys/fs/bpf/tsbpf*, no tsbpf network
// namespaces or test interfaces, no cgroup mounts.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { listLinks, listMaps, listPrograms } from "../src/kernel/inventory.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { bpfMissing } from "../test/support/kernel.js";
import { REPO } from "../test/support/paths.js";

/** The kernel's names (15 characters at most) of every program and map in testdata/*.o. */
function testdataNames(): Set<string> {
  const names = new Set<string>();
  const dir = join(REPO, "testdata");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".o"))) {
    const spec = loadCollectionSpec(readFileSync(join(dir, file)));
    for (const name of [...spec.programs.keys(), ...spec.maps.keys()]) names.add(name.slice(0, 15));
  }
  return names;
}

describe("nothing leaked by the test suite", { skip: bpfMissing() }, () => {
  it("leaves no tsbpf programs, maps, pins or namespaces", () => {
    const ours = testdataNames();
    const isOurs = (name: string): boolean => name.startsWith("tsbpf") || ours.has(name);
    assert.deepEqual(
      listPrograms().filter((p) => isOurs(p.name)),
      [],
    );
    assert.deepEqual(
      listMaps().filter((m) => isOurs(m.name)),
      [],
    );
    const progIds = new Set(listPrograms().map((p) => p.id));
    assert.deepEqual(
      listLinks().filter((l) => !progIds.has(l.progId)),
      [],
    );
    const pins = existsSync("/sys/fs/bpf") ? readdirSync("/sys/fs/bpf").filter((n) => n.startsWith("tsbpf")) : [];
    assert.deepEqual(pins, []);
    const mounts = readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .filter((l) => l.includes("tsbpf"));
    assert.deepEqual(mounts, [], "no cgroup2 or other mounts of ours");
    let netns = "";
    try {
      netns = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    } catch {
      netns = "";
    }
    assert.deepEqual(
      netns.split("\n").filter((l) => l.startsWith("tsbpf")),
      [],
    );
    // test veths are named tsh<tag>/tsp<tag> (kernel/netns.ts); with them go their qdiscs and filters
    assert.deepEqual(
      readdirSync("/sys/class/net").filter((n) => /^ts[hp]/.test(n)),
      [],
    );
  });
});
