// Drives apps/runtime/worker.js in Miniflare 4's workerd for bench/bench_runtime.py.
// Reads lines "ROW N NAME" on stdin; for each, times (in Node, performance.now) one request
// doing N operations on object NAME and one doing 0 on a warm object, and prints a JSON line
// {row, n, seconds, baseline, inner_ms}: the operations' time is seconds - baseline.
// workerd's own clock inside the object (inner_ms) only moves at I/O unless the
// precise_timers compatibility flag is on (3 ms steps); it is printed as a cross-check.
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const mf = new Miniflare({
  modules: true,
  scriptPath: fileURLToPath(new URL("./apps/runtime/worker.js", import.meta.url)),
  compatibilityDate: "2025-11-01",
  compatibilityFlags: (process.env.BENCH_WORKERD_FLAGS ?? "").split(",").filter(Boolean),
  durableObjects: { B: { className: "Bench", useSQLite: true } },
  cf: false,
});
await mf.ready;

async function timed(path) {
  const started = performance.now();
  const response = await mf.dispatchFetch(`http://bench${path}`);
  const body = await response.json();
  return [(performance.now() - started) / 1000, body];
}

console.log(JSON.stringify({ ready: true }));
for await (const line of createInterface({ input: process.stdin })) {
  const [row, n, name] = line.trim().split(/\s+/);
  if (!row) continue;
  const [seconds, body] = await timed(`/?row=${row}&n=${n}&name=${name}`);
  const [baseline] = await timed(`/?row=${row}&n=0&name=${name}`);
  console.log(JSON.stringify({ row, n: Number(n), seconds, baseline, inner_ms: body.inner }));
}
await mf.dispose();
