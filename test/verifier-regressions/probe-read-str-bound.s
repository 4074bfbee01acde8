# bpf_probe_read_str returns at most the size it was given (or an error): its result bounds a stack offset.
# type: kprobe
# kernel: accept
mov %r1, %r10
add %r1, -16
mov %r2, 16
mov %r3, 0
call 45
jslt %r0, 0, +4
mov %r1, %r10
add %r1, -32
add %r1, %r0
ldxb %r2, [%r1+0]
mov %r0, 0
exit
