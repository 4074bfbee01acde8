/**
 * What the programs of one script share and what user space needs to read their output: the script's maps
 * (BPF names, key and value layouts), the event kinds records carry, and the code generator's options.
 */
import type { Analysis } from "./analyse.js";
import { aggValueSize, storageSize, type Ty } from "./types.js";

export const SCRATCH_MAP = "scratch";
export const EVENTS_MAP = "events";

/** The stack trace map of kstack/ustack values of one depth (it keeps that many frames, so equal tops merge). */
export const stackMapName = (kind: "kstack" | "ustack", depth: number): string => `${kind}${depth}`;

/** Where a script's map lives in BPF and how its keys and values are laid out. */
export interface CompiledMap {
  /** The script's name, "@x". */
  readonly name: string;
  /** The BPF map's name (m0, m1…). */
  readonly bpfName: string;
  readonly key: readonly Ty[] | undefined;
  readonly value: Ty;
  /** Bytes of the script's key (hist/lhist maps add an 8-byte bucket after it). */
  readonly keySize: number;
  readonly valueSize: number;
  readonly perCpu: boolean;
}

export type EventDesc =
  | { readonly kind: "printf" | "cat" | "system"; readonly format: Uint8Array; readonly args: readonly Ty[] }
  /** join(): a count word, then `slots` NUL-padded strings of `slotSize` bytes. */
  | { readonly kind: "join"; readonly delim: string; readonly slots: number; readonly slotSize: number }
  | { readonly kind: "exit" }
  | { readonly kind: "print"; readonly map: string; readonly top: number; readonly div: number }
  | { readonly kind: "value"; readonly type: Ty }
  | { readonly kind: "clear" | "zero"; readonly map: string }
  | { readonly kind: "time"; readonly format: string | undefined };

export interface CodegenOptions {
  readonly strlen: number;
  readonly params: readonly string[];
  /** ktime (ns) at the tracer's start, for `elapsed`. */
  readonly startNs: bigint;
  readonly cpid: number;
}

/** Shared across the programs of one script: its maps and event descriptions. */
export class ScriptLayout {
  readonly maps = new Map<string, CompiledMap>();
  readonly events: EventDesc[] = [];
  /** Stack maps the programs use: kind and depth. */
  readonly stacks = new Map<string, { readonly kind: "kstack" | "ustack"; readonly depth: number }>();
  scratchSize = 8;

  constructor(
    analysis: Analysis,
    readonly strlen: number,
  ) {
    let n = 0;
    for (const info of [...analysis.maps.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const keySize = info.key ? info.key.reduce((s, k) => s + storageSize(k, strlen), 0) : 8;
      const agg = info.value.k === "agg" ? info.value : undefined;
      this.maps.set(info.name, {
        name: info.name,
        bpfName: `m${n++}`,
        key: info.key,
        value: info.value,
        keySize,
        valueSize: agg ? aggValueSize(agg.fn) : Math.max(8, storageSize(info.value, strlen)),
        perCpu: agg !== undefined,
      });
    }
  }

  event(desc: EventDesc): number {
    this.events.push(desc);
    return this.events.length - 1;
  }
}
