/**
 * PERF_EVENT_ARRAY: bpf_perf_event_output sends a sample to one CPU's ring, which exists only while user space
 * reads that CPU (as a perf event fd in the slot does in the kernel); without a reader the helper fails with
 * ENOENT. Each CPU's ring has a byte capacity; samples that do not fit are counted as lost.
 */
import type { MapSpec } from "../object/maps.js";
import { E2BIG, EINVAL, ENOENT, ENOSPC, EOPNOTSUPP, type MapEnv, VmMap } from "./map.js";

const BPF_F_INDEX_MASK = 0xffffffff;
const BPF_F_CURRENT_CPU = 0xffffffff;
/** A perf sample record: header (8) + size (4) + data, 8-byte aligned — the space it takes in the ring. */
const sampleBytes = (size: number): number => (8 + 4 + size + 7) & ~7;

export interface PerfSample {
  cpu: number;
  data: Uint8Array;
}

interface Ring {
  samples: Uint8Array[];
  bytes: number;
  lost: number;
}

export class PerfEventArrayMap extends VmMap {
  private readonly rings = new Map<number, Ring>();
  private capacity = 0;

  constructor(spec: MapSpec, env: MapEnv) {
    super(spec, env);
    if (this.slots === 0) this.fail("create", EINVAL, "no slots");
  }

  /** max_entries, or one slot per CPU when the definition leaves it 0 (as libbpf sizes it). */
  get slots(): number {
    return this.spec.maxEntries || this.env.cpus;
  }

  /** Starts reading every CPU's samples, `bytesPerCpu` of ring each (the kernel's page_cnt * page size). */
  open(bytesPerCpu = 64 * 4096): void {
    this.capacity = bytesPerCpu;
    for (let c = 0; c < Math.min(this.env.cpus, this.slots); c++) this.rings.set(c, { samples: [], bytes: 0, lost: 0 });
  }

  /** Takes the samples waiting, CPU by CPU, and the number lost per CPU since the last call. */
  read(): { samples: PerfSample[]; lost: number[] } {
    const samples: PerfSample[] = [];
    const lost: number[] = [];
    for (const [cpu, ring] of this.rings) {
      for (const data of ring.samples) samples.push({ cpu, data });
      lost[cpu] = ring.lost;
      ring.samples = [];
      ring.bytes = 0;
      ring.lost = 0;
    }
    return { samples, lost };
  }

  /** bpf_perf_event_output's work: 0 or a negative errno. */
  output(flags: bigint, srcAddr: number, size: number): number {
    const index = Number(flags & BigInt(BPF_F_INDEX_MASK));
    if (flags & ~BigInt(BPF_F_INDEX_MASK)) return -EINVAL;
    const cpu = index === BPF_F_CURRENT_CPU ? this.env.currentCpu() : index;
    if (cpu >= this.slots) return -E2BIG;
    const ring = this.rings.get(cpu);
    if (!ring) return -ENOENT;
    if (index !== BPF_F_CURRENT_CPU && cpu !== this.env.currentCpu()) return -EOPNOTSUPP; // kernel: an event bound to another CPU
    const need = sampleBytes(size);
    if (ring.bytes + need > this.capacity) {
      ring.lost++;
      return -ENOSPC; // the kernel drops the sample and counts it lost
    }
    ring.bytes += need;
    ring.samples.push(this.env.memory.bytes.slice(srcAddr, srcAddr + size));
    return 0;
  }

  get(_key: Uint8Array): Uint8Array | undefined {
    return this.fail("lookup", EINVAL, "perf event arrays are read with open() and read()");
  }

  set(): void {
    this.fail("update", EINVAL, "use open() to read samples");
  }

  delete(): void {
    this.fail("delete", ENOENT);
  }

  nextKey(): Uint8Array | undefined {
    return undefined;
  }

  lookupFromProgram(): number {
    return 0;
  }
}
