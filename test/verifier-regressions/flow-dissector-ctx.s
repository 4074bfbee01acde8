# A flow dissector sees only the packet and its flow keys in its __sk_buff: the length is not there.
# type: flow_dissector
# kernel: reject at 1: invalid bpf_context access off=0 size=4
ldxw %r2, [%r1+76]
ldxw %r3, [%r1+0]
mov %r0, 0
exit
