import { readFileSync } from "node:fs";
import { attachProgram } from "/work/main/dist/src/kernel/attach.js";
import { loadKernelCollection } from "/work/main/dist/src/kernel/collection.js";
import { loadCollectionSpec } from "/work/main/dist/src/object/collection.js";
import { linuxSys } from "/work/main/dist/src/kernel/sys.js";
const real = linuxSys(); let fd = 1000;
const sys = { ...real, bpf: () => fd++, perfEventOpen: () => fd++, ioctl: () => 0, close: () => {} };
const obj = readFileSync("/work/main/testdata/sched_count.o");
const N = Number(process.argv[2]), W = Number(process.argv[3]), S = Number(process.argv[4]);
const sab = new Int32Array(new SharedArrayBuffer(4));
const rows=[];
for (let i = 0; i < N; i++) {
  if (S) Atomics.wait(sab, 0, 0, S);
  const t0 = process.hrtime.bigint();
  const spec = loadCollectionSpec(obj);
  const t1 = process.hrtime.bigint();
  const c = loadKernelCollection(spec, { sys });
  const l = attachProgram(c.programs.get("count_switches"), spec.programs.get("count_switches"), { sys });
  const t2 = process.hrtime.bigint();
  if (i >= W) rows.push([Number(t1-t0)/1e3, Number(t2-t1)/1e3]);
  l.close(); c.close();
}
const med = (k, rs) => rs.map(r => r[k]).sort((a, b) => a - b)[rs.length >> 1].toFixed(1);
console.log(`N=${N} W=${W} sleep=${S}: parse us`, med(0, rows), "load+attach js us", med(1, rows));
