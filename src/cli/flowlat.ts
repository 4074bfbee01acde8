/** `tsbpf flowlat -i IFACE [--ip A] [--port P] [--count N]`: per-flow TCP/UDP latency lines until Ctrl-C. */
import { flowlat, formatFlowEvent } from "../kernel/flowlat.js";
import { intFlag, parseArgs, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";

export async function flowlatCommand(argv: string[], io: Io): Promise<number> {
  const p = parseArgs(argv, {
    interface: { value: true, short: "-i" },
    ip: { value: true },
    port: { value: true },
    count: { value: true },
  });
  const ifname = stringFlag(p, "interface");
  if (!ifname) throw new UsageError("usage: tsbpf flowlat -i IFACE [--ip A] [--port P] [--count N]");
  const ip = stringFlag(p, "ip");
  if (ip !== undefined && !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new UsageError(`--ip needs an IPv4 address (got '${ip}')`);
  const port = intFlag(p, "port");
  const count = intFlag(p, "count");
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let seen = 0;
  try {
    await flowlat(
      ifname,
      { ...(ip !== undefined ? { ip } : {}), ...(port !== undefined ? { port } : {}) },
      (e) => {
        io.stdout(`${formatFlowEvent(e)}\n`);
        seen++;
        return count !== undefined && seen >= count;
      },
      stop.signal,
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
