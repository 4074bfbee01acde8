# A stack pointer plus a 32-bit unknown is too far out to check (BPF_MAX_VAR_OFF): refused as unbounded.
# type: socket_filter
# kernel: reject at 5: invalid unbounded variable-offset read from stack R1
call 7
mov32 %r0, %r0
mov %r1, %r10
add %r1, -64
add %r1, %r0
ldxb %r0, [%r1+0]
exit
