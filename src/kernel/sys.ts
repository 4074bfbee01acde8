/**
 * kernel/sys — every system call tsbpf makes goes through this one small interface (bound with koffi, no
 * native addon of our own), so marshalling can be tested without root and the real kernel tests exercise the
 * same path. Native memory (for pointers inside bpf_attr) comes from `NativeBuffer`.
 */
import { createRequire } from "node:module";
import { NotSupportedError } from "../errors.js";
import { KernelError } from "./errors.js";

export interface NativeMemory {
  readonly address: bigint;
  readonly bytes: Uint8Array;
  free(): void;
}

export interface Sys {
  /** bpf(2): returns the non-negative result or throws KernelError. */
  bpf(cmd: number, attr: Uint8Array, operation: string): number;
  /**
   * bpf(2) on an attr already in native memory (at `attr`, an address, `size` bytes): the cheapest call, for
   * the element commands a program's maps are driven with (no JS buffer to hand over, no BigInt).
   */
  bpfAt(cmd: number, attr: number, size: number, operation: string): number;
  /**
   * bpf(2) on a worker thread, for commands the kernel may take long over (BPF_PROG_LOAD verifies): `attr` is
   * copied at the call; memory it points to must stay valid until the promise settles.
   */
  bpfAsync(cmd: number, attr: Uint8Array, operation: string): Promise<number>;
  /**
   * Runs `call` with this thread's asynchronous signals held back; they are delivered when it returns. The
   * verifier gives up with EAGAIN whenever a signal is pending, and a sampling profiler (node --cpu-prof) sends
   * this thread one every few hundred microseconds: a program load interrupted once is made again this way.
   */
  withSignalsBlocked<T>(call: () => T): T;
  close(fd: number): void;
  /**
   * close(2) on a worker thread, so that a close the kernel makes wait (a tracepoint or perf event link waits
   * for RCU grace periods when detached) does not hold up Node's event loop.
   */
  closeAsync(fd: number): Promise<void>;
  /**
   * Memory the kernel can be given a pointer to (freed by the caller). Memory for one call comes from a scratch
   * block; `kept` memory, held for long, gets its own allocation, so that it does not keep the block's room.
   */
  alloc(size: number, kept?: "kept"): NativeMemory;
  /** perf_event_open(2). */
  perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** ioctl(2) with an integer argument. */
  ioctl(fd: number, request: number, arg: number): number;
  /** mmap(2) of a shared mapping of fd; returns a view of the kernel memory and its unmapper. */
  mmap(fd: number, length: number, writable: boolean, offset: number): { bytes: Uint8Array; unmap(): void };
  /** A UDP socket bound to 127.0.0.1:port (0 picks one); returns the fd and the port. */
  udpSocket(port: number): { fd: number; port: number };
  /** setsockopt(fd, SOL_SOCKET, option, &int, 4). */
  setSocketOption(fd: number, option: number, value: number): void;
  /** setsockopt(fd, SOL_SOCKET, option, value, value.length) with a structure. */
  setSocketOptionBytes(fd: number, option: number, value: Uint8Array): void;
  /** sendto(2) of a datagram to 127.0.0.1:port from a UDP socket. */
  sendTo(fd: number, port: number, data: Uint8Array): void;
  /** An AF_PACKET raw socket receiving every protocol on one interface. */
  packetSocket(ifindex: number): number;
  /** Moves this thread into the named network namespace (/var/run/netns/NAME); returns the way back. */
  enterNetns(name: string): () => void;
  /** Keeps this thread on one CPU (sched_setaffinity); returns the way back to its former CPU set. */
  pinThread(cpu: number): () => void;
  /** recv(2) without blocking; undefined when nothing is queued. */
  recv(fd: number, max: number): Uint8Array | undefined;
  /** One rtnetlink request: sends `message` on a NETLINK_ROUTE socket, returns the reply datagrams up to the ack. */
  netlinkRoute(message: Uint8Array, endsAnswer: (datagram: Uint8Array) => boolean): Uint8Array[];
  /** An epoll instance watching fd for readability. */
  epollFor(fd: number): { wait(timeoutMs: number): Promise<number>; close(): void };
}

