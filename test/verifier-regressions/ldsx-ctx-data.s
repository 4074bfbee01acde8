# A sign-extending load cannot read a packet pointer out of the context.
# type: xdp
# kernel: reject at 0: invalid bpf_context access off=0 size=4
ldxsw %r2, [%r1+0]
mov %r0, 2
exit
