// Classic BPF in the real kernel: pcap-filter expressions compiled by tsbpf, attached with SO_ATTACH_FILTER to
// AF_PACKET sockets on the loopback interface of a network namespace of our own, pass exactly the packets
// that tsbpf's cBPF machine, JIT and interpreter pass for the same program (judged on an unfiltered capture
// of the same traffic). The kernel is the oracle for the filter semantics.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileExpression } from "../src/cbpf/compiler/index.js";
import { compileFilter } from "../src/cbpf/filter.js";
import { runCbpf } from "../src/cbpf/vm.js";
import { attachClassicFilter } from "../src/kernel/link.js";
import { createVethPair } from "../src/kernel/netns.js";
import { linuxSys } from "../src/kernel/sys.js";
import { bpfMissing } from "./support/kernel.js";

const LO = 1; // the loopback interface's index in a fresh namespace

function drain(sys: ReturnType<typeof linuxSys>, fd: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = sys.recv(fd, 65536); p; p = sys.recv(fd, 65536)) out.push(p);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("classic BPF filters on kernel sockets", { skip: bpfMissing() }, () => {
  it("pass on a namespace's loopback exactly what our engines pass", () => {
    using net = createVethPair("10.213.9.1", "10.213.9.2");
    assert.ok(net.exec(["ip", "link", "set", "lo", "up"]), "lo up in the namespace");
    const sys = linuxSys();
    const fds: number[] = [];
    const filters: Array<{ close(): void }> = [];
    try {
      const restore = sys.enterNetns(net.namespace);
      let raw: number;
      let rx: { fd: number; port: number };
      let tx: { fd: number; port: number };
      const filtered: Array<{ expr: string; fd: number; program: ReturnType<typeof compileExpression>["program"] }> = [];
      try {
        raw = sys.packetSocket(LO);
        fds.push(raw);
        rx = sys.udpSocket(0);
        fds.push(rx.fd);
        tx = sys.udpSocket(0);
        fds.push(tx.fd);
        const exprs = [
          "udp",
          `udp dst port ${rx.port}`,
          `not udp port ${rx.port}`,
          "icmp",
          "greater 100",
          "len < 100",
          "udp[8] = 0x41",
          "ip host 127.0.0.1 and udp and ip[8] = 64",
          "ether src 00:00:00:00:00:00 and (icmp or udp[8:2] = 0x4242)",
          "ip[2:2] > 200 or icmp[icmptype] = icmp-unreach",
        ];
        for (const expr of exprs) {
          const { program } = compileExpression(expr);
          const fd = sys.packetSocket(LO);
          fds.push(fd);
          filters.push(attachClassicFilter(fd, program, sys));
          filtered.push({ expr, fd, program });
        }
      } finally {
        restore();
      }
      drain(sys, raw);
      for (const f of filtered) drain(sys, f.fd);
      // UDP to a listening port with payloads of several sizes and first bytes; UDP to a closed port, which
      // draws ICMP port-unreachable replies.
      for (const [size, first] of [
        [10, 0x41],
        [60, 0x42],
        [300, 0x41],
        [1200, 0x43],
        [2, 0x42],
      ] as const) {
        const payload = new Uint8Array(size).fill(first);
        sys.sendTo(tx.fd, rx.port, payload);
        sys.sendTo(tx.fd, rx.port === 65535 ? 1 : rx.port + 1, payload);
      }
      // loopback delivery is immediate; the pause only covers the softirq's timing
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      const all = drain(sys, raw);
      assert.ok(all.length >= 15, `captured ${all.length} packets`);
      for (const f of filtered) {
        const got = drain(sys, f.fd).map(hex);
        for (const engine of ["cbpf", "jit", "interp"] as const) {
          const run =
            engine === "cbpf"
              ? (p: Uint8Array) => runCbpf(f.program, p, p.length)
              : (
                  (flt) => (p: Uint8Array) =>
                    flt.run(p, p.length)
                )(compileFilter(f.program, { engine }));
          const want = all.filter((p) => run(p) !== 0).map(hex);
          assert.deepEqual(got, want, `${f.expr} (${engine}): kernel passed ${got.length}, ours ${want.length}`);
          if (engine === "cbpf") console.log(`# ${f.expr}: ${got.length}/${all.length} packets`);
        }
      }
    } finally {
      for (const f of filters) f.close();
      for (const fd of fds) sys.close(fd);
    }
  });
});
