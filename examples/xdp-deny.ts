// Seed (d): XDP drop list. Attaches testdata/xdp_deny.o to an interface; packets from sources in the LPM deny
// list are dropped. Run as root: `npm run build && node dist/examples/xdp-deny.js IFACE 10.0.0.0/8 ...`
// (Ctrl-C detaches).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { attachXdp } from "../src/kernel/link.js";
import { attachXdpNetlink, type XdpMode } from "../src/kernel/rtnetlink.js";
import { loadCollectionSpec } from "../src/object/collection.js";

export interface XdpDeny {
  /** Adds "A.B.C.D/N" to the deny list. */
  deny(prefix: string): void;
  /** Packets dropped for a prefix added with deny(). */
  dropped(prefix: string): bigint;
  close(): void;
  [Symbol.dispose](): void;
}

function key(prefix: string): Uint8Array {
  const [address, bits] = prefix.split("/");
  const octets = (address ?? "").split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) throw new Error(`not an IPv4 prefix: ${prefix}`);
  const k = new Uint8Array(8);
  new DataView(k.buffer).setUint32(0, Number(bits ?? 32), true);
  k.set(octets, 4); // network byte order
  return k;
}

/** `how`: a bpf_link (the default), or rtnetlink in generic or driver mode as `ip link set dev X xdp` does. */
export function startXdpDeny(ifindex: number, how: "link" | XdpMode = "link"): XdpDeny {
  const collection = loadKernelCollection(
    loadCollectionSpec(readFileSync(fileURLToPath(new URL("../../testdata/xdp_deny.o", import.meta.url)))),
  );
  try {
    const program = collection.programs.get("xdp_deny");
    const deny = collection.maps.get("deny");
    if (!program || !deny) throw new Error("xdp_deny.o lacks xdp_deny or deny");
    const link = how === "link" ? attachXdp(program, ifindex) : attachXdpNetlink(program, ifindex, how);
    const close = (): void => {
      link.close();
      collection.close();
    };
    return {
      deny: (prefix) => deny.set(key(prefix), new Uint8Array(8)),
      dropped: (prefix) => {
        const v = deny.get(key(prefix));
        return v ? new DataView(v.buffer).getBigUint64(0, true) : 0n;
      },
      close,
      [Symbol.dispose]: close,
    };
  } catch (e) {
    collection.close();
    throw e;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [iface, ...prefixes] = process.argv.slice(2);
  if (!iface) throw new Error("usage: xdp-deny IFACE PREFIX...");
  const xdp = startXdpDeny(Number(readFileSync(`/sys/class/net/${iface}/ifindex`, "utf8")));
  for (const p of prefixes) xdp.deny(p);
  process.on("SIGINT", () => {
    xdp.close();
    process.exit(130);
  });
  setInterval(() => console.log(prefixes.map((p) => `${p}: ${xdp.dropped(p)} dropped`).join("  ")), 1000);
}
