// The sandbox's module Web Worker: owns the page's one Pyodide interpreter.
//
// Boot reads ./boot.json and ./files.json (written by hooks/sandbox.py: the dosim wheel's
// file name, the memory snapshot if the build made one, the example apps' files and the
// pure-Python packages they declare in their pyproject.toml), then
//  * restores the snapshot (pyodide/snapshot-*.bin.gz: an interpreter that has dosim and
//    the page helper imported, made in Node at build time by snapshot/make_snapshot.mjs)
//    and lays the files a snapshot cannot hold down again, or
//  * boots Pyodide plainly, installs the dosim wheel by name through the one-package
//    lock file, and imports dosim and the helper (sandbox_helper.py).
// A snapshot that cannot be fetched or restored falls back to the plain boot. Then it
// answers the page's messages:
//   {type:"run", id, code, key, fresh, block}      -> out*, done {result, snapshot}
//   {type:"advance", id, key, var, seconds, block} -> out*, done {result, snapshot}
//   {type:"drop", key}                             forget a group's namespace
//   {type:"pg", id, op, args}                      -> done {result, snapshot}, pg-event*
//     (the whole-app playground: see "Playground" at the end of this file)
// Output is streamed as {type:"out", id, stream, text} in the order Python wrote it.
// Stop (cross-origin isolated pages only): the page writes SIGINT (2) into a shared
// one-byte buffer; see "Interrupts" below.
import helperSource from "./sandbox_helper.py";
import bootSource from "./sandbox_boot.py";
import playgroundSource from "./playground_helper.py";
import { unpackSnapshot } from "./snapshot_format.js";

