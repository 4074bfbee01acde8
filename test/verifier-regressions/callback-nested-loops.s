# bpf_loop inside a bpf_loop callback, each counting in its own caller's stack.
# type: socket_filter
# btf: func_info
# kernel: accept
stdw [%r10-8], 0
mov %r1, 5
lddw %r2, func(outer)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r1, [%r10-8]
mov %r0, 0
exit
outer:
mov %r6, %r2
stdw [%r10-8], 0
mov %r1, 3
lddw %r2, func(inner)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r3, [%r6+0]
add %r3, 1
stxdw [%r6+0], %r3
mov %r0, 0
exit
inner:
ldxdw %r3, [%r2+0]
add %r3, 1
stxdw [%r2+0], %r3
mov %r0, 1
exit
