/** cat() and system() on Node: files read whole, commands run by /bin/sh with their stdout captured. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { TraceHost } from "./runtime.js";

/** strerror's text for the errors opening a file gives. */
const STRERROR: Record<string, string> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  EPERM: "Operation not permitted",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
};

export function nodeHost(): TraceHost {
  return {
    readFile(path) {
      try {
        return readFileSync(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "";
        throw new Error(STRERROR[code] ?? code);
      }
    },
    system(command) {
      try {
        return execFileSync("/bin/sh", ["-c", command], { stdio: ["ignore", "pipe", "inherit"] });
      } catch (e) {
        // a command that fails still printed what it printed
        const out = (e as { stdout?: Buffer }).stdout;
        if (out) return out;
        throw e;
      }
    },
  };
}
