// Each program of each object in DIR: the live kernel's verdict (loaded alone, as libbpf would, with the
// program's __flag prog_flags) against ours; prints the disagreements and the totals (see verifier-selftests.sh).
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { makePinDir } from "../dist/src/kernel/bpffs.js";
import { loadKernelCollection } from "../dist/src/kernel/collection.js";
import { analyzeLog } from "../dist/src/kernel/verifier-error.js";
import { VMLINUX_BTF, vmlinuxBtf } from "../dist/src/kernel/vmlinux.js";
import { loadCollectionSpec } from "../dist/src/object/collection.js";
import { verify } from "../dist/src/verifier/index.js";

const FLAGS = { BPF_F_STRICT_ALIGNMENT: 1, BPF_F_ANY_ALIGNMENT: 2, BPF_F_TEST_RND_HI32: 4, BPF_F_TEST_STATE_FREQ: 8, BPF_F_SLEEPABLE: 16 };
const dir = process.argv[2];
const kernelBtf = existsSync(VMLINUX_BTF) ? vmlinuxBtf() : undefined;
const pins = "/sys/fs/bpf/tsbpf_selftests";

/** The program's __flag(...) values, from its BTF decl tags ("comment:test_prog_flags=..."). */
function progFlags(spec, name) {
  const btf = spec.btf;
  let flags = 0;
  for (let id = 1; btf && id < btf.count; id++) {
    if (btf.kindOf(id) !== "DECL_TAG") continue;
    const tag = btf.type(id);
    if (!tag.name.startsWith("comment:test_prog_flags=") || btf.type(tag.type)?.name !== name) continue;
    const value = tag.name.slice("comment:test_prog_flags=".length);
    flags |= FLAGS[value] ?? Number(value);
  }
  return flags;
}

makePinDir(pins);
let total = 0;
let agree = 0;
let outside = 0;
try {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".o")).sort()) {
    const spec = loadCollectionSpec(readFileSync(join(dir, file)));
    for (const name of spec.programs.keys()) {
      const flags = progFlags(spec, name);
      let kernel = "accept";
      try {
        loadKernelCollection(spec, { programs: [name], pinPath: pins, progFlags: flags }).close();
      } catch (e) {
        if (!e.log) {
          outside++;
          console.log(`OUTSIDE ${file}:${name}: ${e.message}`);
          continue;
        }
        const a = analyzeLog(e.log);
        kernel = `reject at ${a.insn ?? null}: ${a.reason}`;
      }
      total++;
      const [r] = verify(spec, { programs: [name], progFlags: flags, logLevel: 0, ...(kernelBtf ? { kernelBtf } : {}) });
      const ours = r.verdict === "accept" ? "accept" : `reject at ${r.insn}: ${(r.message ?? "").split("\n").pop()}`;
      const same = kernel === "accept" ? ours === "accept" : ours.startsWith("reject") && ours.includes(kernel.replace(/^reject at \S+ /, ""));
      if (same) agree++;
      else console.log(`DIFF ${file}:${name} (flags ${flags}): kernel ${kernel} | ours ${ours}`);
    }
  }
} finally {
  rmSync(pins, { recursive: true, force: true });
}
console.log(`# ${agree}/${total} verdicts and reasons agree with the kernel's; ${outside} refused outside the verifier`);
