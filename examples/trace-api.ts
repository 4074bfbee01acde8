// A tracing script from TypeScript on the userspace machine (no root, any OS): what it printed and its maps
// at the end, as data. Run with `npm run build && node dist/examples/trace-api.js`.
import { trace } from "../src/lang/index.js";

const { events, maps } = await trace('BEGIN { @n[1] = 42; @h = hist(100); printf("hi\\n"); exit(); }', { backend: "vm" });
for (const e of events) if (e.type === "printf") process.stdout.write(`printf: ${e.text}`);
for (const [name, elements] of maps) {
  for (const el of elements) {
    const what = el.buckets ? el.buckets.map((b) => `[${b.min}, ${b.max}]: ${b.count}`).join(" ") : String(el.value);
    console.log(`${name}${el.key ? `[${el.key.join(", ")}]` : ""} = ${what}`);
  }
}
