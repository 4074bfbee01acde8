// A user-space program with a USDT probe (built by the test; needs <sys/sdt.h> from systemtap-sdt-dev):
// tsbpf:add fires with (40, argc) every 10 ms; it has a semaphore, so the probe site is only live while traced.
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <unistd.h>

unsigned short tsbpf_add_semaphore __attribute__((unused)) __attribute__((section(".probes")));

int main(int argc, char **argv) {
  (void)argv;
  volatile long x = 40;
  for (;;) {
    if (tsbpf_add_semaphore) DTRACE_PROBE2(tsbpf, add, x, argc);
    usleep(10000);
  }
}
