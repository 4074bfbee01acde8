# A callback's counter converges though a static function is called after it (that function cannot reach the stack).
# type: cgroup_skb
# btf: func_info
# kernel: accept
stdw [%r10-64], 0
mov %r3, %r10
add %r3, -64
lddw %r1, map_idx(5)
lddw %r2, func(cb)
mov %r4, 0
call 164
call local f
stdw [%r10-32], 0
mov %r1, %r10
add %r1, -32
and %r0, 31
add %r1, %r0
ldxb %r0, [%r1+0]
mov %r0, 1
exit
cb:
ldxdw %r7, [%r4+0]
add %r7, 1
stxdw [%r4+0], %r7
mov %r0, 1
exit
f:
call 7
and %r0, 7
exit
