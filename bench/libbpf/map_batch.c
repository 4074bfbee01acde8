// The libbpf side of the batch dump benchmark: a hash map of ENTRIES elements (4-byte keys, 8-byte values)
// filled, then read whole with bpf_map_lookup_batch, CHUNK elements per call; prints the ns per element of
// the dump (best of 5), as bench/map-ops.ts reports ours.
// Built and run by bench/run.ts when libbpf-dev is installed: cc map_batch.c -lbpf
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s ENTRIES CHUNK\n", argv[0]);
    return 2;
  }
  uint32_t entries = atoi(argv[1]), chunk = atoi(argv[2]);
  int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "tsbpf_bench_mb", 4, 8, entries, NULL);
  if (fd < 0) { perror("bpf_map_create"); return 1; }
  for (uint32_t k = 0; k < entries; k++) {
    uint64_t v = k;
    if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) { perror("update"); return 1; }
  }
  uint32_t *keys = malloc(4 * chunk);
  uint64_t *values = malloc(8 * chunk);
  double best = 1e30;
  for (int round = 0; round < 5; round++) {
    uint32_t in = 0, out = 0, total = 0;
    void *in_batch = NULL;
    double t0 = now_ns();
    for (;;) {
      uint32_t count = chunk;
      int err = bpf_map_lookup_batch(fd, in_batch, &out, keys, values, &count, NULL);
      total += count;
      if (err && errno == ENOENT) break;
      if (err) { perror("lookup_batch"); return 1; }
      in = out;
      in_batch = &in;
    }
    double ns = (now_ns() - t0) / total;
    if (total != entries) { fprintf(stderr, "dumped %u of %u\n", total, entries); return 1; }
    if (ns < best) best = ns;
  }
  close(fd);
  printf("%.1f\n", best);
  return 0;
}