const SYS_BPF_X86_64 = 321;
const SYS_BPF_ARM64 = 280;

interface KoffiLike {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  errno(): number;
  alloc(type: string, count: number): unknown;
  free(ptr: unknown): void;
  address(ptr: unknown): bigint;
  view(ptr: unknown, length: number): ArrayBuffer;
}

let real: Sys | undefined;

const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
/** glibc's sigset_t: 1024 bits. */
const SIGSET_BYTES = 128;
/**
 * Signals 1-64 but those a fault raises in this very thread (SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV
 * 11, SIGSYS 31), which must never be held; glibc keeps its own (32, 33) out of any mask it is given.
 */
const ASYNC_SIGNALS = (() => {
  const set = new Uint8Array(SIGSET_BYTES);
  let bits = 0xffff_ffff_ffff_ffffn;
  for (const signal of [4, 5, 7, 8, 11, 31]) bits &= ~(1n << BigInt(signal - 1));
  new DataView(set.buffer).setBigUint64(0, bits, true);
  return set;
})();

/** The real Linux system calls, loaded on first use. */
export function linuxSys(): Sys {
  if (real) return real;
  if (process.platform !== "linux")
    throw new NotSupportedError("the kernel backend", `bpf() exists only on Linux (this is ${process.platform})`);
  const nr = process.arch === "x64" ? SYS_BPF_X86_64 : process.arch === "arm64" ? SYS_BPF_ARM64 : undefined;
  if (nr === undefined) throw new NotSupportedError("the kernel backend", `no bpf() syscall number known for ${process.arch}`);
  let koffi: KoffiLike;
  try {
    koffi = createRequire(import.meta.url)("koffi") as KoffiLike;
  } catch (e) {
    throw new NotSupportedError("the kernel backend", `koffi could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const libc = koffi.load("libc.so.6");
  const syscall = libc.func("long syscall(long nr, int cmd, void *attr, unsigned int size)") as (
    nr: number,
    cmd: number,
    attr: Uint8Array,
    size: number,
  ) => number;
  // an address as a plain number (every user-space address fits 2^53): koffi converts it for free
  const syscallNative = libc.func("long syscall(long nr, int cmd, intptr_t attr, unsigned int size)") as (
    nr: number,
    cmd: number,
    attr: number,
    size: number,
  ) => number;
  // the attr by address: an async call's arguments must be native memory that outlives the JS call
  const syscallAt = libc.func("long syscall(long nr, int cmd, uint64_t attr, unsigned int size)") as ((
    nr: number,
    cmd: number,
    attr: bigint,
    size: number,
  ) => number) & { async(nr: number, cmd: number, attr: bigint, size: number, cb: (err: unknown, r: number) => void): void };
  const sigmask = libc.func("int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *old)") as (
    how: number,
    set: Uint8Array | null,
    old: Uint8Array | null,
  ) => number;
  const close = libc.func("int close(int fd)") as ((fd: number) => number) & {
    async(fd: number, cb: (err: unknown, r: number) => void): void;
  };
  const perfSyscall = libc.func("long syscall(long nr, void *attr, int pid, int cpu, int group, unsigned long flags)") as (
    nr: number,
    attr: Uint8Array,
    pid: number,
    cpu: number,
    group: number,
    flags: number,
  ) => number;
  const ioctl = libc.func("int ioctl(int fd, unsigned long request, unsigned long arg)") as (
    fd: number,
    request: number,
    arg: number,
  ) => number;
  const perfNr = process.arch === "x64" ? 298 : 241;
  const socket = libc.func("int socket(int domain, int type, int protocol)") as (d: number, t: number, p: number) => number;
  const bind = libc.func("int bind(int fd, void *addr, unsigned int len)") as (fd: number, addr: Uint8Array, len: number) => number;
  const getsockname = libc.func("int getsockname(int fd, void *addr, _Inout_ unsigned int *len)") as (
    fd: number,
    addr: Uint8Array,
    len: number[],
  ) => number;
  const setsockopt = libc.func("int setsockopt(int fd, int level, int name, void *value, unsigned int len)") as (
    fd: number,
    level: number,
    name: number,
    value: Uint8Array,
    len: number,
  ) => number;
  const recv = libc.func("long recv(int fd, void *buf, size_t len, int flags)") as (
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
  ) => number;
  const send = libc.func("long send(int fd, void *buf, size_t len, int flags)") as (
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
  ) => number;
  const sendto = libc.func("long sendto(int fd, void *buf, size_t len, int flags, void *addr, unsigned int alen)") as (
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    addr: Uint8Array,
    alen: number,
  ) => number;
  const open = libc.func("int open(const char *path, int flags)") as (path: string, flags: number) => number;
  const setns = libc.func("int setns(int fd, int nstype)") as (fd: number, nstype: number) => number;
  const getAffinity = libc.func("int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)") as (
    pid: number,
    size: number,
    mask: Uint8Array,
  ) => number;
  const setAffinity = libc.func("int sched_setaffinity(int pid, size_t size, const uint8_t *mask)") as (
    pid: number,
    size: number,
    mask: Uint8Array,
  ) => number;
  const mmap = libc.func("void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)") as (
    addr: null,
    len: number,
    prot: number,
    flags: number,
    fd: number,
    off: number,
  ) => unknown;
  const munmap = libc.func("int munmap(void *addr, size_t len)") as (addr: unknown, len: number) => number;
  const epollCreate = libc.func("int epoll_create1(int flags)") as (flags: number) => number;
  const epollCtl = libc.func("int epoll_ctl(int epfd, int op, int fd, void *event)") as (
    epfd: number,
    op: number,
    fd: number,
    event: Uint8Array,
  ) => number;
  const epollWait = libc.func("int epoll_wait(int epfd, void *events, int maxevents, int timeout)") as ((
    epfd: number,
    events: Uint8Array,
    max: number,
    timeout: number,
  ) => number) & { async(epfd: number, events: Uint8Array, max: number, timeout: number, cb: (err: unknown, r: number) => void): void };
  real = {
    bpf(cmd, attr, operation) {
      const r = syscall(nr, cmd, attr, attr.length);
      if (r < 0) throw new KernelError(operation, koffi.errno());
      return r;
    },
    bpfAt(cmd, attr, size, operation) {
      const r = syscallNative(nr, cmd, attr, size);
      if (r < 0) throw new KernelError(operation, koffi.errno());
      return r;
    },
    bpfAsync(cmd, attr, operation) {
      const copy = (real as Sys).alloc(attr.length); // held until the worker is done with it
      copy.bytes.set(attr);
      return new Promise<number>((resolve, reject) => {
        syscallAt.async(nr, cmd, copy.address, attr.length, (err, r) => {
          const errno = koffi.errno(); // the worker's errno, saved with the call's result
          copy.free();
          if (err) reject(err);
          else if (r < 0) reject(new KernelError(operation, errno));
          else resolve(r);
        });
      });
    },
    withSignalsBlocked(call) {
      const old = new Uint8Array(SIGSET_BYTES);
      if (sigmask(SIG_BLOCK, ASYNC_SIGNALS, old) !== 0) return call();
      try {
        return call();
      } finally {
        sigmask(SIG_SETMASK, old, null);
      }
    },
    close(fd) {
      close(fd);
    },
    closeAsync(fd) {
      return new Promise<void>((resolve, reject) => {
        close.async(fd, (err) => (err ? reject(err) : resolve()));
      });
    },
    perfEventOpen(attr, pid, cpu, groupFd, flags) {
      const r = perfSyscall(perfNr, attr, pid, cpu, groupFd, flags);
      if (r < 0) throw new KernelError("perf_event_open", koffi.errno());
      return r;
    },
    mmap(fd, length, writable, offset) {
      const PROT_READ = 1;
      const PROT_WRITE = 2;
      const MAP_SHARED = 1;
      const ptr = mmap(null, length, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, offset);
      if (koffi.address(ptr) === 0xffffffffffffffffn) throw new KernelError("mmap", koffi.errno());
      let mapped = true;
      return {
        bytes: new Uint8Array(koffi.view(ptr, length)),
        unmap() {
          if (mapped) munmap(ptr, length);
          mapped = false;
        },
      };
    },
    udpSocket(port) {
      const fd = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0x80000 /* SOCK_CLOEXEC */, 0);
      if (fd < 0) throw new KernelError("socket", koffi.errno());
      const addr = new Uint8Array(16);
      const v = new DataView(addr.buffer);
      v.setUint16(0, 2, true);
      v.setUint16(2, port, false);
      addr.set([127, 0, 0, 1], 4);
      if (bind(fd, addr, 16) < 0) {
        const errno = koffi.errno();
        close(fd);
        throw new KernelError("bind", errno);
      }
      const len = [16];
      getsockname(fd, addr, len);
      return { fd, port: v.getUint16(2, false) };
    },
    setSocketOption(fd, option, value) {
      const buf = new Uint8Array(4);
      new DataView(buf.buffer).setInt32(0, value, true);
      if (setsockopt(fd, 1 /* SOL_SOCKET */, option, buf, 4) < 0) throw new KernelError(`setsockopt ${option}`, koffi.errno());
    },
    setSocketOptionBytes(fd, option, value) {
      if (setsockopt(fd, 1 /* SOL_SOCKET */, option, value, value.length) < 0) throw new KernelError(`setsockopt ${option}`, koffi.errno());
    },
    sendTo(fd, port, data) {
      const addr = new Uint8Array(16);
      const v = new DataView(addr.buffer);
      v.setUint16(0, 2 /* AF_INET */, true);
      v.setUint16(2, port, false);
      addr.set([127, 0, 0, 1], 4);
      if (sendto(fd, data, data.length, 0, addr, 16) < 0) throw new KernelError("sendto", koffi.errno());
    },
    packetSocket(ifindex) {
      const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)
      const fd = socket(17 /* AF_PACKET */, 3 /* SOCK_RAW */ | 0x80000 /* SOCK_CLOEXEC */, ETH_P_ALL_BE);
      if (fd < 0) throw new KernelError("socket(AF_PACKET)", koffi.errno());
      const sll = new Uint8Array(20); // struct sockaddr_ll
      const v = new DataView(sll.buffer);
      v.setUint16(0, 17, true);
      v.setUint16(2, ETH_P_ALL_BE, true);
      v.setInt32(4, ifindex, true);
      if (bind(fd, sll, 20) < 0) {
        const errno = koffi.errno();
        close(fd);
        throw new KernelError("bind(AF_PACKET)", errno);
      }
      return fd;
    },
    pinThread(cpu) {
      const before = new Uint8Array(128);
      if (getAffinity(0, 128, before) < 0) throw new KernelError("sched_getaffinity", koffi.errno());
      const only = new Uint8Array(128);
      only[cpu >> 3] = 1 << (cpu & 7);
      if (setAffinity(0, 128, only) < 0) throw new KernelError(`sched_setaffinity to CPU ${cpu}`, koffi.errno());
      return () => {
        if (setAffinity(0, 128, before) < 0) throw new KernelError("sched_setaffinity back", koffi.errno());
      };
    },
    enterNetns(name) {
      const CLONE_NEWNET = 0x40000000;
      const O_RDONLY_CLOEXEC = 0o2000000;
      const here = open("/proc/thread-self/ns/net", O_RDONLY_CLOEXEC);
      if (here < 0) throw new KernelError("open /proc/thread-self/ns/net", koffi.errno());
      const there = open(`/var/run/netns/${name}`, O_RDONLY_CLOEXEC);
      if (there < 0) {
        const errno = koffi.errno();
        close(here);
        throw new KernelError(`open netns ${name}`, errno);
      }
      const r = setns(there, CLONE_NEWNET);
      const errno = koffi.errno();
      close(there);
      if (r < 0) {
        close(here);
        throw new KernelError(`setns ${name}`, errno);
      }
      return () => {
        const back = setns(here, CLONE_NEWNET);
        const e = koffi.errno();
        close(here);
        if (back < 0) throw new KernelError("setns back", e);
      };
    },
    recv(fd, max) {
      const buf = new Uint8Array(max);
      const n = recv(fd, buf, max, 0x40 /* MSG_DONTWAIT */);
      if (n < 0) {
        const errno = koffi.errno();
        if (errno === 11) return undefined;
        throw new KernelError("recv", errno);
      }
      return buf.slice(0, n);
    },
    netlinkRoute(message, endsAnswer) {
      const fd = socket(16 /* AF_NETLINK */, 3 /* SOCK_RAW */ | 0x80000 /* SOCK_CLOEXEC */, 0 /* NETLINK_ROUTE */);
      if (fd < 0) throw new KernelError("socket(AF_NETLINK)", koffi.errno());
      try {
        const one = new Uint8Array([1, 0, 0, 0]);
        setsockopt(fd, 270 /* SOL_NETLINK */, 11 /* NETLINK_EXT_ACK */, one, 4); // error texts; best effort
        const timeout = new Uint8Array(16); // struct timeval: the kernel answers at once, 5 s means it never will
        new DataView(timeout.buffer).setBigInt64(0, 5n, true);
        setsockopt(fd, 1 /* SOL_SOCKET */, 20 /* SO_RCVTIMEO */, timeout, 16);
        if (send(fd, message, message.length, 0) < 0) throw new KernelError("netlink send", koffi.errno());
        const replies: Uint8Array[] = [];
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = recv(fd, buf, buf.length, 0);
          if (n < 0) {
            const errno = koffi.errno();
            if (errno === 4 /* EINTR: a signal came, and SO_RCVTIMEO keeps SA_RESTART from restarting recv */) continue;
            throw new KernelError("netlink recv", errno, errno === 11 ? "no answer from the kernel within 5 s" : undefined);
          }
          const datagram = buf.slice(0, n);
          replies.push(datagram);
          if (n === 0 || endsAnswer(datagram)) return replies;
        }
      } finally {
        close(fd);
      }
    },
    epollFor(fd) {
      const epfd = epollCreate(0x80000 /* EPOLL_CLOEXEC */);
      if (epfd < 0) throw new KernelError("epoll_create1", koffi.errno());
      const event = new Uint8Array(12);
      new DataView(event.buffer).setUint32(0, 1 /* EPOLLIN */, true);
      new DataView(event.buffer).setInt32(4, fd, true);
      if (epollCtl(epfd, 1 /* EPOLL_CTL_ADD */, fd, event) < 0) {
        const errno = koffi.errno();
        close(epfd);
        throw new KernelError("epoll_ctl", errno);
      }
      const events = new Uint8Array(12);
      return {
        // Runs on koffi's worker thread: the event loop keeps going while the kernel has nothing for us.
        wait: (timeoutMs) =>
          new Promise<number>((resolve, reject) => {
            epollWait.async(epfd, events, 1, timeoutMs, (err, r) => (err ? reject(err) : resolve(r)));
          }),
        close: () => {
          close(epfd);
        },
      };
    },
    ioctl(fd, request, arg) {
      const r = ioctl(fd, request, arg);
      if (r < 0) throw new KernelError(`ioctl 0x${request.toString(16)}`, koffi.errno());
      return r;
    },
    alloc(size, kept) {
      arena ??= new ScratchArena(koffi);
      const scratch = kept ? undefined : arena.alloc(size);
      if (scratch) return scratch;
      const ptr = koffi.alloc("uint8_t", Math.max(size, 1));
      const bytes = new Uint8Array(koffi.view(ptr, Math.max(size, 1)), 0, size);
      let freed = false;
      return {
        address: koffi.address(ptr),
        bytes,
        free() {
          if (!freed) koffi.free(ptr);
          freed = true;
        },
      };
    },
  };
  return real;
}

let arena: ScratchArena | undefined;

/**
 * Native memory for system call arguments, handed out from one block allocated once. A koffi allocation of
 * its own costs a view (an external ArrayBuffer) and a free per argument — several times the system call
 * itself for a map lookup — while arguments live only for the call that uses them. Allocations stack up and
 * give their room back newest first; one freed out of turn (an asynchronous call's, finishing while later ones
 * are live) gives its room back when everything above it has. What does not fit gets its own koffi allocation.
 */
class ScratchArena {
  private static readonly SIZE = 256 << 10;
  private readonly bytes: Uint8Array;
  private readonly base: bigint;
  private top = 0;
  /** Allocations freed out of turn: where each ends → where the block's top was before it. */
  private readonly freedBelow = new Map<number, number>();

  constructor(koffi: KoffiLike) {
    const ptr = koffi.alloc("uint8_t", ScratchArena.SIZE); // kept for the life of the process
    this.bytes = new Uint8Array(koffi.view(ptr, ScratchArena.SIZE));
    this.base = koffi.address(ptr);
  }

  alloc(size: number): NativeMemory | undefined {
    const from = this.top;
    const at = (from + 7) & ~7; // the kernel reads u64s in some of what it is given
    if (at + size > ScratchArena.SIZE) return undefined;
    this.top = at + size;
    const bytes = this.bytes.subarray(at, at + size);
    bytes.fill(0); // fresh as a zeroed allocation: earlier calls' data must not leak into output buffers
    let freed = false;
    return {
      address: this.base + BigInt(at),
      bytes,
      free: () => {
        if (freed) return;
        freed = true;
        if (this.top === at + size) {
          // the newest gives its room back at once, and with it any freed out of turn right below it (when the
          // last allocation goes, the whole block is free again)
          this.top = from;
          for (let below = this.freedBelow.get(this.top); below !== undefined; below = this.freedBelow.get(this.top)) {
            this.freedBelow.delete(this.top);
            this.top = below;
          }
        } else {
          this.freedBelow.set(at + size, from);
        }
      },
    };
  }
}

/** Runs `fn` with native copies of `inputs` (or zeroed room of a size), freeing them afterwards (also on error). */
export function withNative<T>(sys: Sys, sizes: readonly (Uint8Array | number)[], fn: (mem: NativeMemory[]) => T): T {
  const mem: NativeMemory[] = [];
  try {
    allocInto(sys, sizes, mem);
    return fn(mem);
  } finally {
    freeAll(mem);
  }
}

/** withNative for a call that completes later (on a worker thread): the memory is held until it has. */
export async function withNativeAsync<T>(
  sys: Sys,
  sizes: readonly (Uint8Array | number)[],
  fn: (mem: NativeMemory[]) => Promise<T>,
): Promise<T> {
  const mem: NativeMemory[] = [];
  try {
    allocInto(sys, sizes, mem);
    return await fn(mem);
  } finally {
    freeAll(mem);
  }
}

function allocInto(sys: Sys, sizes: readonly (Uint8Array | number)[], mem: NativeMemory[]): void {
  for (const s of sizes) {
    const m = sys.alloc(typeof s === "number" ? s : s.length);
    if (typeof s !== "number") m.bytes.set(s);
    mem.push(m);
  }
}

function freeAll(mem: readonly NativeMemory[]): void {
  for (let i = mem.length - 1; i >= 0; i--) mem[i]?.free(); // newest first: the scratch block is a stack
}
