/**
 * Helpers about time, randomness, the current task and CPU, tracing output, and reading memory (probe_read*,
 * which here can only read the machine's own memory: anything else reads as an error, as a bad kernel
 * address does).
 */

import type { HelperCall } from "../exec/state.js";
import { EFAULT, EINVAL, ERANGE } from "../maps/map.js";
import { accessible, arg, arg64, type HelperImpl, type HelperRuntime, ret, ret64 } from "./runtime.js";

const readable = (call: HelperCall, addr: number, size: number): boolean => accessible(call, addr, size, false);
const writable = (call: HelperCall, addr: number, size: number): boolean => accessible(call, addr, size, true);

/** probe_read*(dst, size, src): copies, or zeroes dst and fails with EFAULT. */
function probeRead(call: HelperCall, rt: HelperRuntime): void {
  const [dst, size, src] = [arg(call, 1), arg(call, 2), arg(call, 3)];
  if (!writable(call, dst, size)) return ret(call, -EFAULT);
  if (!readable(call, src, size)) {
    rt.memory.bytes.fill(0, dst, dst + size);
    return ret(call, -EFAULT);
  }
  rt.memory.bytes.copyWithin(dst, src, src + size);
  ret(call, 0);
}

/** probe_read*_str(dst, size, src): copies up to a NUL (included), returns the length with it. */
function probeReadStr(call: HelperCall, rt: HelperRuntime): void {
  const [dst, size, src] = [arg(call, 1), arg(call, 2), arg(call, 3)];
  if (size === 0) return ret(call, 0);
  if (!writable(call, dst, size)) return ret(call, -EFAULT);
  const bytes = rt.memory.bytes;
  let n = 0;
  while (n < size - 1 && readable(call, src + n, 1) && bytes[src + n] !== 0) n++;
  if (n < size - 1 && !readable(call, src + n, 1)) {
    bytes[dst] = 0;
    return ret(call, -EFAULT);
  }
  bytes.copyWithin(dst, src, src + n);
  bytes[dst + n] = 0;
  ret(call, n + 1);
}

/** bpf_trace_printk's format: %d %i %u %x %lld %llu %llx %p %s %c and %%; at most three arguments. */
function formatPrintk(call: HelperCall, rt: HelperRuntime, fmt: string, args: bigint[]): string | undefined {
  let next = 0;
  let bad = false;
  const out = fmt.replace(/%(-?\d*)(ll|l|h|hh|z)?([diuxXpsc%])/g, (_, width: string, size: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    if (next >= args.length) {
      bad = true;
      return "";
    }
    const v = args[next++] as bigint;
    const bits = size === "ll" || size === "l" || size === "z" || conv === "p" ? 64 : 32;
    let text: string;
    switch (conv) {
      case "d":
      case "i":
        text = BigInt.asIntN(bits, v).toString();
        break;
      case "u":
        text = BigInt.asUintN(bits, v).toString();
        break;
      case "x":
      case "X":
        text = BigInt.asUintN(bits, v).toString(16);
        if (conv === "X") text = text.toUpperCase();
        break;
      case "p":
        text = `0x${BigInt.asUintN(64, v).toString(16)}`;
        break;
      case "c":
        text = String.fromCharCode(Number(v & 0xffn));
        break;
      default: {
        const at = Number(v & 0xffffffffn);
        let s = "";
        for (let i = 0; i < 4096 && readable(call, at + i, 1) && rt.memory.bytes[at + i] !== 0; i++)
          s += String.fromCharCode(rt.memory.bytes[at + i] as number);
        text = s;
      }
    }
    const w = Number.parseInt(width || "0", 10);
    return w < 0 ? text.padEnd(-w) : text.padStart(w);
  });
  return bad ? undefined : out;
}

function cString(call: HelperCall, rt: HelperRuntime, at: number, max: number): string | undefined {
  let s = "";
  for (let i = 0; i < max; i++) {
    if (!readable(call, at + i, 1)) return undefined;
    const b = rt.memory.bytes[at + i] as number;
    if (b === 0) return s;
    s += String.fromCharCode(b);
  }
  return s;
}

