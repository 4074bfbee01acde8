/**
 * The order a kernel hash table walks its keys in (htab_map_get_next_key, bpf_for_each_hash_elem):
 * bucket by bucket (roundup_pow_of_two(max_entries) buckets, chosen by jhash), newest element first
 * within a bucket, since the kernel adds new elements at a bucket's head.
 */
import { htabHash } from "./jhash.js";

export class BucketOrder {
  private readonly mask: number;
  /** bucket → its keys (one char per byte), newest first. */
  private readonly buckets = new Map<number, string[]>();
  /** The non-empty buckets in order; rebuilt after a bucket empties or fills. */
  private occupied: number[] | undefined;

  /** The key's bytes, for hashing. */
  private readonly scratch: Uint8Array;

  constructor(
    maxEntries: number,
    private readonly keySize: number,
  ) {
    this.scratch = new Uint8Array(keySize);
    let n = 1;
    while (n < maxEntries) n *= 2;
    this.mask = n - 1;
  }

  private bucketOf(k: string): number {
    const bytes = this.scratch;
    for (let i = 0; i < k.length; i++) bytes[i] = k.charCodeAt(i);
    return (htabHash(bytes, 0, this.keySize) & this.mask) >>> 0;
  }

  /** A key enters its bucket at the head (a new element, or one an update replaced). */
  addFirst(k: string): void {
    const b = this.bucketOf(k);
    const list = this.buckets.get(b);
    if (list) list.unshift(k);
    else {
      this.buckets.set(b, [k]);
      this.occupied = undefined;
    }
  }

  /** A replaced element: the kernel adds its successor at the bucket's head and unlinks it. */
  moveToFront(k: string): void {
    const list = this.buckets.get(this.bucketOf(k));
    const at = list ? list.indexOf(k) : -1;
    if (!list || at <= 0) return;
    list.splice(at, 1);
    list.unshift(k);
  }

  remove(k: string): void {
    const b = this.bucketOf(k);
    const list = this.buckets.get(b);
    const at = list ? list.indexOf(k) : -1;
    if (!list || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) {
      this.buckets.delete(b);
      this.occupied = undefined;
    }
  }

  /** The key after k; the first key when k is undefined or absent (the kernel restarts the walk). */
  next(k: string | undefined): string | undefined {
    let from = 0;
    if (k !== undefined) {
      const b = this.bucketOf(k);
      const list = this.buckets.get(b);
      const at = list ? list.indexOf(k) : -1;
      if (list && at >= 0) {
        if (at + 1 < list.length) return list[at + 1];
        from = b + 1;
      }
    }
    const occupied = this.sortedBuckets();
    let lo = 0;
    let hi = occupied.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((occupied[mid] as number) < from) lo = mid + 1;
      else hi = mid;
    }
    const b = occupied[lo];
    return b === undefined ? undefined : (this.buckets.get(b) as string[])[0];
  }

  *all(): Generator<string> {
    for (const b of [...this.sortedBuckets()]) yield* [...(this.buckets.get(b) ?? [])];
  }

  private sortedBuckets(): number[] {
    this.occupied ??= [...this.buckets.keys()].sort((a, b) => a - b);
    return this.occupied;
  }
}
