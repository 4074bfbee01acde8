# Narrow reads of the context's pointers are refused.
# type: netfilter
# attach: netfilter
# kernel: reject at 0: invalid bpf_context access off=8 size=4
ldxw %r2, [%r1+8]
mov %r0, 0
exit
