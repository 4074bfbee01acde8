// Bundles the compiled CLI (dist/src/cli/main.js, tsc's output) into one CommonJS file, dist/bundle/cli/tsbpf.cjs,
// then runs a few commands from it (a pcap filter compiled, JIT-compiled and run over a small capture; an
// assembled program run) and writes V8's code cache of the functions they compiled beside it, for bin/load-cli.cjs.
// Run by `npm run build`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import cli from "../bin/load-cli.cjs";

const { BUNDLE, CODE_CACHE } = cli;

rmSync(join(BUNDLE, ".."), { recursive: true, force: true });
await build({
  entryPoints: [fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url))],
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // koffi is a native module, required only by the kernel commands.
  external: ["koffi"],
  // CommonJS has no import.meta: the bundle's own URL stands in (module-relative paths resolve from it).
  define: { "import.meta.url": "__tsbpfBundleUrl" },
  banner: { js: 'const __tsbpfBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  outfile: BUNDLE,
  logLevel: "warning",
});

/** A little-endian Ethernet capture: TCP to port 80 over IPv4, UDP to port 53 over IPv4, TCP over IPv6. */
function smallCapture() {
  const ether = (type) => [...[2, 0, 0, 0, 0, 2], ...[2, 0, 0, 0, 0, 1], type >> 8, type & 0xff];
  const ports = (src, dst) => [src >> 8, src & 0xff, dst >> 8, dst & 0xff];
  const ipv4 = (proto, payload) => [0x45, 0, 0, 20 + payload.length, 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...payload];
  const ipv6 = (next, payload) => [0x60, 0, 0, 0, 0, payload.length, next, 64, ...new Array(15).fill(0), 1, ...new Array(15).fill(0), 2, ...payload];
  const tcp = (src, dst) => [...ports(src, dst), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];
  const packets = [
    [...ether(0x0800), ...ipv4(6, tcp(43210, 80))],
    [...ether(0x0800), ...ipv4(17, [...ports(5353, 53), 0, 8, 0, 0])],
    [...ether(0x86dd), ...ipv6(6, tcp(443, 50000))],
  ];
  const u32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const header = [...u32(0xa1b2c3d4), 2, 0, 4, 0, ...u32(0), ...u32(0), ...u32(262144), ...u32(1)];
  return Uint8Array.from([...header, ...packets.flatMap((p, i) => [...u32(i), ...u32(0), ...u32(p.length), ...u32(p.length), ...p])]);
}

const { main, script } = cli.loadCli();
const dir = mkdtempSync(join(tmpdir(), "tsbpf-bundle-"));
try {
  const capture = join(dir, "small.pcap");
  writeFileSync(capture, smallCapture());
  writeFileSync(join(dir, "prog.s"), "mov %r0, 1\nadd %r0, 2\nexit\n");
  const silent = { stdout: () => {}, stderr: (t) => process.stderr.write(t), stdin: () => new Uint8Array(0) };
  for (const argv of [
    ["filter", "-r", capture, "--count", "tcp port 80"],
    ["filter", "-r", capture, "--count", "(udp port 53 or icmp or icmp6) and greater 100"],
    ["filter", "-r", capture, "-w", join(dir, "out.pcap"), "ip6 protochain 17 or vlan 100 and tcp dst port 443"],
    ["filter", "-d", "net 10.0.0.0/8 and not port 22 or tcp[tcpflags] & (tcp-syn|tcp-fin) != 0"],
    ["run", join(dir, "prog.s")],
  ]) {
    const status = await main(argv, silent);
    if (status !== 0) throw new Error(`tsbpf ${argv.join(" ")} exited with ${status} while warming the bundle`);
  }
  writeFileSync(CODE_CACHE, script.createCachedData());
} finally {
  rmSync(dir, { recursive: true, force: true });
}
