# The context's pointers are read whole and aligned.
# type: netfilter
# attach: netfilter
# kernel: reject at 0: invalid bpf_context access off=12 size=8
ldxdw %r2, [%r1+12]
mov %r0, 0
exit
