# A may_goto loop counting in R0, which the program returns: xdp's return value is not checked
# (check_return_code), so R0 is not precise and each round's state lies within the first one's.
# type: xdp
# kernel: accept
mov %r0, 0
l: may_goto +2
add %r0, 1
ja l
exit
