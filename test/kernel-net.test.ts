// Network hooks for real, in a namespace of our own joined by a veth pair: seed (d) XDP deny list (ping
// works, then fails once the source prefix is denied).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startXdpDeny } from "../examples/xdp-deny.js";
import { assemble } from "../src/isa/index.js";
import { ATTACH_TYPE_IDS } from "../src/kernel/attach-types.js";
import { attachCgroup, createTestCgroup, type TestCgroup } from "../src/kernel/cgroup.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { listLinks } from "../src/kernel/inventory.js";
import { attachSocketFilter, attachTcx } from "../src/kernel/link.js";
import type { KernelMap } from "../src/kernel/map.js";
import { createVethPair } from "../src/kernel/netns.js";
import { KernelProgram } from "../src/kernel/program.js";
import { attachTcFilter, tcFilters, xdpState } from "../src/kernel/rtnetlink.js";
import { linuxSys } from "../src/kernel/sys.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { outputOf } from "./support/cli.js";
import { bpfMissing } from "./support/kernel.js";
import { BIN, REPO } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

const ping = ensureTool("ping", "iputils-ping", ["-V"]);

describe("network programs in a test namespace", { skip: bpfMissing() ?? (ping ? undefined : "ping not installed (iputils-ping)") }, () => {
  it("seed (d): XDP drops sources in the LPM deny list", () => {
    using net = createVethPair("10.213.7.1", "10.213.7.2");
    const pingHost = (): boolean => net.exec(["ping", "-c", "1", "-W", "1", net.hostAddress]);
    const linksBefore = listLinks().length;
    {
      using xdp = startXdpDeny(net.hostIfindex);
      assert.equal(listLinks().length, linksBefore + 1);
      assert.ok(pingHost(), "ping passes before anything is denied");
      xdp.deny("10.213.7.0/24");
      assert.ok(!pingHost(), "ping fails once 10.213.7.0/24 is denied");
      assert.ok(xdp.dropped("10.213.7.0/24") > 0n);
    }
    assert.equal(listLinks().length, linksBefore, "closing detaches the XDP link");
    assert.ok(pingHost(), "ping passes again after detaching");
  });

  for (const mode of ["generic", "driver"] as const) {
    it(`XDP through rtnetlink in ${mode} mode, as iproute2 sees it`, () => {
      using net = createVethPair("10.213.10.1", "10.213.10.2");
      const pingHost = (): boolean => net.exec(["ping", "-c", "1", "-W", "1", net.hostAddress]);
      const ipLink = (): string => execFileSync("ip", ["-d", "link", "show", net.host]).toString();
      {
        using xdp = startXdpDeny(net.hostIfindex, mode);
        const state = xdpState(net.hostIfindex);
        assert.equal(state.mode, mode);
        // iproute2 names the modes "xdpgeneric" and "xdp", and prints the program id
        assert.match(ipLink(), mode === "generic" ? /\bxdpgeneric\b/ : /\bxdp\b(?!generic)/);
        assert.match(ipLink(), new RegExp(`prog/xdp id ${state.programId} name xdp_deny`));
        assert.ok(pingHost(), "ping passes before anything is denied");
        xdp.deny("10.213.10.0/24");
        assert.ok(!pingHost(), "ping fails once the prefix is denied");
        assert.throws(() => startXdpDeny(net.hostIfindex, mode), /EBUSY \(XDP program already attached\)/, "no silent replace");
      }
      assert.equal(xdpState(net.hostIfindex).mode, "none");
      assert.doesNotMatch(ipLink(), /prog\/xdp/);
      assert.ok(pingHost(), "ping passes again after detaching");
    });
  }
});

