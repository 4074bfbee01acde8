/** Errors of the kernel/ domain: a failed system call carries its errno (number and name) and the command. */
import { constants } from "node:os";
import { TsbpfError } from "../errors.js";

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n as number, name]));
// The kernel's own codes, which bpf() passes on to user space (include/linux/errno.h).
ERRNO_NAMES.set(524, "ENOTSUPP");
// Node lists 11 last as EWOULDBLOCK, its alias; Linux and its manual pages call it EAGAIN.
ERRNO_NAMES.set(11, "EAGAIN");

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

export class KernelError extends TsbpfError {
  readonly errno: number;
  /** What was being done, e.g. "BPF_MAP_CREATE" or "perf_event_open". */
  readonly operation: string;

  constructor(operation: string, errno: number, detail?: string) {
    super(errnoName(errno), `${operation} failed: ${errnoName(errno)}${detail ? ` (${detail})` : ""}`);
    this.errno = errno;
    this.operation = operation;
  }
}
