# In a subprogram a failing classic load returns 0 to its caller, which then goes on (Linux 6.18's rule).
# type: socket_filter
# btf: func_info
# kernel: reject at 2: R9 !read_ok
call local sub
jne %r0, 0, +1
mov %r0, %r9
mov %r0, 0
exit
sub:
mov %r6, %r1
ldabsw 0
mov %r0, 1
exit