describe("socket filter", { skip: bpfMissing() }, () => {
  it("seed (e): keeps only the datagrams the filter accepts on a loopback UDP socket", async () => {
    const sys = linuxSys();
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "udp_filter.o")));
    using collection = loadKernelCollection(spec);
    const { fd, port } = sys.udpSocket(0);
    const send = async (m: string): Promise<void> => {
      const sender = createSocket("udp4");
      await new Promise((resolve) => sender.send(m, port, "127.0.0.1", resolve));
      sender.close();
    };
    const drain = async (): Promise<string[]> => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const got: string[] = [];
      for (let d = sys.recv(fd, 64); d; d = sys.recv(fd, 64)) got.push(new TextDecoder().decode(d));
      return got;
    };
    try {
      {
        using _filter = attachSocketFilter(collection.programs.get("keep_a") as never, fd);
        for (const m of ["A-one", "B-two", "A-three", "C-four"]) await send(m);
        assert.deepEqual(await drain(), ["A-one", "A-three"]);
      }
      await send("B-five"); // detached: everything arrives again
      assert.deepEqual(await drain(), ["B-five"]);
    } finally {
      sys.close(fd);
    }
  });
});

describe("tcx", { skip: bpfMissing() ?? (ping ? undefined : "ping not installed (iputils-ping)") }, () => {
  it("counts ingress packets on a veth and lets them pass", () => {
    using net = createVethPair("10.213.8.1", "10.213.8.2");
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "tc_count.o")));
    using objs = loadKernelCollection(spec);
    const packets = objs.maps.get("packets") as KernelMap;
    const count = (): bigint => new DataView((packets.get(new Uint8Array(4)) as Uint8Array).buffer).getBigUint64(0, true);
    {
      using _link = attachTcx(objs.programs.get("count_ingress") as KernelProgram, net.hostIfindex, "ingress");
      assert.ok(net.exec(["ping", "-c", "2", "-W", "1", net.hostAddress]), "packets pass the tcx program");
      assert.ok(count() >= 2n, `counted ${count()}`);
    }
    const after = count();
    assert.ok(net.exec(["ping", "-c", "1", "-W", "1", net.hostAddress]));
    assert.equal(count(), after, "detached: nothing more is counted");
  });
});

describe("tc clsact filters through rtnetlink", { skip: bpfMissing() ?? (ping ? undefined : "ping not installed (iputils-ping)") }, () => {
  const tc = (...args: string[]): string => execFileSync("tc", args).toString();

  it("adds clsact and a direct-action bpf filter, counts, and removes both", () => {
    using net = createVethPair("10.213.11.1", "10.213.11.2");
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "tc_count.o"))));
    const packets = objs.maps.get("packets") as KernelMap;
    const count = (): bigint => new DataView((packets.get(new Uint8Array(4)) as Uint8Array).buffer).getBigUint64(0, true);
    const program = objs.programs.get("count_ingress") as KernelProgram;
    {
      using _filter = attachTcFilter(program, net.hostIfindex, "ingress", { priority: 3, handle: 7 });
      assert.match(tc("qdisc", "show", "dev", net.host), /qdisc clsact ffff:/);
      const shown = tc("filter", "show", "dev", net.host, "ingress");
      assert.match(shown, /pref 3 bpf chain 0 handle 0x7 count_ingress direct-action/);
      const [listed] = tcFilters(net.hostIfindex);
      assert.ok(listed && shown.includes(`id ${listed.programId} name count_ingress`), shown);
      assert.throws(
        () => attachTcFilter(program, net.hostIfindex, "ingress", { priority: 3, handle: 7 }),
        /EEXIST \(Filter already exists\)/,
      );
      assert.ok(net.exec(["ping", "-c", "2", "-W", "1", net.hostAddress]), "packets pass the filter");
      assert.ok(count() >= 2n, `counted ${count()}`);
    }
    assert.equal(tc("filter", "show", "dev", net.host, "ingress"), "");
    assert.doesNotMatch(tc("qdisc", "show", "dev", net.host), /clsact/, "the qdisc we added is gone");
    const after = count();
    assert.ok(net.exec(["ping", "-c", "1", "-W", "1", net.hostAddress]));
    assert.equal(count(), after, "detached: nothing more is counted");
  });

  it("keeps a clsact qdisc it did not add", () => {
    using net = createVethPair("10.213.12.1", "10.213.12.2");
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "tc_count.o"))));
    tc("qdisc", "add", "dev", net.host, "clsact");
    attachTcFilter(objs.programs.get("count_ingress") as KernelProgram, net.hostIfindex, "egress").close();
    assert.equal(tcFilters(net.hostIfindex).length, 0);
    assert.match(tc("qdisc", "show", "dev", net.host), /qdisc clsact ffff:/);
  });
});

