// The optimizer's SIMD bit sets (hand-assembled wasm) against plain JS word loops, on random sets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BitsetArena } from "../src/cbpf/compiler/bitsets.js";
import { rng } from "./support/rng.js";

describe("optimizer bit sets", () => {
  it("meet, copy and scan exactly as word-by-word loops do", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const words = 1 + Math.floor(r() * 70);
      const sets = 2 + Math.floor(r() * 5);
      const arena = new BitsetArena(sets, words);
      const model = Array.from({ length: sets }, () => new Uint32Array(arena.stride));
      for (let k = 0; k < sets; k++)
        for (let i = 0; i < words; i++) {
          // sparse, dense or empty words
          const v = r() < 0.7 ? 0 : r() < 0.5 ? 0xffffffff : Math.floor(r() * 2 ** 32);
          arena.set(k)[i] = v;
          (model[k] as Uint32Array)[i] = v;
        }
      arena.begin(0, sets);
      for (let step = 0; step < 20; step++) {
        const a = Math.floor(r() * sets);
        const b = Math.floor(r() * sets);
        const touched = (arena as unknown as { touched: Uint8Array }).touched[a] === 1;
        const ma = model[a] as Uint32Array;
        const mb = model[b] as Uint32Array;
        if (r() < 0.5) {
          arena.meetAnd(a, b);
          for (let i = 0; i < ma.length; i++) ma[i] = touched ? (ma[i] as number) & (mb[i] as number) : (mb[i] as number);
        } else {
          arena.meetOr(a, b);
          for (let i = 0; i < ma.length; i++) ma[i] = touched ? (ma[i] as number) | (mb[i] as number) : (mb[i] as number);
        }
        for (let k = 0; k < sets; k++)
          assert.deepEqual([...arena.set(k)], [...(model[k] as Uint32Array)], `seed ${seed} step ${step} set ${k}`);
      }
      for (let k = 0; k < sets; k++) {
        const m = model[k] as Uint32Array;
        for (let from = 0; from < arena.stride; from += 4) {
          let want = arena.stride;
          for (let v = from; v < arena.stride; v += 4)
            if (m[v] || m[v + 1] || m[v + 2] || m[v + 3]) {
              want = v;
              break;
            }
          assert.equal(arena.nextNonzero(k, from), want, `seed ${seed} set ${k} from ${from}`);
        }
      }
    }
  });
});
