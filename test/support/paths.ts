/** Where the repository and the shared test data (../shared beside the checkout) live. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/...). */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const SHARED = process.env.TSBPF_SHARED ?? join(REPO, "..", "shared");
export const CONFORMANCE = join(SHARED, "conformance");
export const BIN = join(REPO, "bin", "tsbpf.cjs");

/** Why a test that needs ../shared cannot run, or undefined when it can. */
export function sharedMissing(): string | undefined {
  return existsSync(CONFORMANCE) ? undefined : `shared test data not found at ${SHARED} (set TSBPF_SHARED)`;
}
