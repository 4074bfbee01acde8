# 0 - x underflows for every x >= 1: the unsigned range stays one piece, [1, 3887] after the bound, so the
# helper's size is never zero and the refusal is about the stack buffer being too small.
# type: socket_filter
# kernel: reject at 12: invalid write to stack R3 off=-16 size=3887
mov %r6, %r1
call 7
mov %r9, %r0
arsh %r9, 27
or %r9, 212
neg32 %r9
jge %r9, 4096, out
mov %r4, %r9
mov %r1, %r6
mov %r2, 12
mov %r3, %r10
add %r3, -16
call 26
out:
mov %r0, 0
exit
