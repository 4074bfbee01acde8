# 400 bytes of stack and a callee's 120: over 512 together (each rounded up to 16).
# type: socket_filter
# kernel: reject at null: combined stack size of 2 calls is 528. Too large
stdw [%r10-400], 0
call local f
mov %r0, 0
exit
f:
stdw [%r10-120], 0
mov %r0, 0
exit
