/**
 * Memory typed by the kernel's BTF: the context of an iterator program (tracing_prog_is_valid_access over
 * btf_ctx_access: its bpf_iter_<target> function's arguments), and loads through BTF pointers
 * (check_ptr_to_btf_access over btf_struct_access). Both need the target kernel's BTF.
 */
import type { Env } from "./env.js";
import { functionArgs, kernelStructId, kernelTypeName, structAccess, walkedTrust } from "./kernel-btf.js";
import { coerceToSize, coerceToSizeSx } from "./narrow.js";
import { markPointer, markUnknown, type Reg } from "./reg.js";
import { tnumIsConst, tnumText } from "./tnum.js";

/** Iterator targets whose pointer arguments after meta are PTR_TO_BTF_ID_OR_NULL (task's also trusted). */
const ITER_TARGETS = new Set([
  "task",
  "task_file",
  "task_vma",
  "bpf_map",
  "bpf_prog",
  "bpf_link",
  "tcp",
  "udp",
  "unix",
  "ipv6_route",
  "netlink",
  "cgroup",
  "ksym",
  "kmem_cache",
]);

/** The mem flavour of what a pointer to a non-struct kernel type reads. */
export const UNTRUSTED_MEM = "untrusted_mem";

/** MAX_BPF_FUNC_ARGS u64 slots. */
const TRACING_CTX_SIZE = 12 * 8;

/** What a tracing program reads from its context at `off`: the argument's scalar or BTF pointer. */
export function loadTracingCtx(env: Env, off: number, size: number, write: boolean, load: Reg | undefined): void {
  const bad = (why = ""): never => env.reject(`${why}invalid bpf_context access off=${off} size=${size}`);
  if (env.attachType !== "trace_iter")
    env.reject(`this verifier does not know the context of tracing programs attached as ${env.attachType ?? "nothing"} yet`, "EINVAL");
  const target = env.attachTo ?? "";
  if (!ITER_TARGETS.has(target)) env.reject(`this verifier does not know the context of iter/${target} programs yet`, "EINVAL");
  const btf = env.kernelBtf;
  if (!btf) env.reject("this verifier needs the kernel's BTF (kernelBtf) to check tracing programs", "EINVAL");
  if (off < 0 || off >= TRACING_CTX_SIZE || write || off % size !== 0) bad();
  const fname = `bpf_iter_${target}`;
  if (off % 8 !== 0) bad(`func '${fname}' offset ${off} is not multiple of 8\n`);
  const proto = functionArgs(btf, fname);
  if (!proto) env.reject(`the kernel's BTF has no function ${fname}`, "EINVAL");
  const arg = off / 8;
  const a = proto.args[arg];
  if (!a) bad(`func '${fname}' doesn't have ${arg + 1}-th argument\n`);
  if (a.kind === "scalar" || a.kind === "void_ptr") {
    if (a.kind === "void_ptr" && size !== 8) bad(`func '${fname}' size ${size} must be 8\n`);
    if (load) {
      markUnknown(load);
      if (size < 8) coerceToSize(load, size);
    }
    return;
  }
  if (size !== 8) bad(`func '${fname}' size ${size} must be 8\n`);
  if (!load) return;
  markPointer(load, "btf_id");
  load.btfId = a.id;
  load.btfName = kernelTypeName(btf, a.id);
  // Iterator programs' arguments are trusted (prog_args_trusted); the object iterated over may be NULL.
  load.btfFlavour = arg === 0 || target === "task" ? "trusted_" : "";
  if (arg > 0) {
    load.maybeNull = true;
    load.id = env.newId();
  }
}

/** A load (or a refused store) of `size` bytes at `off` through a BTF pointer. */
export function checkBtfAccess(
  env: Env,
  regno: number,
  reg: Reg,
  off: number,
  size: number,
  write: boolean,
  load: Reg | undefined,
  signExtend: boolean,
): void {
  const btf = env.kernelBtf;
  if (!btf) env.reject(`this verifier needs the kernel's BTF (kernelBtf) to check accesses through R${regno} ptr_${reg.btfName}`, "EINVAL");
  // Pointers typed by name only (netfilter's context) find their type in the kernel's BTF.
  if (reg.btfId === 0) reg.btfId = kernelStructId(btf, reg.btfName);
  if (reg.btfId === 0) env.reject(`the kernel's BTF has no struct ${reg.btfName}`, "EINVAL");
  const tname = reg.btfName;
  if (!env.gpl) env.reject(`Cannot access kernel 'struct ${tname}' from non-GPL compatible program`, "EINVAL");
  const at = reg.off + off;
  if (at < 0) env.reject(`R${regno} is ptr_${tname} invalid negative access: off=${at}`);
  if (!tnumIsConst(reg.varOff) || reg.varOff.value !== 0n)
    env.reject(`R${regno} is ptr_${tname} invalid variable offset: off=${at}, var_off=${tnumText(reg.varOff)}`);
  if (write) env.reject("only read is supported");
  const walked = structAccess(btf, reg.btfId, at, size, reg.btfFlavour === "untrusted_");
  if (walked.kind === "error") env.reject(walked.message, /doesn't have field|is not a struct/.test(walked.message) ? "EINVAL" : "EACCES");
  if (!load) return;
  if (walked.kind === "scalar") {
    markUnknown(load);
    if (size < 8) (signExtend ? coerceToSizeSx : coerceToSize)(load, size);
    return;
  }
  if (walked.kind === "untrusted_mem") {
    // Read like a probe read at any offset, never written, never given to a helper (PTR_TO_MEM | MEM_RDONLY | PTR_UNTRUSTED).
    markPointer(load, "mem");
    load.memName = UNTRUSTED_MEM;
    load.readOnly = true;
    return;
  }
  const trust = walked.untrusted
    ? { flavour: "untrusted_", maybeNull: false }
    : walkedTrust(tname, reg.btfFlavour, walked.field, walked.tag);
  markPointer(load, "btf_id");
  load.btfId = walked.id;
  load.btfName = kernelTypeName(btf, walked.id);
  load.btfFlavour = trust.flavour;
  if (trust.maybeNull) {
    load.maybeNull = true;
    load.id = env.newId();
  }
}
