# A map whose value has a lock but no timer.
# type: sched_cls
# btf: func_info
# kernel: reject at 13: map 'tsbpf_locked' has no valid bpf_timer
stw [%r10-4], 0
lddw %r1, map_idx(8)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
add %r1, 0
lddw %r2, map_idx(9)
mov %r3, 1
call 169
mov %r1, %r6
lddw %r2, func(cb)
call 170
mov %r1, %r6
mov %r2, 1000
mov %r3, 0
call 171
out:
mov %r0, 0
exit
cb:
ldxdw %r0, [%r3+16]
mov %r0, 0
exit

