# An endless loop runs out of the 1M-instruction budget; the log ends on the jump checked last.
# type: tracepoint
# kernel: reject at 3: BPF program is too large. Processed 1000001 insn
mov %r0, 5
jlt %r0, 4, out
again:
add %r0, 1
ja again
out:
exit
