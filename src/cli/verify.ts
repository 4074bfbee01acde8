/**
 * `tsbpf verify OBJ|FILE [PROG] [--type TYPE] [--prog-flags N] [--log-level 0|1|2] [--json]`: the kernel's
 * verdict on each program, from our verifier, without a kernel. Exit 0 when all are accepted, 1 when one is
 * rejected, 2 on usage or parse errors.
 */
import { existsSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { resolveExterns } from "../kernel/collection.js";
import { POSSIBLE_CPUS_FILE, possibleCpus } from "../kernel/map.js";
import { VMLINUX_BTF, vmlinuxBtf } from "../kernel/vmlinux.js";
import type { Btf } from "../object/btf/parse.js";
import { type CollectionSpec, loadCollectionSpec } from "../object/collection.js";
import { PROGRAM_TYPE_IDS, type ProgramType } from "../object/section-types.js";
import { type VerifyResult, verify, verifyProgram } from "../verifier/index.js";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { loadProgram, readInput } from "./program-file.js";

const isElf = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

/** This host's nr_cpu_ids, where it has the file that says (the verdict is this kernel's). */
function hostCpus(): { possibleCpus?: number } {
  return existsSync(POSSIBLE_CPUS_FILE) ? { possibleCpus: possibleCpus() } : {};
}

/**
 * This host's kernel BTF, where the object needs it (BTF-typed programs, CO-RE relocations) and the host has
 * it: the verdict is this kernel's.
 */
function hostBtf(spec: CollectionSpec): { kernelBtf?: Btf } {
  const typed = [...spec.programs.values()].some((p) => p.type === "tracing" || p.type === "lsm");
  const core = (spec.btfExt?.coreRelos.size ?? 0) > 0;
  if ((!typed && !core) || !existsSync(VMLINUX_BTF)) return {};
  return { kernelBtf: vmlinuxBtf() };
}

function results(
  file: string,
  prog: string | undefined,
  type: ProgramType | undefined,
  progFlags: number,
  logLevel: 0 | 1 | 2,
): VerifyResult[] {
  const bytes = readInput(file);
  const opts = { progFlags, logLevel, ...hostCpus() };
  if (!isElf(bytes)) {
    const { insns } = loadProgram(file);
    return [verifyProgram({ insns, type: type ?? "socket_filter", name: prog ?? "prog", section: "" }, opts)];
  }
  // As the loader would see it, where this host can say: externs resolved (CO-RE comes with kernelBtf).
  const spec = resolveExterns(loadCollectionSpec(bytes), "available");
  if (prog !== undefined && !spec.programs.has(prog)) {
    const bySection = [...spec.programs.values()].find((p) => p.section === prog);
    if (!bySection) throw new UsageError(`no program '${prog}' in ${file} (it has ${[...spec.programs.keys()].join(", ")})`);
    prog = bySection.name;
  }
  return verify(spec, { ...(prog !== undefined ? { programs: [prog] } : {}), ...(type ? { type } : {}), ...opts, ...hostBtf(spec) });
}

export function verifyCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, {
    type: { value: true },
    "prog-flags": { value: true },
    "log-level": { value: true, choices: ["0", "1", "2"] },
    json: { short: "-j" },
  });
  if (p.positional.length < 1 || p.positional.length > 2) throw new UsageError("verify needs OBJ|FILE and at most one PROG");
  const type = stringFlag(p, "type") as ProgramType | undefined;
  if (type !== undefined && !(type in PROGRAM_TYPE_IDS)) throw new UsageError(`unknown program type '${type}'`);
  const flagsText = stringFlag(p, "prog-flags") ?? "0";
  const progFlags = Number(flagsText);
  if (!Number.isInteger(progFlags) || progFlags < 0 || progFlags > 0xffffffff)
    throw new UsageError(`--prog-flags must be an unsigned 32-bit number (got '${flagsText}')`);
  const json = p.flags.has("json");
  const logLevel = Number(stringFlag(p, "log-level") ?? (json ? "0" : "1")) as 0 | 1 | 2;
  let out: VerifyResult[];
  try {
    out = results(p.positional[0] as string, p.positional[1], type, progFlags, logLevel);
  } catch (e) {
    // A file that is not a program at all is a parse error: exit 2, as usage errors do.
    if (e instanceof TsbpfError && !(e instanceof UsageError)) {
      io.stderr(`tsbpf verify: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (json) {
    const programs = out.map((r) => ({
      name: r.name,
      section: r.section,
      type: r.type,
      verdict: r.verdict,
      insn: r.insn,
      message: r.message,
      processed: r.stats.processed,
      ms: Math.round(r.ms * 1000) / 1000,
    }));
    io.stdout(`${JSON.stringify({ programs })}\n`);
  } else {
    for (const r of out) {
      if (logLevel > 0 && (r.verdict === "reject" || logLevel === 2)) io.stdout(r.log);
      io.stdout(
        r.verdict === "accept"
          ? `${r.name}: accepted (${r.type}, processed ${r.stats.processed} insns, ${r.ms.toFixed(2)} ms)\n`
          : `${r.name}: rejected at insn ${r.insn ?? "-"}: ${(r.message ?? "").split("\n").pop()}\n${r.sourceLine ? `  from: ${r.sourceLine}\n` : ""}${r.hint ? `  hint: ${r.hint}\n` : ""}`,
      );
    }
  }
  return out.every((r) => r.verdict === "accept") ? 0 : 1;
}