/** strtol/strtoul(buf, buf_len, flags, res) as the kernel's __bpf_strtoull: returns the characters consumed. */
function strtox(call: HelperCall, rt: HelperRuntime, signed: boolean): void {
  const [buf, bufLen, flags, res] = [arg(call, 1), arg(call, 2), Number(arg64(call, 3)), arg(call, 4)];
  if (flags & ~0x1f || ![0, 8, 10, 16].includes(flags)) return ret(call, -EINVAL);
  if (!writable(call, res, 8) || !readable(call, buf, bufLen)) return ret(call, -EFAULT);
  const b = rt.memory.bytes;
  const end = buf + bufLen;
  let at = buf;
  while (at < end && (b[at] === 0x20 || ((b[at] as number) >= 9 && (b[at] as number) <= 13))) at++;
  const negative = at < end && b[at] === 0x2d; // '-'
  if (negative) at++;
  if (negative && !signed) return ret(call, -EINVAL);
  let base = flags;
  const isHex = (c: number | undefined): boolean => c !== undefined && /[0-9a-fA-F]/.test(String.fromCharCode(c));
  const hexPrefix = at + 2 < end + 1 && b[at] === 0x30 && (b[at + 1] | 0x20) === 0x78 && at + 2 < end && isHex(b[at + 2]);
  if (base === 0) base = hexPrefix ? 16 : b[at] === 0x30 ? 8 : 10;
  if (base === 16 && hexPrefix) at += 2;
  let v = 0n;
  let digits = 0;
  for (; at < end; at++) {
    const c = b[at] as number;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x61 + 10 : 99;
    if (d >= base) break;
    v = v * BigInt(base) + BigInt(d);
    if (v > 0xffffffffffffffffn) return ret(call, -ERANGE);
    digits++;
  }
  if (digits === 0) return ret(call, -EINVAL);
  if (signed && v > (negative ? 0x8000000000000000n : 0x7fffffffffffffffn)) return ret(call, -ERANGE);
  rt.memory.view.setBigUint64(res, BigInt.asUintN(64, negative ? -v : v), true);
  ret(call, at - buf);
}

export const MISC_HELPERS: ReadonlyMap<number, HelperImpl> = new Map<number, HelperImpl>([
  [4, probeRead], // probe_read
  [112, probeRead], // probe_read_user
  [113, probeRead], // probe_read_kernel
  [45, probeReadStr], // probe_read_str
  [114, probeReadStr], // probe_read_user_str
  [115, probeReadStr], // probe_read_kernel_str
  [5, (call, rt) => ret64(call, rt.now())], // ktime_get_ns
  [125, (call, rt) => ret64(call, rt.now())], // ktime_get_boot_ns
  [160, (call, rt) => ret64(call, rt.now())], // ktime_get_coarse_ns
  [7, (call, rt) => ret64(call, BigInt(rt.random() >>> 0))], // get_prandom_u32
  [8, (call, rt) => ret(call, rt.currentCpu())], // get_smp_processor_id
  [42, (call) => ret(call, 0)], // get_numa_node_id
  [14, (call, rt) => ret64(call, (BigInt(rt.task.tgid) << 32n) | BigInt(rt.task.pid))], // get_current_pid_tgid
  [15, (call, rt) => ret64(call, (BigInt(rt.task.gid) << 32n) | BigInt(rt.task.uid))], // get_current_uid_gid
  [
    16, // get_current_comm(buf, size)
    (call, rt) => {
      const [buf, size] = [arg(call, 1), arg(call, 2)];
      if (!writable(call, buf, size)) return ret(call, -EFAULT);
      const comm = new TextEncoder().encode(rt.task.comm).subarray(0, Math.max(0, Math.min(15, size - 1)));
      rt.memory.bytes.fill(0, buf, buf + size);
      rt.memory.bytes.set(comm, buf);
      ret(call, 0);
    },
  ],
  [
    6, // trace_printk(fmt, fmt_size, arg1, arg2, arg3)
    (call, rt) => {
      const fmt = cString(call, rt, arg(call, 1), arg(call, 2));
      if (fmt === undefined) return ret(call, -EINVAL);
      const line = formatPrintk(call, rt, fmt, [arg64(call, 3), arg64(call, 4), arg64(call, 5)]);
      if (line === undefined) return ret(call, -EINVAL);
      rt.print(line.replace(/\n$/, ""));
      ret(call, line.length);
    },
  ],
  [105, (call, rt) => strtox(call, rt, true)], // strtol
  [106, (call, rt) => strtox(call, rt, false)], // strtoul
  [93, (call) => ret(call, 0)], // spin_lock: one program runs at a time in the machine
  [94, (call) => ret(call, 0)], // spin_unlock
  [
    165, // snprintf(str, str_size, fmt, data, data_len): u64 arguments in data; returns the length with the NUL
    (call, rt) => {
      const [str, size, fmtAt, data, dataLen] = [arg(call, 1), arg(call, 2), arg(call, 3), arg(call, 4), arg(call, 5)];
      if (dataLen % 8 || dataLen > 12 * 8) return ret(call, -EINVAL);
      if (!writable(call, str, size) || !readable(call, data, dataLen)) return ret(call, -EFAULT);
      const fmt = cString(call, rt, fmtAt, 1024);
      if (fmt === undefined) return ret(call, -EINVAL);
      const args = Array.from({ length: dataLen / 8 }, (_, i) => rt.memory.view.getBigUint64(data + i * 8, true));
      const text = formatPrintk(call, rt, fmt, args);
      if (text === undefined) return ret(call, -EINVAL);
      const bytes = new TextEncoder().encode(text);
      if (size > 0) {
        const n = Math.min(bytes.length, size - 1);
        rt.memory.bytes.set(bytes.subarray(0, n), str);
        rt.memory.bytes[str + n] = 0;
      }
      ret(call, bytes.length + 1);
    },
  ],
  [
    35, // get_current_task: the machine's task is an opaque, zeroed, read-only block (fields read as 0)
    (call, rt) => ret64(call, BigInt(rt.currentTaskAddress())),
  ],
]);
