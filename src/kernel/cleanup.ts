/**
 * Cleanup of kernel state that outlives our fds (namespaces, interfaces, qdiscs, pins): registered actions
 * run on normal exit and on SIGINT/SIGTERM, after which the process exits with the signal's status.
 */
const actions = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const a of [...actions].reverse()) {
    try {
      a();
    } catch {
      // keep cleaning the rest
    }
  }
  actions.clear();
}

/** Registers a cleanup action; returns a function that unregisters it (call it when cleaned up normally). */
export function onExit(action: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on("exit", runAll);
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      process.once(signal, () => {
        runAll();
        process.exit(code);
      });
    }
  }
  actions.add(action);
  return () => {
    actions.delete(action);
  };
}