const pyodideURL = new URL("./pyodide/", import.meta.url).href;
const marks = []; // [what, ms since the worker started], sent with "ready" for the bench
const mark = (what) => marks.push([what, Math.round(performance.now())]);
mark("worker started");

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${response.statusText} for ${url}`);
  return response;
}

/**
 * `body`, gunzipped as it arrives if it is gzip data. A host that sends the file with
 * `Content-Encoding: gzip` has the browser inflate it already, so the first bytes
 * decide, not the file name or the headers.
 */
async function inflated(body) {
  const reader = body.getReader();
  const first = await reader.read();
  const stream = new ReadableStream({
    start(controller) {
      if (first.done) controller.close();
      else controller.enqueue(first.value);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
  const gzipped = !first.done && first.value[0] === 0x1f && first.value[1] === 0x8b;
  return gzipped ? stream.pipeThrough(new DecompressionStream("gzip")) : stream;
}

/**
 * Download the snapshot (`size` bytes, as boot.json says), reporting progress in steps of
 * 10 % (18 MiB take a while on a slow line), and unpack it into `memory`.
 */
async function fetchSnapshot(file, size, memory) {
  const response = await fetchOk(new URL(file, pyodideURL));
  const packed = new Uint8Array(size);
  const reader = (await inflated(response.body)).getReader();
  let got = 0;
  let shown = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (got + value.length > size) throw new Error(`the snapshot is larger than the ${size} bytes announced`);
    packed.set(value, got);
    got += value.length;
    const tenths = Math.floor((got * 10) / size);
    if (tenths > shown && tenths < 10) {
      shown = tenths;
      progress("download", `Loading Python (${tenths * 10} %)`);
    }
  }
  if (got !== size) throw new Error(`the snapshot has ${got} bytes, not the ${size} announced`);
  mark("snapshot fetched");
  unpackSnapshot(packed, memory);
}

// Downloads start as soon as the worker runs, before the page's "init" arrives; the
// Pyodide scripts are imported dynamically so that nothing waits for their parsing.
// "?boot=plain" in the worker's URL (the page passes ?sandbox-boot=plain on) skips the
// snapshot.
const allowSnapshot = new URL(import.meta.url).searchParams.get("boot") !== "plain";
const early = {
  pyodide: import("./pyodide/pyodide.mjs"),
  asm: import("./pyodide/pyodide.asm.mjs"),
  manifest: fetchOk(new URL("./boot.json", import.meta.url)).then((r) => r.json()),
  files: fetchOk(new URL("./files.json", import.meta.url)).then((r) => r.json()),
};
// The snapshot's memory is allocated at once and filled when the download arrives;
// meanwhile Pyodide compiles and instantiates its wasm (see bootFromSnapshot).
early.snapshot = early.manifest.then((m) => {
  if (!allowSnapshot || !m.snapshot) return null;
  const memory = new Uint8Array(m.snapshot.memory);
  return { memory, filled: fetchSnapshot(m.snapshot.file, m.snapshot.bytes, memory) };
});
for (const promise of Object.values(early)) promise.catch(() => {}); // each is awaited where used

const OUTPUT_LIMIT = 200_000; // characters per run; a runaway print loop must not flood the page
let py = null;
let helper = null;
let current = null; // id of the run whose output is being written
let written = 0;
let ready = null;

// Until the page's "init" arrives nobody may be listening (the page's <head> starts this
// worker before the page's script exists), so messages wait here.
let backlog = [];

function post(msg) {
  if (backlog) backlog.push(msg);
  else self.postMessage(msg);
}

function startTalking() {
  const waiting = backlog || [];
  backlog = null;
  for (const msg of waiting) self.postMessage(msg);
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
        if (timing && !timing.firstOutput) timing.firstOutput = epochNow();
        if (written <= OUTPUT_LIMIT) post({ type: "out", id: current, stream, text });
        else if (written - text.length <= OUTPUT_LIMIT)
          post({ type: "out", id: current, stream: "stderr", text: "\n[output cut: more than 200 000 characters]\n" });
      }
      return buffer.length;
    },
  };
}

/**
 * Restore the build's memory snapshot. Pyodide's snapshot API is private (pinned build;
 * see the toolchain notes). Pyodide reads only the snapshot's length before it
 * instantiates the runtime, and its bytes only after, so the download runs alongside the
 * wasm's compilation and is awaited just before the restore. The wasm declares its own
 * memory, so Pyodide's request for an initial memory as large as the snapshot is ignored
 * (pyodide#6254); growing the heap before the restore is the workaround.
 */
async function bootFromSnapshot(snapshot) {
  const [{ loadPyodide }, { default: createPyodideModule }] = await Promise.all([early.pyodide, early.asm]);
  let trampoline = null;
  const restored = await loadPyodide({
    indexURL: pyodideURL,
    stdout: () => {},
    stderr: () => {},
    _loadSnapshot: snapshot.memory,
    async createPyodideModule(settings) {
      mark("runtime instantiating");
      const module = await createPyodideModule(settings);
      mark("runtime instantiated");
      trampoline = callTrampoline(module);
      await snapshot.filled;
      if (snapshot.memory.length > module.HEAP8.length) module._emscripten_resize_heap(snapshot.memory.length);
      return module;
    },
  });
  // The restore wrote Node's trampoline over this browser's; put this browser's back.
  if (trampoline?.ptr) trampoline.module.HEAP32[trampoline.slot] = trampoline.ptr;
  return restored;
}

/**
 * How CPython calls C functions here: its start-up stores, in the interpreter's memory,
 * a pointer to a small wasm trampoline when the engine can build one (Chromium can),
 * else 0, which means a JavaScript trampoline. The snapshot is made in Node 20, which
 * cannot, so a restore brings back 0: every call then goes through JavaScript frames,
 * which JSPI cannot suspend, and `run_sync` (asyncio.run, the playground's async tests)
 * dies with "trying to suspend JS frames". So the pointer this browser's start-up stored
 * is read before the restore and written back after it. (Pinned Pyodide: `_PyRuntime`
 * and the slot's offset are the module's exports that its own start-up uses.)
 */
function callTrampoline(module) {
  const offset = module.__PyEM_EMSCRIPTEN_TRAMPOLINE_OFFSET;
  if (typeof offset !== "number" || typeof module.__PyRuntime !== "number") return null;
  const slot = (module.__PyRuntime + module.HEAP32[offset >> 2]) >> 2;
  return { module, slot, ptr: module.HEAP32[slot] };
}

async function plainBoot() {
  const { loadPyodide } = await early.pyodide;
  const fresh = await loadPyodide({ indexURL: pyodideURL, stdout: () => {}, stderr: () => {} });
  progress("dosim", "Installing dosim");
  const problems = [];
  await fresh.loadPackage("dosim", {
    messageCallback: () => {},
    errorCallback: (m) => problems.push(m),
  });
  if (problems.length) throw new Error("could not install dosim: " + problems.join("; "));
  return fresh;
}

const utf8 = new TextEncoder();

function writeFiles(files, root = "") {
  const made = new Set();
  for (const [path, text] of Object.entries(files)) {
    const full = root + path;
    const dir = full.slice(0, full.lastIndexOf("/"));
    if (dir && !made.has(dir)) {
      py.FS.mkdirTree(dir);
      made.add(dir);
    }
    py.FS.writeFile(full, utf8.encode(text)); // bytes: Emscripten's own encoding is 8x slower
  }
}

function layDownFiles(files) {
  writeFiles(files.files);
  writeFiles(
    { "_dosim_sandbox.py": helperSource, "_dosim_boot.py": bootSource, "_dosim_playground.py": playgroundSource },
    "/sandbox-lib/",
  );
}

/** Start Python: from the snapshot if there is a usable one, else plainly. */
async function boot() {
  const t0 = performance.now();
  progress("runtime", "Loading the Python runtime");
  const manifest = await early.manifest;
  let how = "plain";
  let fallback = null;
  if (allowSnapshot && manifest.snapshot) {
    try {
      const snapshot = await early.snapshot;
      snapshot.filled.catch(() => {}); // awaited in bootFromSnapshot; may fail before that
      py = await bootFromSnapshot(snapshot);
      early.snapshot = null; // 31 MiB the garbage collector may take back
      mark("snapshot restored");
      const files = await early.files;
      layDownFiles(files);
      // A snapshot keeps dosim's modules, not its files (lazy imports, tracebacks and
      // importlib.metadata read them): write them back.
      // Pyodide's own record of site-packages; importing sysconfig would cost 30 ms.
      const sitePackages = py._api?.sitePackages || py.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
      writeFiles(files.site_files, sitePackages + "/");
      writeFiles(files.packages || {}, sitePackages + "/"); // what the apps import besides dosim
      py.runPython("import _dosim_boot; _dosim_boot.after_restore()");
      mark("files laid down");
      how = "snapshot";
    } catch (error) {
      fallback = String(error && error.message ? error.message : error);
      py = null;
      progress("runtime", "Snapshot unusable; loading the Python runtime");
    }
  }
  if (!py) {
    py = await plainBoot();
    const files = await early.files;
    layDownFiles(files);
    const sitePackages = py._api?.sitePackages || py.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
    writeFiles(files.packages || {}, sitePackages + "/"); // what the apps import besides dosim
    progress("import", "Importing dosim");
    py.runPython(
      "import importlib, sys; importlib.invalidate_caches(); sys.path.insert(0, '/sandbox-lib'); " +
        "import _dosim_boot; _dosim_boot.prepare()",
    );
  }
  helper = py.pyimport("_dosim_sandbox");
  py.setStdout(makeWriter("stdout"));
  py.setStderr(makeWriter("stderr"));
  return { boot: how, fallback, ms: Math.round(performance.now() - t0) };
}

// Python starts loading at once; "init" (with the interrupt buffer) joins in later.
const booting = boot();
booting.catch(() => {});

// -- Interrupts ---------------------------------------------------------------------------
// Python looks at its interrupt buffer every 50 checks of its eval loop: Pyodide reads
// buffer[0], then writes 0, in two steps. A SIGINT the page writes between the two is
// lost; in `while True: pass` the checks come about every microsecond, and 2 to 7 % of
// Stops were lost (each then restarted Python). So Python gets an "exact" slot instead
// of the buffer: reading it takes the value and clears it in one atomic step, and
// Pyodide's write of 0 is ignored. That Pyodide only indexes the buffer is its own
// detail: a self-test at start-up checks that the slot raises KeyboardInterrupt, and if
// it does not, Python gets the plain buffer (and the page re-sends SIGINT often).
// The interrupt is armed only while the reader's code runs (see `armed` below): a SIGINT
// that arrives between runs waits in the buffer and cannot hit the warm-up, the Objects
// panel's snapshot or the worker's own code.
let interrupts = null; // {buffer, slot, mode: "exact" | "plain"}

function exactSlot(buffer) {
  return {
    get 0() {
      return Atomics.exchange(buffer, 0, 0);
    },
    set 0(_) {},
  };
}

/** Whether SIGINT through `slot` raises KeyboardInterrupt in Python code. */
function interruptsThrough(slot, buffer) {
  py.setInterruptBuffer(slot);
  Atomics.store(buffer, 0, 2);
  try {
    py.runPython("for _ in range(1000): pass");
    return false;
  } catch (error) {
    return error?.type === "KeyboardInterrupt";
  } finally {
    py.setInterruptBuffer(undefined);
    Atomics.store(buffer, 0, 0);
  }
}

function setUpInterrupts(buffer, wanted) {
  if (!buffer) return null;
  if (wanted !== "plain") {
    const slot = exactSlot(buffer);
    if (interruptsThrough(slot, buffer)) return { buffer, slot, mode: "exact" };
  }
  return { buffer, slot: buffer, mode: "plain" };
}

async function init({ interruptBuffer, interruptMode }) {
  startTalking();
  const facts = await booting;
  interrupts = setUpInterrupts(interruptBuffer, interruptMode);
  mark("ready");
  progress("ready", "Ready");
  post({
    type: "ready",
    isolated: self.crossOriginIsolated === true,
    interrupt: interrupts ? interrupts.mode : false,
    marks,
    version: py.version,
    ...facts,
  });
  // Runs queue behind this (see sandbox_boot.warm_up); its output goes nowhere, and a
  // failure here (or a Stop that lands on it) only means a slower first run.
  try {
    await py.runPythonAsync("import _dosim_boot\nawait _dosim_boot.warm_up()");
  } catch {
    // nothing to do
  }
  mark("warmed up");
}

// Wall-clock times (ms since the epoch, comparable with the page's) of the current run,
// sent with "done" so the benchmark can tell the worker's share from the page's.
const epochNow = () => performance.timeOrigin + performance.now();
let timing = null;

// The reader's code runs with the interrupt armed, and nothing else: Python arms it just
// before the helper's call and disarms it just after. A SIGINT that hit the machinery
// handing the result back to JavaScript could leave the run hanging for good (6 % of
// runs when the page re-sent SIGINT every 4 ms); one that hits the helper's own lines,
// after the reader's code ended, is caught here: the run was stopped all the same.
const armed = (helperCall) => `try:
    _arm()
    _report = await _sb.${helperCall}
