/**
 * Memory typed by the kernel's BTF: the context of an iterator program (tracing_prog_is_valid_access over
 * btf_ctx_access: its bpf_iter_<target> function's arguments), and loads through BTF pointers
 * (check_ptr_to_btf_access over btf_struct_access). Both need the target kernel's BTF.
 */

import type { Btf } from "../object/btf/parse.js";
import type { Env } from "./env.js";
import {
  type CtxArg,
  ctxArgIndex,
  kernelStructId,
  kernelTypeName,
  structAccess,
  type TracingProto,
  tracingProto,
  walkedTrust,
} from "./kernel-btf.js";
import { loadUnknown } from "./narrow.js";
import { RAW_TP_NULL_ARGS } from "./raw-tp-null-args.js";
import { markPointer, type Reg } from "./reg.js";
import { tnumIsConst, tnumText } from "./tnum.js";

/** Iterator targets whose pointer arguments after meta are PTR_TO_BTF_ID_OR_NULL. */
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
]);
/** Iterator targets whose object is also trusted (their ctx_arg_info has PTR_TRUSTED). */
const ITER_TRUSTED = new Set(["task", "bpf_map", "cgroup", "tcp", "udp"]);

/** The mem flavour of what a pointer to a non-struct kernel type reads. */
export const UNTRUSTED_MEM = "untrusted_mem";

/** MAX_BPF_FUNC_ARGS u64 slots. */
const TRACING_CTX_SIZE = 12 * 8;

/**
 * The prototype a tracing program's context holds: an iterator's bpf_iter_<target> function, or a BTF
 * tracepoint's btf_trace_<name> typedef (whose first argument, the tracepoint's __data, the program does not
 * see). `name` is how the kernel names it in its messages.
 */
function tracingTarget(env: Env, btf: Btf): { name: string; proto: TracingProto; skip: number } {
  const target = env.attachTo ?? "";
  if (env.attachType === "trace_iter") {
    if (!ITER_TARGETS.has(target)) env.reject(`this verifier does not know the context of iter/${target} programs yet`, "EINVAL");
    const name = `bpf_iter_${target}`;
    const proto = tracingProto(btf, name, "FUNC");
    if (!proto) env.reject(`the kernel's BTF has no function ${name}`, "EINVAL");
    return { name, proto, skip: 0 };
  }
  if (env.attachType === "trace_raw_tp") {
    const proto = tracingProto(btf, `btf_trace_${target}`, "TYPEDEF");
    if (!proto) env.reject(`the kernel's BTF has no tracepoint btf_trace_${target}`, "EINVAL");
    return { name: target, proto, skip: 1 };
  }
  return env.reject(`this verifier does not know the context of tracing programs attached as ${env.attachType ?? "nothing"} yet`, "EINVAL");
}

/** What a tracing program reads from its context at `off`: the argument's scalar or BTF pointer (btf_ctx_access). */
export function loadTracingCtx(env: Env, off: number, size: number, write: boolean, load: Reg | undefined): void {
  function bad(why = ""): never {
    return env.reject(`${why}invalid bpf_context access off=${off} size=${size}`);
  }
  const btf = env.kernelBtf;
  if (!btf) env.reject("this verifier needs the kernel's BTF (kernelBtf) to check tracing programs", "EINVAL");
  const { name, proto, skip } = tracingTarget(env, btf);
  if (off < 0 || off >= TRACING_CTX_SIZE || write || off % size !== 0) bad();
  if (off % 8 !== 0) bad(`func '${name}' offset ${off} is not multiple of 8\n`);
  // The index counts the hidden first argument of a tracepoint; the arguments after it are what it indexes.
  const arg = ctxArgIndex(proto, off);
  const args = proto.params.slice(skip);
  if (arg >= args.length) bad(`func '${name}' doesn't have ${arg + 1}-th argument\n`);
  const a = args[arg] as CtxArg;
  if (a.kind === "other" && !a.pointer) bad(`func '${name}' arg${arg} '${a.name}' has type ${a.btfKind}. Only pointer access is allowed\n`);
  if (a.kind !== "scalar" && size !== 8) bad(`func '${name}' size ${size} must be 8\n`);
  if (a.kind === "other") bad(`func '${name}' arg${arg} type ${a.btfKind} is not a struct\n`);
  // A tracepoint argument the kernel knows may be an error code is a scalar; one it knows may be NULL says so.
  const nullMask = env.attachType === "trace_raw_tp" ? BigInt(RAW_TP_NULL_ARGS[name] ?? 0) >> BigInt(arg * 4) : 0n;
  if (a.kind === "scalar" || a.kind === "void_ptr" || (nullMask & 2n) !== 0n) {
    if (load) loadUnknown(load, size, false);
    return;
  }
  if (!load) return;
  markPointer(load, "btf_id");
  load.btfId = a.id;
  load.btfName = kernelTypeName(btf, a.id);
  // Iterators' and BTF tracepoints' arguments are trusted (prog_args_trusted); an iterator's object may be NULL.
  const iterObject = env.attachType === "trace_iter" && arg > 0;
  load.btfFlavour = env.attachType === "trace_raw_tp" || arg === 0 || ITER_TRUSTED.has(env.attachTo ?? "") ? "trusted_" : "";
  if (iterObject || (nullMask & 1n) !== 0n) {
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
    loadUnknown(load, size, signExtend);
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
