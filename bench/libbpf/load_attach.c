// The libbpf side of the load+attach benchmark: opens an object from memory, loads it and attaches one
// program (bpf_program__attach picks the hook from the section name), RUNS times; prints the median in ms.
// Built and run by bench/run.ts when libbpf-dev is installed: cc load_attach.c -lbpf
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int silent(enum libbpf_print_level level, const char *fmt, va_list args) { return 0; }

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s OBJECT PROGRAM RUNS\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *bytes = malloc(size);
  if (fread(bytes, 1, size, f) != (size_t)size) { perror("read"); return 1; }
  fclose(f);
  libbpf_set_print(silent);
  int runs = atoi(argv[3]);
  double *ms = calloc(runs, sizeof(double));
  for (int i = 0; i < runs; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct bpf_object *obj = bpf_object__open_mem(bytes, size, NULL);
    if (!obj || bpf_object__load(obj)) { fprintf(stderr, "load failed\n"); return 1; }
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, argv[2]);
    struct bpf_link *link = prog ? bpf_program__attach(prog) : NULL;
    if (!link) { fprintf(stderr, "attach failed\n"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms[i] = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    bpf_link__destroy(link);
    bpf_object__close(obj);
  }
  qsort(ms, runs, sizeof(double), cmp);
  printf("%.3f\n", ms[runs / 2]);
  return 0;
}
