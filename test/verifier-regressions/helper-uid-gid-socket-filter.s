# Socket filters may ask for the current uid and gid on this kernel (a root loader).
# type: socket_filter
# kernel: accept
call 15
mov %r0, 0
exit
