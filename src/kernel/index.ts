/**
 * kernel/ — the Linux backend: bpf() through koffi (all calls through the small `Sys` interface), maps,
 * programs with readable verifier errors, BPF_PROG_TEST_RUN, whole-object loading as libbpf does it, links
 * for tracepoints, raw tracepoints, XDP, tcx and sockets (and XDP and tc clsact filters through rtnetlink), ring
 * buffer readers, feature probes, and the inventory of what the kernel holds (bpftool-style).
 */
export { attachProgram } from "./attach.js";
export { attachCgroup, createTestCgroup, type TestCgroup } from "./cgroup.js";
export {
  type KernelCollection,
  type KernelLoadOptions,
  loadKernelCollection,
  loadKernelCollectionAsync,
  prepareForKernel,
} from "./collection.js";
export { errnoName, KernelError } from "./errors.js";
export {
  type Attached,
  type BtfInfo,
  btfBytesById,
  detachLink,
  type KernelObjectKind,
  type LinkInfo,
  linkById,
  listBtf,
  listLinks,
  listMaps,
  listPrograms,
  type MapInfo,
  mapById,
  type ProgramInfo,
  pinById,
  pinnedObject,
  programById,
  queryAttached,
  type TaskFdAttachment,
  taskFdQuery,
} from "./inventory.js";
export { KernelSymbolizer, stackAddresses } from "./kallsyms.js";
export {
  attachIterator,
  attachKprobe,
  attachPerfEvent,
  attachRawTracepoint,
  attachSocketFilter,
  attachTcx,
  attachTracepoint,
  attachUprobe,
  attachXdp,
  KernelLink,
} from "./link.js";
export { BPF_ANY, BPF_EXIST, BPF_NOEXIST, KernelMap } from "./map.js";
export { createVethPair, type VethPair } from "./netns.js";
export { PerfBufReader, type PerfBufStats } from "./perfbuf.js";
export { type MiscFeature, supportsHelper, supportsMapType, supportsMiscFeature, supportsProgramType } from "./probe.js";
export { KernelProgram, type KernelProgramOptions, type TestRunOptions } from "./program.js";
export { RingBufReader, type RingBufStats } from "./ringbuf.js";
export {
  attachTcFilter,
  attachXdpNetlink,
  type NetlinkAttachment,
  type TcDirection,
  type TcFilter,
  tcFilters,
  type XdpMode,
  type XdpState,
  xdpState,
} from "./rtnetlink.js";
export { type FunctionSymbol, functionSymbols, symbolFileOffset } from "./symbols.js";
export { linuxSys, type Sys } from "./sys.js";
export { tracefs, tracepointId } from "./tracefs.js";
export { attachUsdt, encodeUsdtSpec, parseUsdtArg, readUsdtProbes, type UsdtArg, type UsdtProbe } from "./usdt.js";
export { analyzeLog, VerifierError, type VerifierFailure } from "./verifier-error.js";
export { vmlinuxBtf } from "./vmlinux.js";
export { type XlatedProgram, xlatedInstructions, xlatedProgram } from "./xlated.js";
