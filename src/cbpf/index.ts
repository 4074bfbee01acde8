/**
 * cbpf/ — classic BPF: instructions, tcpdump-identical listings (-d, -dd, -ddd) and their parser, the cBPF
 * machine with libpcap's semantics, the cBPF → eBPF translation that runs filters on tsbpf's engines, and
 * capture files (pcap read/write, pcapng read), the pcap-filter language compiled exactly as libpcap 1.10
 * compiles it (optimizer included), and seccomp filters over struct seccomp_data.
 */
export {
  type CompiledExpression,
  compileExpression,
  type ExpressionOptions,
  FilterError,
  NameDb,
  resolveLinktype,
} from "./compiler/index.js";
export { compileFilter, type Filter } from "./filter.js";
export type { CbpfInsn } from "./insn.js";
export { CbpfParseError, parseCbpf } from "./parse.js";
export { CaptureError, type CaptureInfo, createPcapWriter, openCapture, type Packet } from "./pcap.js";
export { scanPcap } from "./pcap-scan.js";
export { formatD, formatDD, formatDDD } from "./print.js";
export {
  AUDIT_ARCH_X86_64,
  encodeSeccompData,
  runSeccomp,
  SECCOMP_RET,
  type SeccompData,
  SeccompValidationError,
  seccompAction,
  seccompInput,
  validateSeccomp,
} from "./seccomp.js";
export { cbpfToEbpf } from "./to-ebpf.js";
export { CbpfValidationError, runCbpf, validateCbpf } from "./vm.js";
