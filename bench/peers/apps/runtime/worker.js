// The JS twin of bench/bench_runtime.py's Bench object: the same four operations.
import { DurableObject } from "cloudflare:workers";

export class Bench extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)");
  }

  async noop() {
    return null;
  }

  async increment() {
    const value = ((await this.ctx.storage.get("value")) ?? 0) + 1;
    await this.ctx.storage.put("value", value);
    return value;
  }

  // n awaited puts, one by one (as dosim's `puts`).
  async puts(n) {
    const storage = this.ctx.storage;
    for (let i = 0; i < n; i++) await storage.put(`key${i}`, i);
    return n;
  }

  // n INSERTs (as dosim's `inserts`). Returns workerd's own clock across the loop: with
  // the precise_timers flag it advances during execution (3 ms steps), without it it
  // stays frozen (Spectre mitigation) and the loop reads as 0 ms.
  async inserts(n) {
    const started = performance.now();
    for (let i = 0; i < n; i++) this.sql.exec("INSERT INTO t(v) VALUES (?)", "value");
    return performance.now() - started;
  }
}

// GET /?row=noop|increment|puts|inserts&n=N&name=OBJECT: the Worker drives the object the
// way bench_runtime.py drives dosim's (one warm-up call, then the timed work), so the
// Node side can time the whole request and subtract a request with n=0.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const row = url.searchParams.get("row");
    const n = Number(url.searchParams.get("n"));
    const stub = env.B.getByName(url.searchParams.get("name") ?? "b");
    await stub.noop();
    let inner = null;
    if (row === "noop") for (let i = 0; i < n; i++) await stub.noop();
    else if (row === "increment") for (let i = 0; i < n; i++) await stub.increment();
    else if (row === "puts") await stub.puts(n);
    else if (row === "inserts") inner = await stub.inserts(n);
    else return new Response("unknown row\n", { status: 404 });
    return Response.json({ inner });
  },
};
