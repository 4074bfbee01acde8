/**
 * Which helpers each program type may call on this kernel (bit N of the hex number = helper N), as the
 * live kernel answered test/support/helper-probe.ts (regenerate with scripts/helper-table.sh). Tracing
 * programs are keyed by attach type too ("tracing/trace_iter").
 */
export const KERNEL_HELPERS: Readonly<Record<string, string>> = {
  socket_filter: "f0ffc80779e3176303f7c2d6f2600638100100080c4280643d1ee",
  kprobe: "f0fec8073fe307630207c296f260063810008008024280a43d1fe",
  sched_cls: "ffffd80779e397fb03ffc3d6f7e1fe3f980340085cfeff7ffffee",
  sched_act: "ffffd80779e397fb03ffc3d6f7e1fe3f980340085cfeff7ffffee",
  tracepoint: "f0fec8073fe307630207c296f260063810008008024280a43d1fe",
  xdp: "ffffcf0779e3976303f7c296f661863f1002200c8142812c3d1ee",
  perf_event: "f0fec8073fe307630207c29ef260063810008018024280a43d1fe",
  cgroup_skb: "f0ffc80779e3176303f7f2d6f3e0fe3fb80100080c4280643d1ee",
  cgroup_sock: "f0fec8c739e317630207c2d6f2e0063830000008044280243d1ee",
  lwt_in: "f0ffc80779e3176303f7c296f260063810200008004ae1743d1ee",
  lwt_out: "f0ffc80779e3176303f7c296f260063810000008004ae1743d1ee",
  lwt_xmit: "f0ffc80779e3176303ffc296f26006381020000800fee77f3ffee",
  sock_ops: "f0ffc80779e317631ff7c2d6f3e01638300400aa244280243d1ee",
  sk_skb: "f0ffc80779e3176303f7c296f260863f101000094cce80643d3ee",
  cgroup_device: "f0fec80739e307630207c296f260063830000008004280243d1ee",
  sk_msg: "f0ffc80779e3176303f7c2d6f3e006f810080f08004280243d1ee",
  raw_tracepoint: "f0fec8073fe307630207c296f260063810008008024280a43d1fe",
  lwt_seg6local: "f0ffc80779e3176303f7c296f260063810000008004ae1743d1ee",
  flow_dissector: "f0ffc80779e3176303f7c296f260063810000008004280443d1ee",
  cgroup_sysctl: "f0fec80739e317630207c296f27e063830000008004280243d1ee",
  raw_tracepoint_writable: "f0fec8073fe307630207c296f260063810008008024280a43d1fe",
  sk_lookup: "f0ffc80779e3176303f7c396f260063c10000008004280243d1ee",
  sk_reuseport: "f0fec80739e317630207c296f260063850010008044280443d1ee",
  "tracing/trace_iter": "f0ffc9077be3476783f7ceb6fbe0063810008008064280a43d1fe",
  "tracing/trace_raw_tp": "f0ffc9077fe3476383f7c2b6fbe0063810008008064280a43d1fe",
};