describe("cgroup programs", { skip: bpfMissing() }, () => {
  it("counts the packets a process in the cgroup sends (cgroup_skb/egress)", async () => {
    using cgroup = createTestCgroup();
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "cgroup_egress.o")));
    using objs = loadKernelCollection(spec);
    const sent = objs.maps.get("sent") as KernelMap;
    const count = (): bigint => new DataView((sent.get(new Uint8Array(4)) as Uint8Array).buffer).getBigUint64(0, true);
    const receiver = createSocket("udp4");
    await new Promise<void>((resolve) => receiver.bind(0, "127.0.0.1", () => resolve()));
    const port = receiver.address().port;
    const sendFromChild = (inCgroup: boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            "-e",
            `const s=require("dgram").createSocket("udp4");setTimeout(()=>{let n=0;const go=()=>s.send("x",${port},"127.0.0.1",()=>{if(++n<5)go();else s.close()});go()},200)`,
          ],
          { stdio: "ignore" },
        );
        if (inCgroup) cgroup.add(child.pid as number);
        child.on("exit", () => resolve());
        child.on("error", reject);
      });
    try {
      {
        using _link = attachCgroup(objs.programs.get("count_egress") as KernelProgram, cgroup.path, "cgroup_inet_egress");
        await sendFromChild(false);
        assert.equal(count(), 0n, "a process outside the cgroup is not counted");
        await sendFromChild(true);
        assert.ok(count() >= 5n, `counted ${count()}`);
      }
      const after = count();
      await sendFromChild(true);
      assert.equal(count(), after, "detached: nothing more is counted");
    } finally {
      receiver.close();
    }
  });
});

/** Runs a node script in a child that waits for a line on stdin, so it can be moved into the cgroup first. */
function childIn(cgroup: TestCgroup | undefined, script: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", `process.stdin.once("data",()=>{${script}})`], { stdio: ["pipe", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout }));
    if (cgroup) cgroup.add(child.pid as number);
    child.stdin.end("go\n"); // and closed, so the child exits when its script is done
  });
}

