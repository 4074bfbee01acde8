/**
 * cbpf/ — classic BPF: instructions, tcpdump-identical listings (-d, -dd, -ddd) and their parser, the cBPF
 * machine with libpcap's semantics, the cBPF → eBPF translation that runs filters on tsbpf's engines, and
 * capture files (pcap read/write, pcapng read). The pcap-filter language compiler comes next.
 */
export { compileFilter, type Filter } from "./filter.js";
export type { CbpfInsn } from "./insn.js";
export { CbpfParseError, parseCbpf } from "./parse.js";
export { CaptureError, type CaptureInfo, createPcapWriter, openCapture, type Packet } from "./pcap.js";
export { formatD, formatDD, formatDDD } from "./print.js";
export { cbpfToEbpf } from "./to-ebpf.js";
export { CbpfValidationError, runCbpf, validateCbpf } from "./vm.js";