except KeyboardInterrupt:
    _report = None
finally:
    _disarm()
_report`;

async function call(id, helperCall, args) {
  timing = { started: epochNow() };
  if (interrupts && Atomics.exchange(interrupts.buffer, 0, 0) === 2) {
    // Stopped while it waited its turn (behind the warm-up or the previous run).
    post({ type: "done", id, result: { ok: false, stopped: true, before: true }, timing });
    return;
  }
  current = id;
  written = 0;
  const scope = py.toPy({
    _sb: helper,
    _arm: () => py.setInterruptBuffer(interrupts?.slot),
    _disarm: () => py.setInterruptBuffer(undefined),
    ...args,
  });
  try {
    let report;
    try {
      report = await py.runPythonAsync(armed(helperCall), { globals: scope });
    } finally {
      py.setInterruptBuffer(undefined);
    }
    const result = report === undefined ? { ok: false, stopped: true } : JSON.parse(report);
    const snapshot = args.key ? helper.snapshot(args.key) : '{"apps": []}';
    post({ type: "done", id, result, snapshot: JSON.parse(snapshot), timing });
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
    ready = init(msg).catch((error) => {
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
    await call(msg.id, "run(code, key, fresh, block)", {
      code: msg.code, key: msg.key, fresh: msg.fresh, block: msg.block,
    });
  } else if (msg.type === "advance") {
    await call(msg.id, "advance(key, var, seconds, block)", {
      key: msg.key, var: msg.var, seconds: msg.seconds, block: msg.block,
    });
  } else if (msg.type === "drop") {
    helper.drop(msg.key);
  } else if (msg.type === "pg") {
    await playgroundCall(msg);
  }
}

// -- Playground -------------------------------------------------------------------------
// The whole-app playground's ops (docs/sandbox/src/playground_helper.py, imported as
// _dosim_playground): {type:"pg", id, op, args} -> {type:"done", id, result, snapshot},
// with the interrupt armed around the op as around a run, and the app's Objects-panel
// snapshot with every answer. What the app sends its WebSocket clients arrives unasked,
// as {type:"pg-event", event}. pytest is not part of the boot: its wheels (listed in
// files.json's "test_wheels", served from ./wheels/) are fetched and unpacked into
// site-packages on the first "run_tests" only.
let playground = null;
let pytestInstalled = null; // the promise of the one installation

function playgroundModule() {
  if (!playground) {
    playground = py.pyimport("_dosim_playground");
    playground.set_event_sink((json) => post({ type: "pg-event", event: JSON.parse(json) }));
  }
  return playground;
}

async function installPytest() {
  const names = (await early.files).test_wheels || [];
  if (!names.length) throw new Error("this site serves no pytest wheels (files.json has no test_wheels)");
  const wheels = await Promise.all(
    names.map(async (name) => [name, new Uint8Array(await (await fetchOk(new URL(`./wheels/${name}`, import.meta.url))).arrayBuffer())]),
  );
  py.FS.mkdirTree("/tmp/wheels");
  const boot = py.pyimport("_dosim_boot");
  try {
    for (const [name, bytes] of wheels) {
      py.FS.writeFile(`/tmp/wheels/${name}`, bytes);
      boot.unpack_wheel(`/tmp/wheels/${name}`);
      py.FS.unlink(`/tmp/wheels/${name}`);
    }
  } finally {
    boot.destroy();
  }
}

async function playgroundCall({ id, op, args }) {
  timing = { started: epochNow() };
  if (interrupts && Atomics.exchange(interrupts.buffer, 0, 0) === 2) {
    post({ type: "done", id, result: { ok: false, stopped: true, before: true }, snapshot: { apps: [] }, timing });
    return;
  }
  let scope = null;
  current = id;
  written = 0;
  try {
    const module = playgroundModule();
    if (op === "run_tests") {
      pytestInstalled ??= installPytest();
      try {
        await pytestInstalled;
      } catch (error) {
        pytestInstalled = null; // a later run_tests tries again
        throw error;
      }
    }
    scope = py.toPy({
      _sb: module,
      _arm: () => py.setInterruptBuffer(interrupts?.slot),
      _disarm: () => py.setInterruptBuffer(undefined),
      op,
      args: JSON.stringify(args || {}),
    });
    let report;
    try {
      report = await py.runPythonAsync(armed("call(op, args)"), { globals: scope });
    } finally {
      py.setInterruptBuffer(undefined);
    }
    const result = report === undefined ? { ok: false, stopped: true } : JSON.parse(report);
    post({ type: "done", id, result, snapshot: JSON.parse(module.snapshot_json()), timing });
  } catch (error) {
    const message = String(error && error.message ? error.message : error);
    const failure = { type: "SandboxError", message, file: null, line: null, traceback: "" };
    post({ type: "done", id, result: { ok: false, error: failure }, snapshot: { apps: [] }, timing });
  } finally {
    scope?.destroy();
    current = null;
  }
}
