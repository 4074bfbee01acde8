# The key a for_each callback gets is key_size bytes, read-only.
# type: xdp
# btf: func_info
# kernel: reject at 12: R2 min value is outside of the allowed memory range
stdw [%r10-8], 0
lddw %r1, map_idx(1)
lddw %r2, func(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 164
mov %r0, 2
exit
cb:
ldxw %r7, [%r2+0]
ldxw %r7, [%r2+4]
mov %r0, 0
exit
