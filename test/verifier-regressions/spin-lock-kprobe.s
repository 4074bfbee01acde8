# Tracing programs may not use maps with locks.
# type: kprobe
# kernel: reject at null: tracing progs cannot use bpf_spin_lock yet
stw [%r10-4], 0
lddw %r1, map_idx(8)
mov %r2, %r10
add %r2, -4
call 1
jne %r0, 0, +1
exit
mov %r6, %r0
mov %r1, %r0
add %r1, 4
call 93
mov %r1, %r6
add %r1, 4
call 94
mov %r0, 0
exit
