/**
 * What maps, programs and links share: one kernel fd that this object owns, pinnable in bpffs, closed once
 * (also by `using`), and refused for use after close.
 */
import { dirname } from "node:path";
import { objPin } from "./bpf.js";
import { ensureBpffs } from "./bpffs.js";
import { KernelError } from "./errors.js";
import { objectId } from "./inventory.js";
import type { Sys } from "./sys.js";

export abstract class KernelFdObject {
  private closed = false;

  protected constructor(
    readonly fd: number,
    protected readonly sys: Sys,
  ) {}

  /** How errors name this object ("map counts", "program entry"). */
  protected abstract get label(): string;

  /** Pins the object in bpffs at `path`: it outlives this process until the pin is removed. */
  pin(path: string): void {
    this.assertOpen();
    ensureBpffs(dirname(path));
    objPin(this.sys, this.fd, path);
  }

  /** The kernel's id of the object (BPF_OBJ_GET_INFO_BY_FD), by which bpftool and `tsbpf prog|map|link` name it. */
  kernelId(): number {
    this.assertOpen();
    return objectId(this.sys, this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.releaseFds()) this.sys.close(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Closes as `close()` does, with the kernel's part on worker threads: detaching a tracepoint or perf event
   * link makes close(2) wait for RCU grace periods (~50 ms a link here), which `close()` spends blocking Node's
   * event loop. Closes started together also overlap where the kernel lets them (8 tracepoint links: ~240 ms
   * against ~440 ms one by one). The object is unusable from the call on.
   */
  async closeAsync(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.releaseFds().map((fd) => this.sys.closeAsync(fd)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAsync();
  }

  /**
   * Lets go of what the object holds besides fds (a mapping) and returns the fds to close: its own, then in
   * subclasses whatever else it keeps open, in the order `close()` closes them.
   */
  protected releaseFds(): number[] {
    return [this.fd];
  }

  protected assertOpen(): void {
    if (this.closed) throw new KernelError(this.label, 9 /* EBADF */, "already closed");
  }
}
