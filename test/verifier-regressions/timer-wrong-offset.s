# The timer is at offset 0 of the value.
# type: sched_cls
# btf: func_info
# kernel: reject at 17: off 8 doesn't point to 'struct bpf_timer' that is at 0
stw [%r10-4], 0
lddw %r1, map_idx(9)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
lddw %r2, map_idx(9)
mov %r3, 1
call 169
mov %r1, %r6
add %r1, 8
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

