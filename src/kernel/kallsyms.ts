/** Kernel addresses to symbol names through /proc/kallsyms, for stack traces. */
import { readFileSync } from "node:fs";

export class KernelSymbolizer {
  private readonly addresses: bigint[];
  private readonly names: string[];

  constructor(text = readFileSync("/proc/kallsyms", "utf8")) {
    const entries: Array<[bigint, string]> = [];
    for (const line of text.split("\n")) {
      const m = /^([0-9a-f]+) [tTwW] (\S+)/.exec(line);
      if (m) entries.push([BigInt(`0x${m[1]}`), m[2] as string]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.addresses = entries.map((e) => e[0]);
    this.names = entries.map((e) => e[1]);
  }

  /** "name+0xoff" for an address inside kernel text, or undefined. */
  symbolize(address: bigint): string | undefined {
    let lo = 0;
    let hi = this.addresses.length - 1;
    if (hi < 0 || address < (this.addresses[0] as bigint) || (this.addresses[0] as bigint) === 0n) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.addresses[mid] as bigint) <= address) lo = mid;
      else hi = mid - 1;
    }
    const off = address - (this.addresses[lo] as bigint);
    return off === 0n ? this.names[lo] : `${this.names[lo]}+0x${off.toString(16)}`;
  }
}

export { stackAddresses } from "../maps/stack-trace.js";
