# A sign-extending load of a spilled constant is the constant sign-extended: -1, not 0xffffffff.
# type: socket_filter
# kernel: accept
stdw [%r10-8], -1
ldxsw %r8, [%r10-8]
jne %r8, -1, bad
mov %r0, 0
exit
bad:
ldxdw %r0, [%r8+0]
exit
