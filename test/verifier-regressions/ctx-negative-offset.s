# A context pointer moved below its start is refused as a negative offset, before it counts as modified.
# type: socket_filter
# kernel: reject at 2: negative offset ctx ptr R7 off=-8 disallowed
mov %r7, %r1
add %r7, -8
ldxw %r0, [%r7+0]
exit
