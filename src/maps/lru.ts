/**
 * The kernel's LRU lists for LRU hash tables (kernel/bpf/bpf_lru_list.c), node for node, so that the
 * machine evicts exactly the elements Linux evicts when driven the same way from one CPU.
 *
 * Not a plain recency list: elements sit on an active or an inactive list with a reference bit that a
 * program's lookup sets (user-space lookups do not); new elements wait on their CPU's pending list until
 * that CPU next needs free nodes, which flushes them onto the global lists, rotates those (second chance
 * for referenced nodes) and shrinks the inactive list from its tail. BPF_F_NO_COMMON_LRU maps keep one
 * such list per CPU instead. Nodes are the table's preallocated element slots 0..n-1.
 */

const ACTIVE = 0;
const INACTIVE = 1;
const FREE = 2;
const LOCAL_FREE = 3;
const PENDING = 4;

/** LOCAL_FREE_TARGET / LOCAL_NR_SCANS and PERCPU_FREE_TARGET / PERCPU_NR_SCANS. */
const LOCAL_TARGET = 128;
const PERCPU_TARGET = 4;

/** One bpf_lru_list: active, inactive and free lists (sentinels), counts, and the rotation cursor. */
interface LruList {
  readonly heads: readonly [number, number, number];
  readonly counts: [number, number];
  nextInactiveRotation: number;
}

/** A CPU's bpf_lru_locallist (common LRU only). */
interface LocalList {
  readonly free: number;
  readonly pending: number;
  nextSteal: number;
}

export class LruLists {
  /** Doubly linked lists over nodes 0..n-1 and the sentinels after them. */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly type: Uint8Array;
  private readonly ref: Uint8Array;
  private readonly cpuOf: Int32Array;
  private readonly global: LruList[] = [];
  private readonly locals: LocalList[] = [];
  private readonly nrScans: number;
  private readonly targetFree: number;
  private sentinels: number;

  /**
   * `removeFromTable(node)` takes the node's element out of the hash table and says whether it was there
   * (the kernel's del_from_htab callback).
   */
  constructor(
    nodes: number,
    private readonly cpus: number,
    readonly perCpu: boolean,
    private readonly removeFromTable: (node: number) => boolean,
  ) {
    const sentinels = perCpu ? 3 * cpus : 3 + 2 * cpus;
    this.next = new Int32Array(nodes + sentinels);
    this.prev = new Int32Array(nodes + sentinels);
    this.type = new Uint8Array(nodes);
    this.ref = new Uint8Array(nodes);
    this.cpuOf = new Int32Array(nodes);
    this.sentinels = nodes;
    this.nrScans = perCpu ? PERCPU_TARGET : LOCAL_TARGET;
    for (let l = 0; l < (perCpu ? cpus : 1); l++) {
      const heads: [number, number, number] = [this.sentinel(), this.sentinel(), this.sentinel()];
      this.global.push({ heads, counts: [0, 0], nextInactiveRotation: heads[INACTIVE] });
    }
    if (!perCpu) {
      for (let c = 0; c < cpus; c++) this.locals.push({ free: this.sentinel(), pending: this.sentinel(), nextSteal: c });
    }
    // bpf_lru_populate: every node starts free (each list_add puts it at the head)
    if (perCpu) {
      const each = Math.floor(nodes / cpus);
      for (let node = 0; node < nodes; node++) {
        const cpu = Math.min(Math.floor(node / each), cpus - 1);
        this.cpuOf[node] = cpu;
        this.type[node] = FREE;
        this.add(node, (this.global[cpu] as LruList).heads[FREE]);
      }
    } else {
      for (let node = 0; node < nodes; node++) {
        this.type[node] = FREE;
        this.add(node, (this.global[0] as LruList).heads[FREE]);
      }
    }
    this.targetFree = Math.min(Math.max(Math.floor(Math.floor(nodes / cpus) / 2), 1), LOCAL_TARGET);
  }

  /** A free node for a new element, taken on `cpu` (evicting elements when none is free); undefined if none. */
  popFree(cpu: number): number | undefined {
    return this.perCpu ? this.perCpuPopFree(cpu) : this.commonPopFree(cpu);
  }

