# A value with a lock passed whole to a helper touches the lock.
# type: cgroup_skb
# kernel: reject at 21: bpf_spin_lock cannot be accessed directly by load/store
call 7
stxw [%r10-4], %r0
lddw %r1, map_idx(8)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +10
mov %r6, %r0
mov %r1, %r0
add %r1, 4
call 93
mov %r1, %r6
add %r1, 4
call 94
lddw %r1, map_idx(8)
mov %r2, %r10
add %r2, -4
mov %r3, %r6
mov %r4, 0
call 2
mov %r0, 1
exit
