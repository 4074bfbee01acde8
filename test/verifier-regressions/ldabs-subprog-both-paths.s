# Both the load's result and the early return reach a caller that reads only what it wrote.
# type: socket_filter
# btf: func_info
# kernel: accept
mov %r7, 3
call local sub
add %r0, %r7
exit
sub:
mov %r6, %r1
ldabsh 12
exit
