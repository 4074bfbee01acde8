# r7 and r8 are copies, and "r8 >= r0" ties r0 to them: once r7 must be precise, so must r0 where the two
# paths meet (backtracking through a register comparison marks both operands).
# type: socket_filter
# flags: 8
# kernel: reject at 8: div by zero
call 7
mov %r7, %r0
mov %r8, %r0
call 7
jgt %r0, 1, +0
jge %r8, %r0, l1
add %r8, %r8
jeq %r7, 0, l1
div %r0, 0
l1:
mov %r0, 42
exit
