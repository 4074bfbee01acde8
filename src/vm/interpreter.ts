/**
 * The reference interpreter: executes validated eBPF slot by slot with the kernel's exact semantics
 * (RFC 9669). Registers are (lo, hi) int32 pairs in two Int32Arrays; no BigInt is created while running.
 * Every memory access is checked against the current call-frame stacks and the mapped regions.
 */

import { VmError } from "../exec/errors.js";
import { callHelper, type ExecState, fault, type Helper } from "../exec/state.js";
import { MAX_CALL_FRAMES, MAY_GOTO_LOOPS, STACK_SIZE } from "../isa/opcodes.js";
import { bswap32, divmods64, divmodu64, mul64, RES_HI, RES_LO } from "./int64.js";

/**
 * A program decoded into per-slot arrays: `code` packs op | dst << 8 | src << 12 | off << 16 so one load
 * fetches an instruction; `imm` holds the immediate (lddw's second slot holds the high half).
 */
export interface DecodedProgram {
  readonly slots: number;
  readonly code: Int32Array;
  readonly imm: Int32Array;
}

/** Packs the non-immediate fields of an instruction into one code word. */
export function packCode(op: number, dst: number, src: number, off: number): number {
  return (op & 0xff) | ((dst & 0xf) << 8) | ((src & 0xf) << 12) | (off << 16);
}

export interface ExecuteOptions {
  /** Instructions the run may execute before failing with BUDGET. */
  budget: number;
  helpers: ReadonlyMap<number, Helper>;
  /** Packet for LD_ABS/LD_IND: [start, start+length) in linear memory. */
  packetStart: number;
  packetLength: number;
  /** Where SKF_LL_OFF and SKF_NET_OFF offsets point (default: packetStart); nothing below linkHeader is read. */
  linkHeader?: number;
  networkHeader?: number;
  /** Called before each instruction executes (tracing); undefined on the fast path. */
  onStep: ((pc: number) => void) | undefined;
  /** Where to start (a callback: its first slot, one frame below its caller); default pc 0 at depth 0. */
  entry?: { pc: number; depth: number };
  /**
   * A byte for the registers the verifier calls uninitialised to hold: r1-r5 after a helper or local call
   * returns, r0 and r6-r9 on a call's entry. Undefined leaves them as they are. (Stack bytes are not
   * poisoned: the kernel lets privileged programs read uninitialised stack, allow_uninit_stack.)
   */
  poison?: number;
}

/** A poison byte repeated over 32 bits (registers take it in both halves). */
export const poisonWord = (byte: number): number => Math.imul(byte & 0xff, 0x01010101);

const TWO32 = 4294967296;
const SKF_NET_OFF = -0x100000;
const SKF_LL_OFF = -0x200000;

/**
 * Runs `prog` from pc 0 with the registers in state.lo/hi (r1.. set by the caller, r10 set here).
 * On return r0 is in lo[0]/hi[0]. No closure captures the loop's locals, so they stay in registers.
 */
