# A subprogram may not return a stack pointer, not even one into its caller's frame.
# type: socket_filter
# kernel: reject at 7: cannot return stack pointer to the caller
stdw [%r10-8], 7
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r0, [%r0+0]
exit
f:
mov %r0, %r1
exit
