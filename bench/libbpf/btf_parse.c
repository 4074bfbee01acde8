// The libbpf side of the BTF parse benchmark: btf__parse(PATH) (file read, header and type checks, type index)
// and btf__free, RUNS times; prints the best time in ms, as bench/run.ts reports ours.
// Built and run by bench/run.ts when libbpf-dev is installed: cc btf_parse.c -lbpf
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s BTF_FILE RUNS\n", argv[0]);
    return 2;
  }
  int runs = atoi(argv[2]);
  double best = 1e30;
  for (int i = 0; i < runs; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct btf *btf = btf__parse(argv[1], NULL);
    if (!btf) { perror("btf__parse"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    btf__free(btf);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (ms < best) best = ms;
  }
  printf("%.3f\n", best);
  return 0;
}
