# A kprobe may look a socket up in a sockmap but not update one (may_update_sockmap).
# type: kprobe
# kernel: reject at 14: cannot pass map_type 15 into func bpf_map_update_elem#2
stw [%r10-4], 0
lddw %r1, map_idx(10)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r6, %r0
lddw %r1, map_idx(10)
mov %r2, %r10
add %r2, -4
mov %r3, %r6
mov %r4, 0
call 2
mov %r1, %r6
call 86
out:
mov %r0, 0
exit
