# Two lookups compared equal: the one checked against NULL proves the other is not NULL either.
# type: xdp
# kernel: accept
stw [%r10-8], 0
mov %r9, %r10
add %r9, -8
lddw %r1, map_idx(0)
mov %r2, %r9
call 1
mov %r6, %r0
lddw %r1, map_idx(0)
mov %r2, %r9
call 1
mov %r7, %r0
jeq %r6, 0, out
jne %r6, %r7, out
ldxw %r0, [%r7+0]
out:
mov %r0, 2
exit
