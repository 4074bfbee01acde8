// bpf_snprintf's format, which the verifier checks when the program loads (bpf_bprintf_prepare): each
// program formats one constant string with two u64 arguments, or one; judged by the live kernel too
// (test/verifier.test.ts).
#include "tsbpf.h"

static long (*bpf_snprintf)(char *str, __u32 str_size, const char *fmt, __u64 *data, __u32 data_len) = (void *)165;

#define FORMAT(name, text, nargs)                                                                                      \
  SEC("tc") int name(struct __sk_buff *skb) {                                                                          \
    static const char fmt[] = text;                                                                                    \
    char out[32] = {};                                                                                                 \
    __u64 args[2] = {skb->len, skb->mark};                                                                             \
    return bpf_snprintf(out, sizeof(out), fmt, args, (nargs) * 8) < 0;                                                  \
  }

FORMAT(fmt_ints, "%5u %-08llx", 2)
FORMAT(fmt_ints_long, "%lX%i", 2)
FORMAT(fmt_too_many, "%d %d %d", 2)
FORMAT(fmt_percent, "100%% %d", 1)
FORMAT(fmt_unknown, "%q", 2)
FORMAT(fmt_string, "%s: %c", 2)
FORMAT(fmt_string_glued, "%sx", 2)
FORMAT(fmt_pointers, "%p %pK", 2)
FORMAT(fmt_symbols, "%px %ps", 2)
FORMAT(fmt_symbols_offset, "%pS %pB", 2)
FORMAT(fmt_ip, "%pI4 %pi6", 2)
FORMAT(fmt_ip_bad, "%pI5", 2)
FORMAT(fmt_kernel_string, "%pks %pus", 2)
FORMAT(fmt_control, "a\tb\x01", 2)
FORMAT(fmt_float, "%f", 2)
FORMAT(fmt_no_args, "%d", 0)

char _license[] SEC("license") = "GPL";
