/**
 * `tsbpf prog load|loadall`: an object's maps created and programs verified in the kernel, kept by pins.
 * tsbpf's form `prog load OBJ [--pin DIR] [--pinmaps DIR]` pins every program under DIR; bpftool's forms work
 * too: `prog load OBJ PATH` pins the first program at PATH, `prog loadall OBJ DIR` every program under DIR,
 * each with `[pinmaps DIR] [autoattach]`. With `autoattach`, programs are attached where their sections say
 * and the links are pinned instead (the programs then run until the pins are removed); a program that cannot
 * attach by itself (XDP needs an interface, say) is pinned as a program, as bpftool falls back.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { NotSupportedError } from "../errors.js";
import { attachProgram } from "../kernel/attach.js";
import { makePinDir } from "../kernel/bpffs.js";
import { loadKernelCollection } from "../kernel/collection.js";
import { loadCollectionSpec } from "../object/collection.js";
import { type Parsed, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";

const USAGE =
  "usage: tsbpf prog load OBJ [--pin DIR] [--pinmaps DIR] | prog load OBJ PATH | prog loadall OBJ DIR [pinmaps DIR] [autoattach]";

interface Loaded {
  name: string;
  fd: number;
  type: string;
  pinned?: string;
  /** Whether the pin is the program's link (autoattach) rather than the program. */
  attached?: boolean;
}

export function progLoadCommand(sub: "load" | "loadall", p: Parsed, io: Io): number {
  const [file, path, ...words] = p.positional;
  if (!file || (sub === "loadall" && !path)) throw new UsageError(USAGE);
  if (path !== undefined && p.flags.has("pin")) throw new UsageError(`prog ${sub}: give PATH or --pin DIR, not both`);
  // Maps declared `pinning = LIBBPF_PIN_BY_NAME` go to (or are reused from) pinmaps, else /sys/fs/bpf.
  let pinMaps = stringFlag(p, "pinmaps");
  let autoattach = false;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "autoattach") autoattach = true;
    else if (words[i] === "pinmaps" && words[i + 1] !== undefined) pinMaps = words[++i];
    else throw new UsageError(`prog ${sub}: unexpected '${words[i]}'; ${USAGE}`);
  }
  // where each program (or its link) is pinned: every one under a directory, or bpftool load's first one at PATH
  const pinDir = sub === "loadall" ? path : stringFlag(p, "pin");
  const firstAt = sub === "load" ? path : undefined;
  const spec = loadCollectionSpec(readFileSync(file)); // first: a bad object leaves no directory behind
  // as bpftool does: the directories are made (in bpffs, mounted first on a fresh machine)
  for (const dir of [pinDir, pinMaps]) if (dir) makePinDir(dir);
  const collection = loadKernelCollection(spec, pinMaps ? { pinPath: pinMaps } : {});
  const pinned: string[] = [];
  try {
    const loaded = [...collection.programs].map(([name, prog], index): Loaded => {
      const at = pinDir ? join(pinDir, name) : index === 0 ? firstAt : undefined;
      if (!at) return { name, fd: prog.fd, type: prog.type };
      if (autoattach) {
        try {
          using link = attachProgram(prog, spec.programs.get(name) as NonNullable<ReturnType<typeof spec.programs.get>>);
          link.pin(at);
          pinned.push(at);
          return { name, fd: prog.fd, type: prog.type, pinned: at, attached: true };
        } catch (e) {
          if (!(e instanceof NotSupportedError)) throw e;
        }
      }
      prog.pin(at);
      pinned.push(at);
      return { name, fd: prog.fd, type: prog.type, pinned: at, ...(autoattach ? { attached: false } : {}) };
    });
    if (p.flags.has("json")) io.stdout(`${JSON.stringify(loaded, null, 2)}\n`);
    else
      for (const l of loaded) {
        const where = l.pinned === undefined ? "" : l.attached ? ` attached; its link pinned at ${l.pinned}` : ` pinned at ${l.pinned}`;
        io.stdout(`${l.name}: ${l.type}${where}${l.attached === false ? " (it does not attach by itself)" : ""}\n`);
      }
    if (pinned.length === 0) io.stdout("(not pinned: the programs are unloaded when this command exits; use --pin DIR to keep them)\n");
  } catch (e) {
    // nothing half-done stays behind
    for (const at of pinned) rmSync(at, { force: true });
    throw e;
  } finally {
    collection.close(); // pins keep what should stay
  }
  return 0;
}
