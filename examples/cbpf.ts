// Classic BPF: the pcap-filter expression `ip` compiled exactly as libpcap does, listed as tcpdump -d lists
// it, run over a capture file on the JIT (through its eBPF translation). Run with
// `npm run build && node dist/examples/cbpf.js`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileExpression, compileFilter, createPcapWriter, formatD, openCapture } from "../src/cbpf/index.js";

const ip = compileExpression("ip").program; // tcpdump -dd ip
process.stdout.write(formatD(ip)); // (000) ldh      [12] ...

// a capture with an IPv4, an ARP and an IPv6 frame
const dir = mkdtempSync(join(tmpdir(), "tsbpf-example-"));
const file = join(dir, "three.pcap");
const writer = createPcapWriter(file, 1 /* LINKTYPE_ETHERNET */);
for (const etherType of [0x0800, 0x0806, 0x86dd]) {
  const frame = new Uint8Array(60);
  frame[12] = etherType >> 8;
  frame[13] = etherType & 0xff;
  writer.write({ seconds: 0, nanos: 0, data: frame, wireLength: frame.length });
}
writer.close();

const filter = compileFilter(ip); // eBPF on the JIT
const capture = openCapture(file);
let matched = 0;
let total = 0;
for (const packet of capture.packets()) {
  total++;
  if (filter.run(packet.data, packet.wireLength) !== 0) matched++;
}
capture.close();
rmSync(dir, { recursive: true, force: true });
console.log(`ip: ${matched} of ${total} packets`); // ip: 1 of 3 packets
