/**
 * cbpf/compiler — the pcap-filter language (tcpdump's filter expressions) compiled to classic BPF exactly
 * as libpcap 1.10 compiles it: `compileExpression("tcp port 80", { linktype: "EN10MB" })`.
 */

import type { CbpfInsn } from "../insn.js";
import * as C from "../insn.js";
import { newBlock } from "./blocks.js";
import { QERR } from "./constants.js";
import { finishParse, linearize } from "./finish.js";
import { tokenize } from "./lexer.js";
import { NameDb } from "./names.js";
import { optimize as optimizeBlocks } from "./optimize.js";
import { Parser, SyntaxFail } from "./parser.js";
import { CompilerState, DLT, FilterError, GenError, LINKTYPE_NAMES, linktypeToDlt } from "./state.js";

export { NameDb } from "./names.js";
export { DLT, FilterError, LINKTYPE_NAMES } from "./state.js";

export interface ExpressionOptions {
  /** Link-layer type: a DLT_ number or a name such as "EN10MB" (tcpdump -y). Default EN10MB. */
  linktype?: number | string;
  /** Default 262144, tcpdump's. */
  snaplen?: number;
  /** libpcap's optimizer (tcpdump's default; -O turns it off). Default true. */
  optimize?: boolean;
  /** Netmask for `ip broadcast`; tcpdump reading a file uses 0. */
  netmask?: number;
  /** Name resolution; default: the files in /etc. */
  names?: NameDb;
  /** The capture file's byte order is the opposite of this machine's (DLT_NULL's AF field). */
  swapped?: boolean;
}

export interface CompiledExpression {
  program: CbpfInsn[];
  /** The generator used constructs the optimizer cannot handle (protochain, 802.11 headers, geneve). */
  noOptimize: boolean;
}

/** Resolve a link-type name or number to a DLT_ value. */
export function resolveLinktype(linktype: number | string | undefined): number {
  if (linktype === undefined) return DLT.EN10MB;
  if (typeof linktype === "number") return linktypeToDlt(linktype);
  const name = linktype.toUpperCase().replace(/^(DLT|LINKTYPE)_/, "");
  const v = LINKTYPE_NAMES[name];
  if (v === undefined) throw new FilterError(`unknown data link type ${linktype}`, "");
  return v;
}

let defaultNames: NameDb | undefined;

function defaultNameDb(): NameDb {
  if (!defaultNames) defaultNames = NameDb.fromDirectory("/etc");
  return defaultNames;
}

export function compileExpression(expression: string, opts: ExpressionOptions = {}): CompiledExpression {
  const optimize = opts.optimize ?? true;
  try {
    const toks = tokenize(expression);
    const parser = new Parser(toks);
    let root: ReturnType<Parser["parseProgram"]>;
    const names = opts.names ?? defaultNameDb();
    const state = (): CompilerState =>
      new CompilerState({
        linktype: resolveLinktype(opts.linktype),
        snaplen: opts.snaplen ?? 262144,
        netmask: opts.netmask ?? 0,
        names,
        swapped: opts.swapped ?? false,
      });
    try {
      root = parser.parseProgram();
    } catch (e) {
      if (!(e instanceof SyntaxFail)) throw e;
      const at = toks[Math.min(parser.failPos, toks.length - 1)];
      // A scanning error at the failure point was reported first; otherwise what yacc reduced before the
      // error may fail on its own (and libpcap reports that); else it is a plain syntax error.
      if (at?.error) throw new GenError(at.error);
      try {
        e.partial?.(state(), QERR);
      } catch (x) {
        if (x instanceof GenError) throw x;
      }
      throw new GenError("can't parse filter expression: syntax error");
    }
    const cs = state();
    let top = root ? finishParse(cs, root(cs, QERR).b) : newBlock(C.RET | C.K, cs.snaplen);
    if (optimize && !cs.noOptimize) {
      top = optimizeBlocks(top);
      if (top.s.code === (C.RET | C.K) && top.s.k === 0) throw new GenError("expression rejects all packets");
    }
    return { program: linearize(top), noOptimize: cs.noOptimize };
  } catch (e) {
    if (e instanceof GenError) throw new FilterError(e.message, expression);
    // A pathologically deep expression exhausts the stack of the recursive passes: refuse it cleanly.
    if (e instanceof RangeError) throw new FilterError(`expression too complex to compile (${e.message})`, expression);
    throw e;
  }
}