  /** Gives a node back (its element was deleted or replaced, or an update failed). */
  pushFree(node: number): void {
    if (this.perCpu) {
      this.move(this.global[this.cpuOf[node] as number] as LruList, node, FREE);
      return;
    }
    if (this.type[node] === PENDING) {
      const local = this.locals[this.cpuOf[node] as number] as LocalList;
      this.type[node] = LOCAL_FREE;
      this.ref[node] = 0;
      this.unlink(node);
      this.add(node, local.free);
      return;
    }
    this.move(this.global[0] as LruList, node, FREE);
  }

  /** bpf_lru_node_set_ref: a program looked the element up (or an update replaced it). */
  setRef(node: number): void {
    this.ref[node] = 1;
  }

  // ---- the kernel's list primitives ----

  private sentinel(): number {
    const s = this.sentinels++;
    this.next[s] = s;
    this.prev[s] = s;
    return s;
  }

  /** list_add: right after `head`. */
  private add(node: number, head: number): void {
    const first = this.next[head] as number;
    this.next[node] = first;
    this.prev[node] = head;
    this.prev[first] = node;
    this.next[head] = node;
  }

  private unlink(node: number): void {
    const p = this.prev[node] as number;
    const n = this.next[node] as number;
    this.next[p] = n;
    this.prev[n] = p;
  }

  private isEmpty(head: number): boolean {
    return this.next[head] === head;
  }

  private countDec(l: LruList, type: number): void {
    if (type < FREE) l.counts[type as 0 | 1]--;
  }

  private countInc(l: LruList, type: number): void {
    if (type < FREE) l.counts[type as 0 | 1]++;
  }

  /** __bpf_lru_node_move_to_free */
  private moveToFree(l: LruList, node: number, freeHead: number, type: number): void {
    if (node === l.nextInactiveRotation) l.nextInactiveRotation = this.prev[node] as number;
    this.countDec(l, this.type[node] as number);
    this.type[node] = type;
    this.unlink(node);
    this.add(node, freeHead);
  }

  /** __bpf_lru_node_move_in: from a CPU's pending list onto a global list. */
  private moveIn(l: LruList, node: number, type: number): void {
    this.countInc(l, type);
    this.type[node] = type;
    this.ref[node] = 0;
    this.unlink(node);
    this.add(node, l.heads[type as 0 | 1 | 2]);
  }

  /** __bpf_lru_node_move: between or within the active, inactive and free lists; clears the reference. */
  private move(l: LruList, node: number, type: number): void {
    const from = this.type[node] as number;
    if (from !== type) {
      this.countDec(l, from);
      this.countInc(l, type);
      this.type[node] = type;
    }
    this.ref[node] = 0;
    if (node === l.nextInactiveRotation) l.nextInactiveRotation = this.prev[node] as number;
    this.unlink(node);
    this.add(node, l.heads[type as 0 | 1 | 2]);
  }

  // ---- rotation and shrinking (bpf_lru_list.c, in its order) ----

  /** From the tail: referenced nodes go back to the head of active, the others to inactive. */
  private rotateActive(l: LruList): void {
    const active = l.heads[ACTIVE];
    const first = this.next[active] as number;
    let i = 0;
    for (let node = this.prev[active] as number; node !== active; ) {
      const before = this.prev[node] as number;
      this.move(l, node, this.ref[node] ? ACTIVE : INACTIVE);
      if (++i === this.nrScans || node === first) break;
      node = before;
    }
  }

