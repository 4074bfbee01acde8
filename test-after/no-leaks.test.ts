// Runs after the whole suite (npm test starts it once the other tests ended): the kernel must hold nothing the
// tests created — no programs or maps named tsbpf*, no pins under /sys/fs/bpf/tsbpf*, no tsbpf network
// namespaces, no cgroup mounts.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { listLinks, listMaps, listPrograms } from "../src/kernel/inventory.js";
import { bpfMissing } from "../test/support/kernel.js";

describe("nothing leaked by the test suite", { skip: bpfMissing() }, () => {
  it("leaves no tsbpf programs, maps, pins or namespaces", () => {
    assert.deepEqual(
      listPrograms().filter((p) => p.name.startsWith("tsbpf")),
      [],
    );
    assert.deepEqual(
      listMaps().filter((m) => m.name.startsWith("tsbpf")),
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
  });
});
