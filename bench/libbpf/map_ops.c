// The libbpf side of the map operations benchmark: a hash map (4-byte keys, 8-byte values, 1024 entries) updated
// and looked up from C through bpf_map_update_elem / bpf_map_lookup_elem, RUNS operations each, keys cycling over
// the first 256; prints "UPDATE_NS LOOKUP_NS" per operation (best of 5 rounds).
// Built and run by bench/run.ts when libbpf-dev is installed: cc map_ops.c -lbpf
#include <bpf/bpf.h>
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
  if (argc != 2) {
    fprintf(stderr, "usage: %s RUNS\n", argv[0]);
    return 2;
  }
  int runs = atoi(argv[1]);
  int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "tsbpf_bench_mo", 4, 8, 1024, NULL);
  if (fd < 0) { perror("bpf_map_create"); return 1; }
  uint64_t value = 0;
  double update = 1e30, lookup = 1e30;
  for (int round = 0; round < 5; round++) {
    double t0 = now_ns();
    for (int i = 0; i < runs; i++) {
      uint32_t key = i & 255;
      value = i;
      if (bpf_map_update_elem(fd, &key, &value, BPF_ANY)) { perror("update"); return 1; }
    }
    double t1 = now_ns();
    for (int i = 0; i < runs; i++) {
      uint32_t key = i & 255;
      if (bpf_map_lookup_elem(fd, &key, &value)) { perror("lookup"); return 1; }
    }
    double t2 = now_ns();
    if ((t1 - t0) / runs < update) update = (t1 - t0) / runs;
    if ((t2 - t1) / runs < lookup) lookup = (t2 - t1) / runs;
  }
  close(fd);
  printf("%.0f %.0f\n", update, lookup);
  return 0;
}
