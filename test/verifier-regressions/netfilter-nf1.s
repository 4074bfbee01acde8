# The context's first field loads as a trusted pointer to the hook state, which no return code is.
# type: netfilter
# attach: netfilter
# kernel: reject at 1: At program exit the register R0 is not a known value (trusted_ptr_)
ldxdw %r0, [%r1+0]
exit
