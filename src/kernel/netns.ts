/**
 * Test networks: a network namespace joined to this one by a veth pair, made with iproute2 (`ip`), and removed
 * again on close, on error and on SIGINT/SIGTERM. Names carry the pid so parallel runs on one machine do not
 * collide.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { onExit } from "./cleanup.js";

export interface VethPair {
  readonly namespace: string;
  /** The interface in this (the host) namespace, and its ifindex. */
  readonly host: string;
  readonly hostIfindex: number;
  readonly hostAddress: string;
  /** The interface inside the namespace. */
  readonly peer: string;
  readonly peerAddress: string;
  /** Runs a command inside the namespace; returns whether it exited 0. */
  exec(command: string[], timeoutMs?: number): boolean;
  close(): void;
  [Symbol.dispose](): void;
}

const ip = (...args: string[]): void => {
  execFileSync("ip", args, { stdio: "ignore" });
};

let counter = 0;

/** Creates namespace + veth with hostAddress/24 on the host side and peerAddress/24 inside. */
export function createVethPair(hostAddress: string, peerAddress: string): VethPair {
  const tag = `${process.pid.toString(36)}${(counter++).toString(36)}`;
  const namespace = `tsbpf_${tag}`;
  const host = `tsh${tag}`.slice(0, 15);
  const peer = `tsp${tag}`.slice(0, 15);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    removeExit();
    try {
      ip("link", "del", host); // removes the peer too
    } catch {
      // already gone
    }
    try {
      ip("netns", "del", namespace);
    } catch {
      // already gone
    }
  };
  const removeExit = onExit(close);
  try {
    ip("netns", "add", namespace);
    ip("link", "add", host, "type", "veth", "peer", "name", peer);
    ip("link", "set", peer, "netns", namespace);
    ip("addr", "add", `${hostAddress}/24`, "dev", host);
    ip("link", "set", host, "up");
    ip("-n", namespace, "addr", "add", `${peerAddress}/24`, "dev", peer);
    ip("-n", namespace, "link", "set", peer, "up");
    ip("-n", namespace, "link", "set", "lo", "up");
  } catch (e) {
    close();
    throw e;
  }
  const hostIfindex = Number(readFileSync(`/sys/class/net/${host}/ifindex`, "utf8").trim());
  return {
    namespace,
    host,
    hostIfindex,
    hostAddress,
    peer,
    peerAddress,
    exec(command, timeoutMs = 5000) {
      try {
        execFileSync("ip", ["netns", "exec", namespace, ...command], { stdio: "ignore", timeout: timeoutMs });
        return true;
      } catch {
        return false;
      }
    },
    close,
    [Symbol.dispose]: close,
  };
}
