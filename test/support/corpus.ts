/** The object corpus for fuzzing: every sample object (not invalid/) and our testdata objects. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, SHARED } from "./paths.js";

export function objectCorpus(): Array<{ path: string; bytes: Uint8Array }> {
  const samples = join(SHARED, "ebpf-samples");
  const paths = readdirSync(samples, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "invalid")
    .flatMap((d) =>
      readdirSync(join(samples, d.name))
        .filter((f) => f.endsWith(".o"))
        .map((f) => join(samples, d.name, f)),
    )
    .concat(
      readdirSync(join(REPO, "testdata"))
        .filter((f) => f.endsWith(".o"))
        .map((f) => join(REPO, "testdata", f)),
    );
  return paths.map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));
}
