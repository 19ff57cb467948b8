// The JS twin of examples/counter/worker.py: GET /<name>, POST /<name>/increment.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async increment(by = 1) {
    const value = ((await this.ctx.storage.get("value")) ?? 0) + by;
    await this.ctx.storage.put("value", value);
    return value;
  }

  async get() {
    return (await this.ctx.storage.get("value")) ?? 0;
  }
}

export default {
  async fetch(request, env) {
    const parts = new URL(request.url).pathname.split("/").filter(Boolean);
    if (parts.length === 0) return new Response("usage\n", { status: 404 });
    const counter = env.COUNTER.getByName(parts[0]);
    if (parts.length === 2 && parts[1] === "increment" && request.method === "POST") {
      return new Response(String(await counter.increment()));
    }
    if (parts.length === 1 && request.method === "GET") {
      return new Response(String(await counter.get()));
    }
    return new Response("not found\n", { status: 404 });
  },
};
