// Flow dissector test runs: testdata/flow_dissector.c on the machine gives the bpf_flow_keys the packet's
// own headers say (addresses, ports, protocol, header offsets, fragments), and, where bpf() is permitted,
// exactly the kernel's BPF_PROG_TEST_RUN result: return value, keys (data_out), and what
// bpf_skb_load_bytes gave the program (the kernel has no skb in a flow dissector's test run: -EFAULT).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadKernelCollection } from "../src/kernel/collection.js";
import type { KernelMap } from "../src/kernel/map.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { loadVmCollection } from "../src/vm/collection.js";
import { bpfMissing } from "./support/kernel.js";
import { arpPacket, ipv6UdpPacket, tcpPacket, udpPacket } from "./support/packets.js";
import { REPO } from "./support/paths.js";

const spec = () => loadCollectionSpec(readFileSync(join(REPO, "testdata", "flow_dissector.o")));

/** An IPv4 packet with its fragment field set (offset in 8-byte units, more-fragments flag). */
function fragment(offset: number, more: boolean): Uint8Array {
  const p = udpPacket();
  new DataView(p.buffer).setUint16(14 + 6, (more ? 0x2000 : 0) | offset);
  return p;
}

const PACKETS: Array<[string, Uint8Array]> = [
  ["TCP", tcpPacket()],
  ["UDP", udpPacket()],
  ["ARP", arpPacket()],
  ["IPv6 UDP", ipv6UdpPacket()],
  ["first fragment", fragment(0, true)],
  ["later fragment", fragment(3, false)],
  ["truncated IPv4", udpPacket().subarray(0, 14 + 12)],
];

interface Keys {
  nhoff: number;
  thoff: number;
  addrProto: number;
  isFrag: number;
  isFirstFrag: number;
  ipProto: number;
  nProto: number;
  sport: number;
  dport: number;
  src: string;
  dst: string;
  flags: number;
}

function decode(k: Uint8Array): Keys {
  const v = new DataView(k.buffer, k.byteOffset, k.length);
  const hex = (a: number, b: number) => Buffer.from(k.subarray(a, b)).toString("hex");
  return {
    nhoff: v.getUint16(0, true),
    thoff: v.getUint16(2, true),
    addrProto: v.getUint16(4, true),
    isFrag: k[6] as number,
    isFirstFrag: k[7] as number,
    ipProto: k[9] as number,
    nProto: v.getUint16(10, false),
    sport: v.getUint16(12, false),
    dport: v.getUint16(14, false),
    src: v.getUint16(4, true) === 0x86dd ? hex(16, 32) : hex(16, 20),
    dst: v.getUint16(4, true) === 0x86dd ? hex(32, 48) : hex(20, 24),
    flags: v.getUint32(48, true),
  };
}

/** What the packet's own headers say the keys are (what flow_dissector.c extracts). */
function expected(p: Uint8Array): { retval: number; keys: Partial<Keys> } {
  const v = new DataView(p.buffer, p.byteOffset, p.length);
  const type = v.getUint16(12, false);
  const hex = (a: number, b: number) => Buffer.from(p.subarray(a, b)).toString("hex");
  if (type === 0x0800) {
    if (p.length < 34) return { retval: 2, keys: { nhoff: 14, thoff: 14 } };
    const thoff = 14 + ((p[14] as number) & 0xf) * 4;
    const frag = v.getUint16(20, false);
    const later = (frag & 0x1fff) !== 0;
    return {
      retval: 0,
      keys: {
        nhoff: 14,
        thoff,
        addrProto: 0x0800,
        isFrag: frag & 0x3fff ? 1 : 0,
        isFirstFrag: frag & 0x3fff && !later ? 1 : 0,
        ipProto: p[23] as number,
        src: hex(26, 30),
        dst: hex(30, 34),
        sport: later ? 0 : v.getUint16(thoff, false),
        dport: later ? 0 : v.getUint16(thoff + 2, false),
      },
    };
  }
  if (type === 0x86dd)
    return {
      retval: 0,
      keys: {
        nhoff: 14,
        thoff: 54,
        addrProto: 0x86dd,
        ipProto: p[20] as number,
        src: hex(22, 38),
        dst: hex(38, 54),
        sport: v.getUint16(54, false),
        dport: v.getUint16(56, false),
      },
    };
  return { retval: 2, keys: { nhoff: 14, thoff: 14, addrProto: 0 } };
}

describe("flow dissector test runs", () => {
  for (const [what, packet] of PACKETS) {
    it(`${what}: the keys the headers give`, () => {
      const r = loadVmCollection(spec()).programs.get("dissect")?.testRun({ data: packet });
      assert.ok(r);
      const want = expected(packet);
      assert.equal(r.retval, want.retval);
      const keys = decode(r.dataOut);
      assert.equal(keys.nProto, new DataView(packet.buffer, packet.byteOffset).getUint16(12, false), "n_proto is the EtherType");
      for (const [field, value] of Object.entries(want.keys)) assert.equal(keys[field as keyof Keys], value, field);
    });
  }

  it("takes flags from ctx_in and refuses the other fields, and packets without an Ethernet header", () => {
    const program = loadVmCollection(spec()).programs.get("dissect");
    const ctx = new Uint8Array(56);
    ctx[48] = 1; // BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG
    const r = program?.testRun({ data: tcpPacket(), ctx });
    assert.equal(decode(r?.dataOut ?? new Uint8Array(56)).flags, 1);
    assert.deepEqual(r?.ctxOut, ctx, "ctx_out is ctx_in, as the kernel returns it");
    ctx[0] = 1;
    assert.throws(() => program?.testRun({ data: tcpPacket(), ctx }), /bpf_flow_keys byte 0/);
    assert.throws(() => program?.testRun({ data: new Uint8Array(10) }), /Ethernet header/);
  });

  it("gives the kernel's results", { skip: bpfMissing() }, () => {
    const vm = loadVmCollection(spec());
    using kernel = loadKernelCollection(spec());
    const flags = new Uint8Array(56);
    flags[48] = 1;
    for (const [what, packet] of PACKETS) {
      for (const ctx of [undefined, flags]) {
        const a = vm.programs.get("dissect")?.testRun({ data: packet, ...(ctx ? { ctx } : {}) });
        const b = kernel.programs.get("dissect")?.testRun({ data: packet, ...(ctx ? { ctx } : {}) });
        assert.ok(a && b);
        assert.equal(a.retval, b.retval, what);
        assert.deepEqual(decode(a.dataOut), decode(b.dataOut), what);
        assert.deepEqual(a.dataOut, b.dataOut, what);
      }
    }
    const result = (m: { typed(): { get(k: number): unknown } } | undefined) => m?.typed().get(0);
    assert.deepEqual(result(vm.maps.get(".bss")), result(kernel.maps.get(".bss") as KernelMap));
    assert.deepEqual(result(vm.maps.get(".bss")), { load_bytes_result: -14n });
  });
});
