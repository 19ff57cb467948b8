// The page's side of the worker: start, run, stop (interrupt or restart), progress.
//
// With cross-origin isolation (COOP/COEP headers) a SharedArrayBuffer interrupt buffer
// lets Stop raise KeyboardInterrupt in the running code and keep the interpreter. Without
// it (plain static hosting, `mkdocs serve`), Stop terminates the worker and starts a new
// one; the namespaces of earlier blocks are then gone, and listeners hear "restarted".
//
// Stop writes SIGINT (2) into the buffer, and while the stopped run goes on it writes it
// again each time Python has taken it: every 4 ms when the worker had to give Python the
// plain buffer, whose check can lose a SIGINT (worker.js, "Interrupts"); every 100 ms
// with the worker's exact slot, which loses none, so that code which caught one
// KeyboardInterrupt gets another, as from a second Ctrl+C. The worker arms the
// interrupt only while the reader's code runs, so a SIGINT sent as the run ends cannot
// hit the sandbox's own code. A run that has not ended 1 s after Stop (code waiting for
// something that never comes runs no bytecode, so Python never checks) is ended by
// restarting Python. `restarts` counts restarts, `stopLog` times every Stop.
const STOP_GRACE_MS = 1000; // a run still going this long after Stop -> restart
const RESEND_MS = { exact: 100, plain: 4 };
const STOP_LOG_LIMIT = 1000;

/**
 * The worker's URL. A page opened with `?sandbox-boot=plain` asks the worker to skip the
 * memory snapshot and boot Pyodide from scratch (to compare, or if a snapshot misbehaves).
 */
function workerURLFor(base, page) {
  const url = new URL(base);
  if (new URLSearchParams(page.search).get("sandbox-boot") === "plain") url.searchParams.set("boot", "plain");
  return url;
}

export class SandboxClient {
  constructor(workerURL) {
    this.workerURL = workerURL;
    this.listeners = new Set();
    this.pending = new Map();
    this.nextId = 1;
    this.state = { phase: "idle", detail: "" };
    this.generation = 0;
    this.restarts = 0; // how often Python was restarted (Stop without isolation, or too slow)
    this.stopLog = []; // {ms, how: "interrupted" | "ended" | "restarted", resent, reason}
    this.stopping = null;
    this.playgroundListeners = new Set();
    this.start();
  }

  on(fn) {
    this.listeners.add(fn);
    fn(this.state);
  }

  emit(state) {
    this.state = { ...this.state, ...state };
    for (const fn of this.listeners) fn(this.state);
  }

