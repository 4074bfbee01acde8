# With the copy made on both paths the bound reaches r6 wherever r7 is checked: safe.
# type: socket_filter
# flags: 8
# kernel: accept
stdw [%r10-8], 0
mov %r9, %r10
add %r9, -8
call 5
mov %r7, %r0
call 5
mov %r6, %r0
jgt %r6, %r7, l1
mov %r7, %r6
ja l3
l1:
mov %r7, %r6
l3:
jgt %r7, 7, l2
add %r9, %r6
ldxb %r0, [%r9+0]
l2:
mov %r0, 0
exit
