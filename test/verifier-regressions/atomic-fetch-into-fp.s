# A fetching atomic writes its source register back: r10 may not be that register.
# type: socket_filter
# kernel: reject at 1: frame pointer is read only
stdw [%r10-8], 0
lock fetch add [%r10-8], %r10
mov %r0, 0
exit
