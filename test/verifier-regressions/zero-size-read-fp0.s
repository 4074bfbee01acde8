# A zero-sized read a helper makes still needs a pointer into the stack (fp0 is past its end).
# type: raw_tracepoint
# kernel: reject at 10: invalid read from stack R4 off=0 size=0
mov %r6, %r1
stdw [%r10-8], 8
mov %r1, %r6
mov %r1, %r6
lddw %r2, map_idx(7)
lddw %r3, 0xffffffff
mov %r4, %r10
mov %r5, 0
call 25
mov %r0, 1
exit

