// A user-space program for the uprobe test (built by the test with the system C compiler): it calls
// tsbpf_add(40, argc) every 10 ms until it is killed.
#include <unistd.h>

__attribute__((noinline)) int tsbpf_add(int a, int b) {
  asm volatile("" ::: "memory");
  return a + b;
}

int main(int argc, char **argv) {
  (void)argv;
  volatile int sink = 0;
  for (;;) {
    sink += tsbpf_add(40, argc);
    usleep(10000);
  }
}
