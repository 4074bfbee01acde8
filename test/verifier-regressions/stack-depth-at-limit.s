# 304 and 208 bytes: 512, the most a call chain may use.
# type: socket_filter
# kernel: accept
stdw [%r10-304], 0
call local f
mov %r0, 0
exit
f:
stdw [%r10-200], 0
mov %r0, 0
exit