export function execute(prog: DecodedProgram, state: ExecState, opts: ExecuteOptions): void {
  const CODE = prog.code;
  const IMM = prog.imm;
  const L = state.lo;
  const H = state.hi;
  const mem = state.memory;
  const saved = state.saved;
  const returnPc = state.returnPc;
  const helpers = opts.helpers;
  const onStep = opts.onStep;
  let view = mem.view;
  let bytes = mem.bytes;
  const stackTop = mem.stackTop;
  const baseDepth = opts.entry?.depth ?? 0;
  let depth = baseDepth;
  let stackLow = stackTop - (depth + 1) * STACK_SIZE;
  let budget = opts.budget;
  let pc = opts.entry?.pc ?? 0;
  L[10] = stackTop - depth * STACK_SIZE;
  H[10] = 0;
  const loops = state.loops;
  loops[depth] = MAY_GOTO_LOOPS;
  const poison = opts.poison;

  for (;;) {
    if (--budget < 0) throw new VmError("BUDGET", `instruction budget of ${opts.budget} exhausted at pc ${pc}`, pc);
    if (onStep !== undefined) onStep(pc);
    const word = CODE[pc] as number;
    const op = word & 0xff;
    const d = (word >> 8) & 0xf;
    const s = (word >> 12) & 0xf;
    const off = word >> 16;
    const imm = IMM[pc] as number;
    const x = (op & 8) !== 0;
    // Source operand for ALU/JMP: register, or the sign-extended immediate.
    const sl = x ? (L[s] as number) : imm;
    const sh = x ? (H[s] as number) : imm >> 31;
    const dl = L[d] as number;
    const dh = H[d] as number;
    pc++;
    switch (op) {
      // ---- ALU64 ----
      case 0x07:
      case 0x0f: {
        const lo = (dl >>> 0) + (sl >>> 0);
        L[d] = lo | 0;
        H[d] = (dh + sh + (lo > 0xffffffff ? 1 : 0)) | 0;
        break;
      }
      case 0x17:
      case 0x1f: {
        const lo = (dl >>> 0) - (sl >>> 0);
        L[d] = lo | 0;
        H[d] = (dh - sh - (lo < 0 ? 1 : 0)) | 0;
        break;
      }
      case 0x27:
      case 0x2f:
        mul64(dl, dh, sl, sh);
        L[d] = RES_LO;
        H[d] = RES_HI;
        break;
      case 0x37:
      case 0x3f:
      case 0x97:
      case 0x9f: {
        const rem = (op & 0xf0) === 0x90;
        if (sl === 0 && sh === 0) {
          if (!rem) L[d] = H[d] = 0; // div by 0 → 0; mod by 0 leaves dst
          break;
        }
        if (off === 1) divmods64(dl, dh, sl, sh, rem);
        else divmodu64(dl, dh, sl, sh, rem);
        L[d] = RES_LO;
        H[d] = RES_HI;
        break;
      }
      case 0x47:
      case 0x4f:
        L[d] = dl | sl;
        H[d] = dh | sh;
        break;
      case 0x57:
      case 0x5f:
        L[d] = dl & sl;
        H[d] = dh & sh;
        break;
      case 0x67:
      case 0x6f: {
        const n = sl & 63;
        if (n === 0) break;
        if (n < 32) {
          H[d] = (dh << n) | (dl >>> (32 - n));
          L[d] = dl << n;
        } else {
          H[d] = dl << (n - 32);
          L[d] = 0;
        }
        break;
      }
      case 0x77:
      case 0x7f: {
        const n = sl & 63;
        if (n === 0) break;
        if (n < 32) {
          L[d] = (dl >>> n) | (dh << (32 - n));
          H[d] = dh >>> n;
        } else {
          L[d] = dh >>> (n - 32);
          H[d] = 0;
        }
        break;
      }
      case 0xc7:
      case 0xcf: {
        const n = sl & 63;
        if (n === 0) break;
        if (n < 32) {
          L[d] = (dl >>> n) | (dh << (32 - n));
          H[d] = dh >> n;
        } else {
          L[d] = dh >> (n - 32);
          H[d] = dh >> 31;
        }
        break;
      }
      case 0x87:
        L[d] = -dl | 0;
        H[d] = (~dh + (dl === 0 ? 1 : 0)) | 0;
        break;
      case 0xa7:
      case 0xaf:
        L[d] = dl ^ sl;
        H[d] = dh ^ sh;
        break;
      case 0xb7:
        L[d] = sl;
        H[d] = sh;
        break;
      case 0xbf: {
        const ext = off;
        if (ext === 0) {
          L[d] = sl;
          H[d] = sh;
        } else {
          const v = ext === 8 ? (sl << 24) >> 24 : ext === 16 ? (sl << 16) >> 16 : sl;
          L[d] = v;
          H[d] = v >> 31;
        }
        break;
      }
      case 0xd7: // bswap16/32/64, and be16/32/64 — the machine is little-endian, so be always swaps
      case 0xdc:
        if (imm === 16) {
          L[d] = ((dl & 0xff) << 8) | ((dl >>> 8) & 0xff);
          H[d] = 0;
        } else if (imm === 32) {
          L[d] = bswap32(dl);
          H[d] = 0;
        } else {
          L[d] = bswap32(dh);
          H[d] = bswap32(dl);
        }
        break;

      // ---- ALU32: results zero-extend ----
      case 0x04:
      case 0x0c:
        L[d] = (dl + sl) | 0;
        H[d] = 0;
        break;
      case 0x14:
      case 0x1c:
        L[d] = (dl - sl) | 0;
        H[d] = 0;
        break;
      case 0x24:
      case 0x2c:
        L[d] = Math.imul(dl, sl);
        H[d] = 0;
        break;
      case 0x34:
      case 0x3c: {
        if (sl === 0) L[d] = 0;
        else if (off === 1)
          L[d] = (dl / sl) | 0; // truncates toward zero; INT_MIN/-1 wraps to INT_MIN
        else L[d] = ((dl >>> 0) / (sl >>> 0)) | 0;
        H[d] = 0;
        break;
      }
      case 0x94:
      case 0x9c: {
        if (sl !== 0) L[d] = off === 1 ? (dl % sl) | 0 : ((dl >>> 0) % (sl >>> 0)) | 0;
        H[d] = 0;
        break;
      }
      case 0x44:
      case 0x4c:
        L[d] = dl | sl;
        H[d] = 0;
        break;
      case 0x54:
      case 0x5c:
        L[d] = dl & sl;
        H[d] = 0;
        break;
      case 0x64:
      case 0x6c:
        L[d] = dl << (sl & 31);
        H[d] = 0;
        break;
      case 0x74:
      case 0x7c:
        L[d] = dl >>> (sl & 31);
        H[d] = 0;
        break;
      case 0xc4:
      case 0xcc:
        L[d] = dl >> (sl & 31);
        H[d] = 0;
        break;
      case 0x84:
        L[d] = -dl | 0;
        H[d] = 0;
        break;
      case 0xa4:
      case 0xac:
        L[d] = dl ^ sl;
        H[d] = 0;
        break;
      case 0xb4:
        L[d] = sl;
        H[d] = 0;
        break;
      case 0xbc: {
        const ext = off;
        L[d] = ext === 8 ? (sl << 24) >> 24 : ext === 16 ? (sl << 16) >> 16 : sl;
        H[d] = 0;
        break;
      }
      case 0xd4: // le: truncate (the machine is little-endian)
        if (imm === 16) L[d] = dl & 0xffff;
        if (imm !== 64) H[d] = 0;
        break;

      // ---- lddw ----
      case 0x18:
        L[d] = imm;
        H[d] = IMM[pc] as number;
        pc++;
        break;

      // ---- loads (LDX MEM / MEMSX) ----
      case 0x61:
      case 0x69:
      case 0x71:
      case 0x79:
      case 0x81:
      case 0x89:
      case 0x91: {
        const size = op === 0x79 ? 8 : (op & 0x18) === 0 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
        const bl = L[s] as number;
        const bh = H[s] as number;
        let a = (bl >>> 0) + off;
        if (bh !== 0) a = bh === -1 && a >= TWO32 ? a - TWO32 : -1;
        if ((a < stackLow || a + size > stackTop) && (a < 0 || !mem.inRegion(a, size, false)))
          fault(mem, "load", pc - 1, bl, bh, off, size);
        switch (op) {
          case 0x61:
            L[d] = view.getInt32(a, true);
            H[d] = 0;
            break;
          case 0x69:
            L[d] = view.getUint16(a, true);
            H[d] = 0;
            break;
          case 0x71:
            L[d] = bytes[a] as number;
            H[d] = 0;
            break;
          case 0x79:
            L[d] = view.getInt32(a, true);
            H[d] = view.getInt32(a + 4, true);
            break;
          case 0x81: {
            const v = view.getInt32(a, true);
            L[d] = v;
            H[d] = v >> 31;
            break;
          }
          case 0x89: {
            const v = view.getInt16(a, true);
            L[d] = v;
            H[d] = v >> 31;
            break;
          }
          default: {
            const v = view.getInt8(a);
            L[d] = v;
            H[d] = v >> 31;
          }
        }
        break;
      }

      // ---- stores (ST/STX MEM) ----
      case 0x62:
      case 0x6a:
      case 0x72:
      case 0x7a:
      case 0x63:
      case 0x6b:
      case 0x73:
      case 0x7b: {
        const size = (op & 0x18) === 0x18 ? 8 : (op & 0x18) === 0 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
        let a = (dl >>> 0) + off;
        if (dh !== 0) a = dh === -1 && a >= TWO32 ? a - TWO32 : -1;
        if ((a < stackLow || a + size > stackTop) && (a < 0 || !mem.inRegion(a, size, true)))
          fault(mem, "store", pc - 1, dl, dh, off, size);
        const isReg = (op & 7) === 3;
        const vl = isReg ? (L[s] as number) : imm;
        const vh = isReg ? (H[s] as number) : imm >> 31; // stdw imm sign-extends
        if (size === 8) {
          view.setInt32(a, vl, true);
          view.setInt32(a + 4, vh, true);
        } else if (size === 4) view.setInt32(a, vl, true);
        else if (size === 2) view.setInt16(a, vl, true);
        else bytes[a] = vl;
        break;
      }

      // ---- atomics ----
      case 0xc3:
      case 0xdb: {
        const size = op === 0xdb ? 8 : 4;
        let a = (dl >>> 0) + off;
        if (dh !== 0) a = dh === -1 && a >= TWO32 ? a - TWO32 : -1;
        if ((a < stackLow || a + size > stackTop) && (a < 0 || !mem.inRegion(a, size, true)))
          fault(mem, "store", pc - 1, dl, dh, off, size);
        const ol = view.getInt32(a, true);
        const oh = size === 8 ? view.getInt32(a + 4, true) : 0;
        const vl = L[s] as number;
        const vh = size === 8 ? (H[s] as number) : 0;
        let nl = ol;
        let nh = oh;
        switch (imm & ~1) {
          case 0x00: {
            const lo = (ol >>> 0) + (vl >>> 0);
            nl = lo | 0;
            nh = (oh + vh + (lo > 0xffffffff ? 1 : 0)) | 0;
            break;
          }
          case 0x40:
            nl = ol | vl;
            nh = oh | vh;
            break;
          case 0x50:
            nl = ol & vl;
            nh = oh & vh;
            break;
          case 0xa0:
            nl = ol ^ vl;
            nh = oh ^ vh;
            break;
          case 0xe0: // xchg
            nl = vl;
            nh = vh;
            break;
          default: {
            // cmpxchg: compare with r0 (low 32 bits for the 32-bit form); r0 always gets the old value
            const eq = size === 8 ? L[0] === ol && H[0] === oh : L[0] === ol;
            if (eq) {
              nl = vl;
              nh = vh;
            }
          }
        }
        view.setInt32(a, nl, true);
        if (size === 8) view.setInt32(a + 4, nh, true);
        if (imm === 0xf1) {
          L[0] = ol;
          H[0] = oh;
        } else if ((imm & 1) !== 0) {
          L[s] = ol;
          H[s] = oh;
        }
        break;
      }

      // ---- legacy packet loads: value in network byte order; out of bounds ends the program with 0 ----
      case 0x20:
      case 0x28:
      case 0x30:
      case 0x40:
      case 0x48:
      case 0x50: {
        const size = (op & 0x18) === 0 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
        const offset = (op & 0xe0) === 0x40 ? ((L[s] as number) + imm) | 0 : imm;
        // Negative offsets address the network header (SKF_NET_OFF) or the link-layer header (SKF_LL_OFF).
        const a =
          offset >= 0
            ? opts.packetStart + offset
            : offset >= SKF_NET_OFF
              ? (opts.networkHeader ?? opts.packetStart) + offset - SKF_NET_OFF
              : offset >= SKF_LL_OFF
                ? (opts.linkHeader ?? opts.packetStart) + offset - SKF_LL_OFF
                : -1;
        if (a < (opts.linkHeader ?? opts.packetStart) || a + size > opts.packetStart + opts.packetLength) {
          L[0] = H[0] = 0;
          return;
        }
        L[0] = size === 4 ? view.getInt32(a, false) : size === 2 ? view.getUint16(a, false) : (bytes[a] as number);
        H[0] = 0;
        break;
      }

      // ---- jumps ----
      case 0x05:
        pc += off;
        break;
      case 0x06:
        pc += imm;
        break;
      case 0xe5: // may_goto
        if (loops[depth] === 0) pc += off;
        else loops[depth]--;
        break;
      case 0x15:
      case 0x1d:
        if (dl === sl && dh === sh) pc += off;
        break;
      case 0x55:
      case 0x5d:
        if (dl !== sl || dh !== sh) pc += off;
        break;
      case 0x25:
      case 0x2d:
        if (dh >>> 0 > sh >>> 0 || (dh === sh && dl >>> 0 > sl >>> 0)) pc += off;
        break;
      case 0x35:
      case 0x3d:
        if (dh >>> 0 > sh >>> 0 || (dh === sh && dl >>> 0 >= sl >>> 0)) pc += off;
        break;
      case 0xa5:
      case 0xad:
        if (dh >>> 0 < sh >>> 0 || (dh === sh && dl >>> 0 < sl >>> 0)) pc += off;
        break;
      case 0xb5:
      case 0xbd:
        if (dh >>> 0 < sh >>> 0 || (dh === sh && dl >>> 0 <= sl >>> 0)) pc += off;
        break;
      case 0x65:
      case 0x6d:
        if (dh > sh || (dh === sh && dl >>> 0 > sl >>> 0)) pc += off;
        break;
      case 0x75:
      case 0x7d:
        if (dh > sh || (dh === sh && dl >>> 0 >= sl >>> 0)) pc += off;
        break;
      case 0xc5:
      case 0xcd:
        if (dh < sh || (dh === sh && dl >>> 0 < sl >>> 0)) pc += off;
        break;
      case 0xd5:
      case 0xdd:
        if (dh < sh || (dh === sh && dl >>> 0 <= sl >>> 0)) pc += off;
        break;
      case 0x45:
      case 0x4d:
        if ((dl & sl) !== 0 || (dh & sh) !== 0) pc += off;
        break;

      // ---- JMP32: compare the low 32 bits only ----
      case 0x16:
      case 0x1e:
        if (dl === sl) pc += off;
        break;
      case 0x56:
      case 0x5e:
        if (dl !== sl) pc += off;
        break;
      case 0x26:
      case 0x2e:
        if (dl >>> 0 > sl >>> 0) pc += off;
        break;
      case 0x36:
      case 0x3e:
        if (dl >>> 0 >= sl >>> 0) pc += off;
        break;
      case 0xa6:
      case 0xae:
        if (dl >>> 0 < sl >>> 0) pc += off;
        break;
      case 0xb6:
      case 0xbe:
        if (dl >>> 0 <= sl >>> 0) pc += off;
        break;
      case 0x66:
      case 0x6e:
        if (dl > sl) pc += off;
        break;
      case 0x76:
      case 0x7e:
        if (dl >= sl) pc += off;
        break;
      case 0xc6:
      case 0xce:
        if (dl < sl) pc += off;
        break;
      case 0xd6:
      case 0xde:
        if (dl <= sl) pc += off;
        break;
      case 0x46:
      case 0x4e:
        if ((dl & sl) !== 0) pc += off;
        break;

      // ---- calls and exit ----
      case 0x85:
        if (s === 1) {
          if (depth + 1 >= MAX_CALL_FRAMES) {
            throw new VmError("CALL_DEPTH", `call stack too deep (${MAX_CALL_FRAMES} frames) at pc ${pc - 1}`, pc - 1);
          }
          const base = depth * 8;
          for (let r = 0; r < 4; r++) {
            saved[base + r * 2] = L[6 + r] as number;
            saved[base + r * 2 + 1] = H[6 + r] as number;
          }
          returnPc[depth] = pc;
          depth++;
          loops[depth] = MAY_GOTO_LOOPS;
          L[10] = (L[10] as number) - STACK_SIZE;
          stackLow -= STACK_SIZE;
          pc += imm;
          if (poison !== undefined) {
            clobber(L, H, poison, 0);
            clobber(L, H, poison, 6, 9);
          }
        } else if (s === 0) {
          state.depth = depth;
          if (callHelper(state, helpers, imm, pc - 1)) return;
          view = mem.view; // a helper may have grown the memory
          bytes = mem.bytes;
          if (poison !== undefined) clobber(L, H, poison, 1, 5);
        } else {
          throw new VmError("UNSUPPORTED", `kfunc call (btf id ${imm}) needs the kernel at pc ${pc - 1}`, pc - 1);
        }
        break;
      case 0x8d: // callx: the register holds a helper id (uBPF / bpf_conformance semantics)
        state.depth = depth;
        if (callHelper(state, helpers, dl, pc - 1)) return;
        view = mem.view;
        bytes = mem.bytes;
        break;
      case 0x95:
        if (depth === baseDepth) return;
        depth--;
        {
          const base = depth * 8;
          for (let r = 0; r < 4; r++) {
            L[6 + r] = saved[base + r * 2] as number;
            H[6 + r] = saved[base + r * 2 + 1] as number;
          }
        }
        L[10] = (L[10] as number) + STACK_SIZE;
        stackLow += STACK_SIZE;
        pc = returnPc[depth] as number;
        if (poison !== undefined) clobber(L, H, poison, 1, 5);
        break;
      default:
        // Validation rejects unknown opcodes; reaching here means the program was not validated.
        throw new VmError("UNSUPPORTED", `unknown opcode 0x${op.toString(16)} at pc ${pc - 1}`, pc - 1);
    }
  }
}

/** Registers first..last hold the poison byte in every byte. */
export function clobber(L: Int32Array, H: Int32Array, poison: number, first: number, last = first): void {
  const w = poisonWord(poison);
  for (let r = first; r <= last; r++) {
    L[r] = w;
    H[r] = w;
  }
}
