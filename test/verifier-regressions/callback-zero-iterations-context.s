# the context's i starts at 64: with no iteration it indexes past the value (the callback sets it to 0)
# type: socket_filter
# btf: func_info
# kernel: reject at 19: R2 min value is outside of the allowed memory range
stw [%r10-20], 0
lddw %r1, map_idx(1)
mov %r2, %r10
add %r2, -20
call 1
mov %r6, %r0
stdw [%r10-16], 64
stdw [%r10-8], 1
mov %r1, 100
lddw %r2, func(cb)
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 181
ldxdw %r1, [%r10-16]
mov %r2, %r6
add %r2, %r1
ldxb %r0, [%r2+0]
mov %r0, 0
exit
cb:
stdw [%r2+0], 0
mov %r0, 0
exit
