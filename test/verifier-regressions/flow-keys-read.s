# A flow dissector reads its flow keys through the context: inside struct bpf_flow_keys (56 bytes) only.
# type: flow_dissector
# kernel: reject at 3: invalid access to flow keys off=56 size=4
ldxdw %r2, [%r1+144]
ldxh %r3, [%r2+0]
stw [%r2+52], 0
ldxw %r3, [%r2+56]
mov %r0, 0
exit
