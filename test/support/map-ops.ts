// User-space map operations as the map tests apply them to both backends, with one outcome format.
import { KernelError } from "../../src/kernel/errors.js";
import type { KernelMap } from "../../src/kernel/map.js";
import { MapError, type VmMap } from "../../src/maps/map.js";

export type UserOp = { op: "set"; key: number; value: number; flags: number } | { op: "get" | "delete"; key: number };

export const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString("hex") : "none");

/** The outcome of f in a form both backends produce: its value, or the errno's name it failed with. */
export function outcome(f: () => string): string {
  try {
    return f();
  } catch (e) {
    if (e instanceof MapError || e instanceof KernelError) return e.code;
    throw e;
  }
}

/** Applies an update, lookup or delete; per-CPU maps get value+c on CPU c. Returns "ok", a value, or an errno. */
export function userOp(
  map: VmMap | KernelMap,
  op: UserOp,
  encode: { key(n: number): Uint8Array; value(n: number): Uint8Array },
  perCpu: { cpus: number } | undefined,
): string {
  return outcome(() => {
    const key = encode.key(op.key);
    switch (op.op) {
      case "set":
        if (perCpu)
          map.setPerCpu(
            key,
            Array.from({ length: perCpu.cpus }, (_, c) => encode.value(op.value + c)),
            BigInt(op.flags),
          );
        else map.set(key, encode.value(op.value), BigInt(op.flags));
        return "ok";
      case "get":
        return perCpu ? (map.getPerCpu(key)?.map(hex).join(",") ?? "none") : hex(map.get(key));
      case "delete":
        map.delete(key);
        return "ok";
    }
  });
}
