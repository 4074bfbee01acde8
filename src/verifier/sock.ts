/**
 * Loads through socket pointers (the kernel's check_sock_access): which fields of struct bpf_sock,
 * bpf_tcp_sock and bpf_xdp_sock a program may read, at which sizes. A sock_common pointer sees the
 * bpf_sock fields a request or timewait socket has too (not type, protocol, mark, priority).
 */

/** struct bpf_sock: 80 bytes of u32 fields, but dst_port, a __be16 followed by 2 bytes of padding. */
const BPF_SOCK_SIZE = 80;
const DST_PORT = 48;
const DST_IP4 = 52;
/** bpf_ctx_range_till(struct bpf_sock, type, priority): what a sock_common lacks. */
const COMMON_HOLE: readonly [number, number] = [8, 23];
/** offsetofend(struct bpf_tcp_sock, icsk_retransmits); bytes_received and bytes_acked are the u64 fields. */
const TCP_SOCK_SIZE = 112;
const TCP_SOCK_U64: ReadonlySet<number> = new Set([80, 88]);

/** bpf_ctx_narrow_access_ok: a power-of-two size no larger than the field. */
const narrowOk = (size: number, field: number): boolean => size <= field && (size & (size - 1)) === 0;

function bpfSock(off: number, size: number): boolean {
  if (off < 0 || off >= BPF_SOCK_SIZE || off % size !== 0) return false;
  // bpf_sock_is_valid_access: the named u32 fields read narrow too, dst_port at 2 bytes, its padding never.
  if (off >= DST_PORT && off < DST_PORT + 2) return narrowOk(size, size === 4 ? 4 : 2);
  if (off >= DST_PORT + 2 && off < DST_IP4) return false;
  const narrowFields =
    off === 72 || off === 4 || off === 8 || off === 12 || off === 44 || off === 76 || (off >= 24 && off < 44) || (off >= 52 && off < 72);
  return narrowFields ? narrowOk(size, 4) : size === 4;
}

/** Whether a `size`-byte read at `off` through a pointer of `kind` is valid. */
export function sockFieldOk(kind: "sock" | "sock_common" | "tcp_sock" | "xdp_sock", off: number, size: number): boolean {
  switch (kind) {
    case "sock":
      return bpfSock(off, size);
    case "sock_common":
      return !(off >= COMMON_HOLE[0] && off <= COMMON_HOLE[1]) && bpfSock(off, size);
    case "tcp_sock":
      if (off < 0 || off >= TCP_SOCK_SIZE || off % size !== 0) return false;
      return size === (TCP_SOCK_U64.has(off) ? 8 : 4);
    case "xdp_sock":
      // struct bpf_xdp_sock: queue_id alone.
      return off === 0 && size === 4;
  }
}
