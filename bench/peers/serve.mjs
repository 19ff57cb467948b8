// Serves one of apps/ with Miniflare 4 on 127.0.0.1:PORT, state in memory, for
// bench/bench_dev_server.py. Usage: node serve.mjs counter|chat PORT
// Prints "ready" when it accepts requests; stops on SIGTERM/SIGINT.
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const APPS = {
  counter: { durableObjects: { COUNTER: { className: "Counter", useSQLite: true } } },
  chat: {
    durableObjects: { ROOMS: { className: "ChatRoom", useSQLite: true } },
    bindings: { HISTORY_SIZE: "50", RATE_LIMIT_PER_10S: "1000000" },
  },
};
const [name, port] = process.argv.slice(2);
const mf = new Miniflare({
  modules: true,
  scriptPath: fileURLToPath(new URL(`./apps/${name}/worker.js`, import.meta.url)),
  compatibilityDate: "2025-11-01",
  host: "127.0.0.1",
  port: Number(port),
  cf: false,
  ...APPS[name],
});
await mf.ready;
console.log("ready");
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    await mf.dispose();
    process.exit(0);
  });
}
