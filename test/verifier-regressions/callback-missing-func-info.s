# Taking a callback's address needs BTF func_info.
# type: socket_filter
# kernel: reject at 2: missing btf func_info
stdw [%r10-8], 0
mov %r1, 10
lddw %r2, func(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r0, [%r10-8]
mov %r0, 0
exit
cb:
ldxdw %r3, [%r2+0]
add %r3, 1
stxdw [%r2+0], %r3
mov %r0, 0
exit
