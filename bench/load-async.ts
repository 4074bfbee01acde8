/**
 * Loading a large object (cilium's bpf_lxc: 9 programs, large preallocated maps) with loadKernelCollection and
 * with loadKernelCollectionAsync (maps created, then programs verified, on worker threads at once): ms, median
 * of `rounds`.
 */
import { readFileSync, rmSync } from "node:fs";
import { makePinDir } from "../src/kernel/bpffs.js";
import { loadKernelCollection, loadKernelCollectionAsync } from "../src/kernel/collection.js";
import { loadCollectionSpec } from "../src/object/collection.js";

export async function loadObjectMs(path: string, rounds: number): Promise<{ programs: number; sync: number; async: number }> {
  const spec = loadCollectionSpec(readFileSync(path));
  const pinPath = "/sys/fs/bpf/tsbpf_bench_load"; // the object pins some maps by name: keep them apart
  // each load starts without pins, or it would reuse the maps of the one before instead of creating them
  const freshPins = (): void => {
    rmSync(pinPath, { recursive: true, force: true });
    makePinDir(pinPath);
  };
  try {
    const sync: number[] = [];
    const together: number[] = [];
    for (let r = 0; r < rounds; r++) {
      freshPins();
      let t0 = performance.now();
      loadKernelCollection(spec, { pinPath }).close();
      sync.push(performance.now() - t0);
      freshPins();
      t0 = performance.now();
      (await loadKernelCollectionAsync(spec, { pinPath })).close();
      together.push(performance.now() - t0);
    }
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1] as number;
    return { programs: spec.programs.size, sync: median(sync), async: median(together) };
  } finally {
    rmSync(pinPath, { recursive: true, force: true });
  }
}
