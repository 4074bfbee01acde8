/**
 * QUEUE (FIFO) and STACK (LIFO): no keys; push with bpf_map_push_elem (BPF_EXIST makes a full map drop its
 * oldest element instead of refusing with E2BIG), pop and peek with ENOENT when empty. From user space,
 * `set` pushes, `get` peeks and `pop` removes — BPF_MAP_UPDATE_ELEM, LOOKUP_ELEM and LOOKUP_AND_DELETE_ELEM.
 */
import type { MapSpec } from "../object/maps.js";
import { BPF_ANY, BPF_EXIST, E2BIG, EINVAL, ENOENT, type MapEnv, stride, VmMap } from "./map.js";

export class QueueMap extends VmMap {
  private readonly items: Uint8Array[] = [];
  /** Where a peeked or popped value is copied for the program (programs get values by copy). */
  private readonly scratch: number;

  constructor(
    spec: MapSpec,
    env: MapEnv,
    readonly lifo: boolean,
  ) {
    super(spec, env);
    if (spec.keySize !== 0) this.fail("create", EINVAL, "queues and stacks have no keys (key size 0)");
    if (spec.valueSize === 0 || spec.maxEntries === 0) this.fail("create", EINVAL, "value size and max_entries must be > 0");
    this.scratch = env.memory.map(`map ${spec.name} scratch`, stride(spec.valueSize), false).start;
  }

  get(_key: Uint8Array): Uint8Array | undefined {
    return this.peek();
  }

  peek(): Uint8Array | undefined {
    const v = this.lifo ? this.items[this.items.length - 1] : this.items[0];
    return v?.slice();
  }

  pop(): Uint8Array | undefined {
    return this.lifo ? this.items.pop() : this.items.shift();
  }

  set(_key: Uint8Array, value: Uint8Array, flags = 0n): void {
    this.push(value, Number(flags));
  }

  push(value: Uint8Array, flags = BPF_ANY): void {
    if (flags !== BPF_ANY && flags !== BPF_EXIST) this.fail("push", EINVAL, `flags ${flags}`);
    this.checkValue(value, "push");
    if (this.items.length >= this.spec.maxEntries) {
      if (flags !== BPF_EXIST) this.fail("push", E2BIG, "the map is full");
      this.items.shift(); // the oldest goes, for queues and stacks alike
    }
    this.items.push(value.slice());
  }

  delete(_key: Uint8Array): void {
    this.fail("delete", EINVAL, "use pop");
  }

  nextKey(_key: Uint8Array | undefined): Uint8Array | undefined {
    return this.fail("get_next_key", EINVAL, "queues and stacks have no keys");
  }

  lookupFromProgram(_keyAddr: number): number {
    return 0; // the verifier refuses bpf_map_lookup_elem on queues and stacks
  }

  /** bpf_map_push_elem. */
  pushFromProgram(valueAddr: number, flags: number): number {
    return this.errnoOf(() => {
      this.push(this.readMemory(valueAddr, this.spec.valueSize), flags);
    });
  }

  /** bpf_map_pop_elem / bpf_map_peek_elem: copies the value to `valueAddr`. */
  takeFromProgram(valueAddr: number, remove: boolean): number {
    const v = remove ? this.pop() : this.peek();
    if (!v) return -ENOENT;
    this.env.memory.bytes.set(v, valueAddr);
    return 0;
  }

  get scratchAddress(): number {
    return this.scratch;
  }
}