  /** From the rotation cursor towards the head: referenced inactive nodes move to active. */
  private rotateInactive(l: LruList): void {
    const inactive = l.heads[INACTIVE];
    if (this.isEmpty(inactive)) return;
    let last = this.next[l.nextInactiveRotation] as number;
    if (last === inactive) last = this.next[last] as number;
    let cur = l.nextInactiveRotation;
    let next = inactive;
    let i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) {
        cur = this.prev[cur] as number;
        continue;
      }
      next = this.prev[cur] as number;
      if (this.ref[cur]) this.move(l, cur, ACTIVE);
      if (cur === last) break;
      cur = next;
      i++;
    }
    l.nextInactiveRotation = next;
  }

  private shrinkInactive(l: LruList, target: number, freeHead: number, freeType: number): number {
    const inactive = l.heads[INACTIVE];
    let shrunk = 0;
    let i = 0;
    for (let node = this.prev[inactive] as number; node !== inactive; ) {
      const before = this.prev[node] as number;
      if (this.ref[node]) {
        this.move(l, node, ACTIVE);
      } else if (this.removeFromTable(node)) {
        this.moveToFree(l, node, freeHead, freeType);
        if (++shrunk === target) break;
      }
      if (++i === this.nrScans) break;
      node = before;
    }
    return shrunk;
  }

  private rotate(l: LruList): void {
    if (l.counts[INACTIVE] < l.counts[ACTIVE]) this.rotateActive(l);
    this.rotateInactive(l);
  }

  /** Shrinks the inactive list; failing that, takes one node from inactive (or active) ignoring references. */
  private shrink(l: LruList, target: number, freeHead: number, freeType: number): number {
    const shrunk = this.shrinkInactive(l, target, freeHead, freeType);
    if (shrunk) return shrunk;
    const forced = this.isEmpty(l.heads[INACTIVE]) ? l.heads[ACTIVE] : l.heads[INACTIVE];
    for (let node = this.prev[forced] as number; node !== forced; node = this.prev[node] as number) {
      if (this.removeFromTable(node)) {
        this.moveToFree(l, node, freeHead, freeType);
        return 1;
      }
    }
    return 0;
  }

  // ---- common LRU: per-CPU free and pending lists in front of the global lists ----

  private commonPopFree(cpu: number): number | undefined {
    const local = this.locals[cpu] as LocalList;
    let node = this.localPopFree(local);
    if (node === undefined) {
      this.refillLocal(local);
      node = this.localPopFree(local);
    }
    if (node !== undefined) {
      this.addPending(local, cpu, node);
      return node;
    }
    // nothing free anywhere: steal a free or pending node from the CPUs in turn, starting with next_steal
    const first = local.nextSteal;
    let steal = first;
    do {
      const victim = this.locals[steal] as LocalList;
      node = this.localPopFree(victim) ?? this.localPopPending(victim);
      steal = (steal + 1) % this.cpus;
    } while (node === undefined && steal !== first);
    local.nextSteal = steal;
    if (node === undefined) return undefined;
    this.addPending(local, cpu, node);
    return node;
  }

  /** bpf_lru_list_pop_free_to_local: flush the pending list, rotate, and move target_free nodes here. */
  private refillLocal(local: LocalList): void {
    const l = this.global[0] as LruList;
    for (let node = this.prev[local.pending] as number; node !== local.pending; ) {
      const before = this.prev[node] as number;
      this.moveIn(l, node, this.ref[node] ? ACTIVE : INACTIVE);
      node = before;
    }
    this.rotate(l);
    let got = 0;
    const free = l.heads[FREE];
    for (let node = this.next[free] as number; node !== free && got < this.targetFree; ) {
      const after = this.next[node] as number;
      this.moveToFree(l, node, local.free, LOCAL_FREE);
      got++;
      node = after;
    }
    if (got < this.targetFree) this.shrink(l, this.targetFree - got, local.free, LOCAL_FREE);
  }

  private localPopFree(local: LocalList): number | undefined {
    const node = this.next[local.free] as number;
    if (node === local.free) return undefined;
    this.unlink(node);
    return node;
  }

  /** The oldest pending node whose element can go (unreferenced first, then any). */
  private localPopPending(local: LocalList): number | undefined {
    for (const force of [false, true]) {
      for (let node = this.prev[local.pending] as number; node !== local.pending; node = this.prev[node] as number) {
        if ((!this.ref[node] || force) && this.removeFromTable(node)) {
          this.unlink(node);
          return node;
        }
      }
    }
    return undefined;
  }

  private addPending(local: LocalList, cpu: number, node: number): void {
    this.cpuOf[node] = cpu;
    this.type[node] = PENDING;
    this.ref[node] = 0;
    this.add(node, local.pending);
  }

  // ---- per-CPU LRU (BPF_F_NO_COMMON_LRU) ----

  private perCpuPopFree(cpu: number): number | undefined {
    const l = this.global[cpu] as LruList;
    this.rotate(l);
    const free = l.heads[FREE];
    if (this.isEmpty(free)) this.shrink(l, PERCPU_TARGET, free, FREE);
    if (this.isEmpty(free)) return undefined;
    const node = this.next[free] as number;
    this.ref[node] = 0;
    this.move(l, node, INACTIVE);
    return node;
  }
}
