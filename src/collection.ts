/**
 * One entry point for both backends: `loadCollection(spec)` loads an object's programs and maps into the
 * userspace machine (the default: any OS, no privileges), `loadCollection(spec, { backend: "kernel" })` into
 * Linux through bpf(). Either way: `programs` that `testRun`, `maps` with get/set/delete/keys/entries and
 * typed views.
 */
import { type KernelCollection, type KernelLoadOptions, loadKernelCollection } from "./kernel/collection.js";
import type { CollectionSpec } from "./object/collection.js";
import { loadVmCollection, type VmCollection, type VmLoadOptions } from "./vm/collection.js";

export function loadCollection(spec: CollectionSpec, opts?: { backend?: "vm" } & VmLoadOptions): VmCollection;
export function loadCollection(spec: CollectionSpec, opts: { backend: "kernel" } & KernelLoadOptions): KernelCollection;
export function loadCollection(
  spec: CollectionSpec,
  opts: ({ backend?: "vm" } & VmLoadOptions) | ({ backend: "kernel" } & KernelLoadOptions) = {},
): VmCollection | KernelCollection {
  if (opts.backend === "kernel") {
    const { backend: _, ...rest } = opts;
    return loadKernelCollection(spec, rest);
  }
  const { backend: _, ...rest } = opts;
  return loadVmCollection(spec, rest);
}