describe("cgroup socket programs", { skip: bpfMissing() }, () => {
  it("refuse socket creation inside the cgroup only (cgroup/sock_create)", async () => {
    using cgroup = createTestCgroup();
    using deny = KernelProgram.load(assemble("mov %r0, 0\nexit"), {
      type: "cgroup_sock",
      expectedAttachType: ATTACH_TYPE_IDS.cgroup_inet_sock_create,
      name: "tsbpf_test_deny",
    });
    const tryUdp =
      'const s=require("dgram").createSocket("udp4");s.on("error",(e)=>{console.log(e.code);process.exit(3)});s.bind(0,"127.0.0.1",()=>{s.close();process.exit(0)})';
    {
      using _link = attachCgroup(deny, cgroup.path, "cgroup_inet_sock_create");
      assert.equal((await childIn(undefined, tryUdp)).code, 0, "outside the cgroup sockets are made");
      const inside = await childIn(cgroup, tryUdp);
      assert.deepEqual([inside.code, inside.stdout.trim()], [3, "EPERM"]);
    }
    assert.equal((await childIn(cgroup, tryUdp)).code, 0, "detached: allowed again");
  });

  it("rewrite the port a process in the cgroup connects to (cgroup/connect4)", async () => {
    using cgroup = createTestCgroup();
    const receiver = createSocket("udp4");
    try {
      await new Promise<void>((resolve) => receiver.bind(0, "127.0.0.1", () => resolve()));
      const port = receiver.address().port;
      const got = new Promise<string>((resolve) => receiver.once("message", (m) => resolve(m.toString())));
      // user_port (offset 24 of struct bpf_sock_addr) holds the port in network byte order.
      const networkOrder = ((port & 0xff) << 8) | (port >> 8);
      using redirect = KernelProgram.load(assemble(`mov %r2, ${networkOrder}\nstxw [%r1+24], %r2\nmov %r0, 1\nexit`), {
        type: "cgroup_sock_addr",
        expectedAttachType: ATTACH_TYPE_IDS.cgroup_inet4_connect,
        name: "tsbpf_test_c4",
      });
      using _link = attachCgroup(redirect, cgroup.path, "cgroup_inet4_connect");
      // Port 9 (discard) is where the child thinks it sends; the program sends it to our receiver instead.
      const sent = await childIn(
        cgroup,
        'const s=require("dgram").createSocket("udp4");s.connect(9,"127.0.0.1",()=>s.send("redirected",()=>{s.close()}))',
      );
      assert.equal(sent.code, 0);
      assert.equal(await got, "redirected");
    } finally {
      receiver.close();
    }
  });
});

