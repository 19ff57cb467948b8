// The page's side of the worker: start, run, stop (interrupt or restart), progress.
//
// With cross-origin isolation (COOP/COEP headers) a SharedArrayBuffer interrupt buffer
// lets Stop raise KeyboardInterrupt in the running code and keep the interpreter. Without
// it (plain static hosting, `mkdocs serve`), Stop terminates the worker and starts a new
// one; the namespaces of earlier blocks are then gone, and listeners hear "restarted".
const STOP_GRACE_MS = 1000; // an interrupt that has not ended the run by then -> restart

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
    this.worker.postMessage({ type: "init", interruptBuffer: this.interruptBuffer });
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
        clearTimeout(job.stopTimer);
        job.resolve({ ...msg.result, snapshot: msg.snapshot, timing: msg.timing, stopped: msg.result.stopped ? "interrupted" : undefined });
      }
    }
  }

  /** Send a job ("run" or "advance"); resolves with the worker's report. */
  send(type, payload, onOutput) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, onOutput: onOutput || (() => {}), generation: this.generation });
      if (this.interruptBuffer) this.interruptBuffer[0] = 0;
      this.worker.postMessage({ type, id, ...payload });
    });
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
    if (this.interruptBuffer && this.state.phase === "ready") {
      this.interruptBuffer[0] = 2; // SIGINT -> KeyboardInterrupt at the next bytecode
      for (const job of this.pending.values()) {
        clearTimeout(job.stopTimer);
        job.stopTimer = setTimeout(() => this.restart("did not stop within 1 s"), STOP_GRACE_MS);
      }
      return;
    }
    this.restart("stopped");
  }

  restart(reason) {
    this.worker.terminate();
    const jobs = [...this.pending.values()];
    this.pending.clear();
    for (const job of jobs) {
      clearTimeout(job.stopTimer);
      job.resolve({ ok: false, stopped: "restarted", reason });
    }
    for (const fn of this.listeners) fn({ ...this.state, restarted: true });
    this.start();
  }
}
