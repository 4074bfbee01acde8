# r6 and r7 are copies on one path only: the bound "r7 <= 4" puts on r6 holds there alone, so the state
# where they are copies may not stand for the other (the kernel compares the scalars' ids).
# type: socket_filter
# flags: 8
# kernel: reject at 10: math between fp pointer and register with unbounded min value is not allowed
stdw [%r10-8], 0
mov %r9, %r10
add %r9, -8
call 5
mov %r7, %r0
call 5
mov %r6, %r0
jgt %r6, %r7, l1
mov %r7, %r6
l1:
jgt %r7, 4, l2
add %r9, %r6
ldxb %r0, [%r9+0]
l2:
mov %r0, 0
exit