describe("seed (c): tsbpf flowlat", { skip: bpfMissing() ?? (ping ? undefined : "ping not installed (iputils-ping)") }, () => {
  it("prints TCP handshake and UDP request/response latency for flows between two namespaces", async () => {
    using net = createVethPair("10.213.9.1", "10.213.9.2");
    const tcp = createServer((s) => s.end());
    await new Promise<void>((resolve) => tcp.listen(0, net.hostAddress, () => resolve()));
    const tcpPort = (tcp.address() as AddressInfo).port;
    const udp = createSocket("udp4");
    udp.on("message", (m, from) => udp.send(m, from.port, from.address));
    await new Promise<void>((resolve) => udp.bind(0, net.hostAddress, () => resolve()));
    const udpPort = udp.address().port;
    const tool = spawn(process.execPath, [BIN, "flowlat", "-i", net.host, "--ip", net.peerAddress, "--count", "2"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = outputOf(tool);
    const exited = new Promise<number>((resolve) => tool.on("exit", (code) => resolve(code ?? -1)));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the tool loads and attaches
      const client = `const net=require("net"),dgram=require("dgram");
        const c=net.connect(${tcpPort},"${net.hostAddress}",()=>c.end());
        c.on("close",()=>{const u=dgram.createSocket("udp4");u.on("message",()=>u.close());u.send("ping",${udpPort},"${net.hostAddress}");});`;
      // Asynchronously: the servers answering the client live in this process's event loop.
      const clientExit = await new Promise<number>((resolve) => {
        const c = spawn("ip", ["netns", "exec", net.namespace, process.execPath, "-e", client], { stdio: "ignore", timeout: 10_000 });
        c.on("exit", (code) => resolve(code ?? -1));
      });
      assert.equal(clientExit, 0, "the clients ran");
      const code = await Promise.race([exited, new Promise<number>((resolve) => setTimeout(() => resolve(-2), 10_000))]);
      assert.equal(code, 0, `flowlat exited ${code}: ${output.stderr}`);
    } finally {
      tool.kill("SIGINT");
      tcp.close();
      udp.close();
    }
    const lines = output.stdout.trim().split("\n");
    const pattern = /^\((TCP|UDP)\) \| src: ([\d.]+):(\d+) {2}dst: ([\d.]+):(\d+) {2}TTL: (\d+) {2}latency: \d+\.\d{3} ms$/;
    const parsed = lines.map((l) => pattern.exec(l));
    assert.ok(
      parsed.every((m) => m !== null),
      output.stdout,
    );
    const tcpLine = parsed.find((m) => m?.[1] === "TCP");
    const udpLine = parsed.find((m) => m?.[1] === "UDP");
    assert.deepEqual([tcpLine?.[2], tcpLine?.[4], tcpLine?.[5], tcpLine?.[6]], [net.peerAddress, net.hostAddress, String(tcpPort), "64"]);
    assert.deepEqual([udpLine?.[2], udpLine?.[4], udpLine?.[5]], [net.peerAddress, net.hostAddress, String(udpPort)]);
  });
});

describe("a process stopped by SIGINT", { skip: bpfMissing() }, () => {
  it("removes what would outlive it: netlink tc filters and XDP, its namespaces and veths, its cgroups", async () => {
    using net = createVethPair("10.213.13.1", "10.213.13.2");
    const module = (path: string): string => JSON.stringify(join(REPO, "dist", "src", path));
    // The child attaches to our veth through rtnetlink (what outlives a process), makes a network and a cgroup
    // of its own, says where, and waits to be interrupted.
    const child = `
      import { readFileSync } from "node:fs";
      import { loadCollectionSpec } from ${module("object/collection.js")};
      import { loadKernelCollection } from ${module("kernel/collection.js")};
      import { attachTcFilter, attachXdpNetlink } from ${module("kernel/rtnetlink.js")};
      import { createVethPair } from ${module("kernel/netns.js")};
      import { createTestCgroup } from ${module("kernel/cgroup.js")};
      const load = (o) => loadKernelCollection(loadCollectionSpec(readFileSync(${JSON.stringify(join(REPO, "testdata"))} + "/" + o)));
      const tc = load("tc_count.o").programs.get("count_ingress");
      const xdp = load("xdp_deny.o").programs.get("xdp_deny");
      attachTcFilter(tc, ${net.hostIfindex}, "ingress");
      attachXdpNetlink(xdp, ${net.hostIfindex}, "generic");
      const own = createVethPair("10.213.14.1", "10.213.14.2");
      const cgroup = createTestCgroup();
      console.log(JSON.stringify({ namespace: own.namespace, host: own.host, cgroup: cgroup.path }));
      setInterval(() => {}, 1000);`;
    const proc = spawn(process.execPath, ["--input-type=module", "-e", child], { stdio: ["ignore", "pipe", "pipe"] });
    const output = outputOf(proc);
    const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
    try {
      const deadline = Date.now() + 20_000;
      while (!output.stdout.includes("\n") && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      assert.ok(output.stdout.includes("\n"), `the child got ready: ${output.stderr}`);
      assert.equal(tcFilters(net.hostIfindex).length, 1, "the child's filter is on our veth");
      assert.equal(xdpState(net.hostIfindex).mode, "generic", "the child's XDP program is on our veth");
      proc.kill("SIGINT");
      assert.equal(await exited, 130, output.stderr);
    } finally {
      proc.kill("SIGKILL");
    }
    const own = JSON.parse(output.stdout) as { namespace: string; host: string; cgroup: string };
    assert.equal(tcFilters(net.hostIfindex).length, 0, "the filter is gone");
    assert.doesNotMatch(execFileSync("tc", ["qdisc", "show", "dev", net.host]).toString(), /clsact/, "the qdisc it added is gone");
    assert.equal(xdpState(net.hostIfindex).mode, "none", "XDP is detached");
    assert.doesNotMatch(execFileSync("ip", ["netns", "list"]).toString(), new RegExp(`^${own.namespace}\\b`, "m"));
    assert.doesNotMatch(execFileSync("ip", ["-o", "link", "show"]).toString(), new RegExp(`: ${own.host}[@:]`));
    assert.equal(existsSync(own.cgroup), false, "the cgroup is removed");
  });
});
