// The sandbox's module Web Worker: owns the page's one Pyodide interpreter.
//
// Boots Pyodide from the site's own sandbox/pyodide/ (no CDN: the lock file there lists
// only dosim), installs the dosim wheel by name, lays down the example apps, imports
// dosim and the Python helper (sandbox_helper.py), then answers the page's messages:
//   {type:"run", id, code, key, fresh, block}      -> out*, done {result, snapshot}
//   {type:"advance", id, key, var, seconds, block} -> out*, done {result, snapshot}
//   {type:"drop", key}                             forget a group's namespace
// Output is streamed as {type:"out", id, stream, text} in the order Python wrote it.
import { loadPyodide } from "./pyodide/pyodide.mjs";
import helperSource from "./sandbox_helper.py";

const OUTPUT_LIMIT = 200_000; // characters per run; a runaway print loop must not flood the page
let py = null;
let helper = null;
let current = null; // id of the run whose output is being written
let written = 0;
let ready = null;

function post(msg) {
  self.postMessage(msg);
}

function progress(phase, detail) {
  post({ type: "progress", phase, detail, t: performance.now() });
}

function makeWriter(stream) {
  const decoder = new TextDecoder();
  return {
    write(buffer) {
      const text = decoder.decode(buffer, { stream: true });
      if (current !== null && text) {
        written += text.length;
        if (written <= OUTPUT_LIMIT) post({ type: "out", id: current, stream, text });
        else if (written - text.length <= OUTPUT_LIMIT)
          post({ type: "out", id: current, stream: "stderr", text: "\n[output cut: more than 200 000 characters]\n" });
      }
      return buffer.length;
    },
  };
}

async function boot({ interruptBuffer }) {
  const t0 = performance.now();
  const indexURL = new URL("./pyodide/", import.meta.url).href;
  progress("runtime", "Loading the Python runtime");
  py = await loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} });
  if (interruptBuffer) py.setInterruptBuffer(interruptBuffer);
  progress("dosim", "Installing dosim");
  const problems = [];
  await py.loadPackage("dosim", {
    messageCallback: () => {},
    errorCallback: (m) => problems.push(m),
  });
  if (problems.length) throw new Error("could not install dosim: " + problems.join("; "));
  const files = await fetch(new URL("./files.json", import.meta.url)).then((r) => (r.ok ? r.json() : {}));
  for (const [path, text] of Object.entries(files)) {
    const dir = path.split("/").slice(0, -1).join("/");
    if (dir) py.FS.mkdirTree(dir);
    py.FS.writeFile(path, text);
  }
  py.FS.mkdirTree("/sandbox-lib");
  py.FS.writeFile("/sandbox-lib/_dosim_sandbox.py", helperSource);
  progress("import", "Importing dosim");
  py.runPython("import sys; sys.path.insert(0, '/sandbox-lib'); import dosim, _dosim_sandbox");
  helper = py.pyimport("_dosim_sandbox");
  py.setStdout(makeWriter("stdout"));
  py.setStderr(makeWriter("stderr"));
  progress("ready", "Ready");
  post({
    type: "ready",
    isolated: self.crossOriginIsolated === true,
    interrupt: Boolean(interruptBuffer),
    ms: Math.round(performance.now() - t0),
    version: py.version,
  });
}

async function call(id, source, args) {
  current = id;
  written = 0;
  const scope = py.toPy({ _sb: helper, ...args });
  try {
    const report = await py.runPythonAsync(source, { globals: scope });
    const snapshot = args.key ? helper.snapshot(args.key) : '{"apps": []}';
    post({ type: "done", id, result: JSON.parse(report), snapshot: JSON.parse(snapshot) });
  } catch (error) {
    // A failure of the sandbox itself (not of the reader's code, which run() reports).
    post({ type: "done", id, result: { ok: false, error: { type: "SandboxError", text: String(error) } } });
  } finally {
    scope.destroy();
    current = null;
  }
}

let queue = Promise.resolve(); // one message at a time, in order

self.onmessage = ({ data: msg }) => {
  queue = queue.then(() => handle(msg));
};

async function handle(msg) {
  if (msg.type === "init") {
    ready = boot(msg).catch((error) => {
      post({ type: "failed", error: String(error && error.message ? error.message : error) });
      throw error;
    });
    ready.catch(() => {});
    return;
  }
  try {
    await ready;
  } catch {
    return;
  }
  if (msg.type === "run") {
    await call(msg.id, "await _sb.run(code, key, fresh, block)", {
      code: msg.code, key: msg.key, fresh: msg.fresh, block: msg.block,
    });
  } else if (msg.type === "advance") {
    await call(msg.id, "await _sb.advance(key, var, seconds, block)", {
      key: msg.key, var: msg.var, seconds: msg.seconds, block: msg.block,
    });
  } else if (msg.type === "drop") {
    helper.drop(msg.key);
  }
}
