/**
 * What maps, programs and links share: one kernel fd that this object owns, pinnable in bpffs, closed once
 * (also by `using`), and refused for use after close.
 */
import { dirname } from "node:path";
import { objPin } from "./bpf.js";
import { ensureBpffs } from "./bpffs.js";
import { KernelError } from "./errors.js";
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes what the object holds: its fd, and in subclasses whatever else it keeps open. */
  protected release(): void {
    this.sys.close(this.fd);
  }

  protected assertOpen(): void {
    if (this.closed) throw new KernelError(this.label, 9 /* EBADF */, "already closed");
  }
}
