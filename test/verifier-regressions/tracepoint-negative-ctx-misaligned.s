# A negative offset not aligned to the size is still refused.
# type: tracepoint
# kernel: reject at 0: invalid bpf_context access off=-4 size=8
ldxdw %r2, [%r1-4]
mov %r0, 0
exit