  start() {
    this.generation += 1;
    this.startedAt = performance.now();
    this.phases = [{ phase: "start", at: Math.round(this.startedAt) }];
    this.isolated = self.crossOriginIsolated === true && typeof SharedArrayBuffer !== "undefined";
    this.interruptBuffer = this.isolated ? new Uint8Array(new SharedArrayBuffer(1)) : null;
    this.worker = this.adoptEarlyWorker() || new Worker(workerURLFor(this.workerURL, location), { type: "module" });
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.emit({ phase: "failed", detail: "the Python worker could not start" });
    };
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.emit({ phase: "loading", detail: "Starting Python…" });
    // ?sandbox-interrupt=plain: the worker hands Python the plain buffer (for the tests).
    const interruptMode = new URLSearchParams(location.search).get("sandbox-interrupt") || "exact";
    this.worker.postMessage({ type: "init", interruptBuffer: this.interruptBuffer, interruptMode });
  }

  /** The worker the page's <head> started (hooks/sandbox.py), once, if it is sound. */
  adoptEarlyWorker() {
    const early = self.dosimEarlyWorker;
    self.dosimEarlyWorker = undefined;
    if (!early || early.failed || early.url !== workerURLFor(this.workerURL, location).href) {
      early?.worker.terminate();
      return null;
    }
    this.phases[0].early = true;
    return early.worker;
  }

  receive(msg) {
    if (msg.type === "progress") {
      this.phases.push({ phase: msg.phase, at: Math.round(performance.now()) });
      this.emit({ phase: "loading", detail: msg.detail + "…" });
    } else if (msg.type === "ready") {
      const ms = Math.round(performance.now() - this.startedAt);
      this.readyInfo = { ...msg, pageMs: ms, readyAt: performance.now() };
      this.emit({ phase: "ready", detail: `Python ready (${(ms / 1000).toFixed(1)} s)`, isolated: msg.isolated });
      this.resolveReady(msg);
    } else if (msg.type === "failed") {
      this.emit({ phase: "failed", detail: "Python could not start: " + msg.error });
      this.rejectReady(new Error(msg.error));
    } else if (msg.type === "out") {
      this.pending.get(msg.id)?.onOutput(msg.stream, msg.text);
    } else if (msg.type === "done") {
      const job = this.pending.get(msg.id);
      if (job) {
        this.pending.delete(msg.id);
        this.stopped(msg.id, msg.result.stopped ? "interrupted" : "ended");
        if (job.playground) {
          const result = msg.result.stopped ? { ...msg.result, stopped: "interrupted" } : msg.result;
          job.resolve({ result, snapshot: msg.snapshot || { apps: [] }, timing: msg.timing });
        } else {
          job.resolve({ ...msg.result, snapshot: msg.snapshot, timing: msg.timing, stopped: msg.result.stopped ? "interrupted" : undefined });
        }
      }
    } else if (msg.type === "pg-event") {
      for (const fn of this.playgroundListeners) fn(msg.event);
    }
  }

  /** Send a job ("run" or "advance"); resolves with the worker's report. */
  send(type, payload, onOutput) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const playground = type === "pg";
      this.pending.set(id, { resolve, onOutput: onOutput || (() => {}), generation: this.generation, playground });
      if (this.interruptBuffer && !this.stopping) Atomics.store(this.interruptBuffer, 0, 0);
      this.worker.postMessage({ type, id, ...payload });
    });
  }

  /**
   * One op of the whole-app playground (see worker.js, "Playground"): queued like runs,
   * stopped by the same Stop. Resolves with `{result, snapshot}`; after a restart
   * `result` is `{ok: false, stopped: "restarted", reason}` and the app is gone.
   * `onOutput(stream, text)` hears what the app prints while the op runs.
   */
  playground(op, args = {}, onOutput) {
    return this.send("pg", { op, args }, onOutput);
  }

  /** Hear the playground's unsolicited events (`{kind: "ws-message" | "ws-close", ...}`). */
  onPlaygroundEvent(fn) {
    this.playgroundListeners.add(fn);
    return () => this.playgroundListeners.delete(fn);
  }

  drop(key) {
    this.worker.postMessage({ type: "drop", key });
  }

  get busy() {
    return this.pending.size > 0;
  }

  /** Stop whatever runs: interrupt if possible, else (or if that does not work) restart. */
  stop() {
    if (!this.pending.size) return;
    if (this.stopping) return; // already stopping; the grace timer runs
    const stopping = { at: performance.now(), jobs: new Set(this.pending.keys()), resent: 0 };
    this.stopping = stopping;
    if (!this.interruptBuffer || this.state.phase !== "ready") {
      this.restart("stopped");
      return;
    }
    const buffer = this.interruptBuffer;
    const every = RESEND_MS[this.readyInfo?.interrupt] || RESEND_MS.plain;
    Atomics.store(buffer, 0, 2); // SIGINT -> KeyboardInterrupt at Python's next check
    stopping.resend = setInterval(() => {
      if (Atomics.compareExchange(buffer, 0, 0, 2) === 0) stopping.resent += 1;
    }, every);
    stopping.timer = setTimeout(() => this.restart("did not stop within 1 s"), STOP_GRACE_MS);
  }

  /** Job `id` ended (`how`); if it was the last one Stop was for, stop stopping. */
  stopped(id, how, reason) {
    const stopping = this.stopping;
    if (!stopping || !stopping.jobs.delete(id) || stopping.jobs.size) return;
    clearInterval(stopping.resend);
    clearTimeout(stopping.timer);
    this.stopping = null;
    const entry = { ms: Math.round((performance.now() - stopping.at) * 10) / 10, how, resent: stopping.resent };
    if (reason) entry.reason = reason;
    this.stopLog.push(entry);
    if (this.stopLog.length > STOP_LOG_LIMIT) this.stopLog.shift();
  }

  restart(reason) {
    this.worker.terminate();
    const jobs = [...this.pending.entries()];
    this.pending.clear();
    this.restarts += 1;
    if (reason !== "stopped") console.warn(`dosim sandbox: Python restarted (${reason})`);
    for (const [id, job] of jobs) {
      this.stopped(id, "restarted", reason);
      const report = { ok: false, stopped: "restarted", reason };
      job.resolve(job.playground ? { result: report, snapshot: { apps: [] } } : report);
    }
    if (this.stopping) {
      clearInterval(this.stopping.resend);
      clearTimeout(this.stopping.timer);
      this.stopping = null;
    }
    for (const fn of this.listeners) fn({ ...this.state, restarted: true });
    this.start();
  }
}
