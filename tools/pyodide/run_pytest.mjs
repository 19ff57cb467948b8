// Run pytest inside Pyodide under Node.js, fully offline.
//
//   node --experimental-wasm-stack-switching tools/pyodide/run_pytest.mjs [runner options] [--] [pytest args]
//
// Normally started by run_tests.py (`nox -s pyodide`), which first prepares node_modules/ and the wheels
// in cache/. Runner options (only recognised at the front of the command line):
//   --pyodide-repo=DIR    repository root whose tests/ (+ pyproject.toml, conftest.py) are copied in
//                         (default: two levels above this file)
//   --pyodide-wheel=FILE  a wheel to install, repeatable
//                         (default: every *.whl in cache/wheels/ and cache/dist/)
// Everything else goes to pytest.main() after the defaults "-q -p no:cacheprovider"; with no path among
// the pytest arguments, "tests" is appended. An option taking a separate value that is not listed in
// VALUE_OPTS below must be written --opt=value, or its value is taken for a path.
// Paths are resolved on the host: files inside the repo are copied to the same relative place under
// /repo, files outside it (e.g. /tmp/test_x.py) are copied to /ext/<n>/ and the argument is rewritten.
//
// Exit status: pytest's exit code, or 90+ for a runner failure (see EXIT_* below).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYODIDE_DIR = path.join(HERE, "node_modules", "pyodide");
const CACHE = path.join(HERE, "cache");
const FS_ROOT = "/repo"; // where the repository's test files live inside Pyodide's MEMFS
const EXIT_SETUP = 90; // Pyodide failed to load / a wheel failed to install / JSPI missing
const EXIT_NETWORK = 91; // something tried to reach the network
const EXIT_PYTHON = 92; // the Python driver itself raised

const t0 = performance.now();
const timings = [];
const mark = (label, since) => {
  const now = performance.now();
  timings.push(`${label} ${((now - since) / 1000).toFixed(2)}s`);
  return now;
};
const log = (msg) => process.stderr.write(`[pyodide] ${msg}\n`);
const die = (code, msg) => {
  log(`ERROR: ${msg}`);
  process.exit(code);
};

// Anything escaping (e.g. an error thrown from a Pyodide event-loop callback): report it briefly
// instead of letting Node print the offending line of the 1 MB minified pyodide.asm.mjs.
for (const ev of ["uncaughtException", "unhandledRejection"]) {
  process.on(ev, (e) => die(EXIT_PYTHON, `${ev}: ${e?.stack ?? e}`));
}

// ---------------------------------------------------------------- arguments
let repo = path.resolve(HERE, "..", "..");
const wheels = [];
let argv = process.argv.slice(2);
while (argv.length) {
  const a = argv[0];
  const m = /^--pyodide-(repo|wheel)(?:=(.*))?$/.exec(a);
  if (a === "--") {
    argv.shift();
    break;
  }
  if (!m) break;
  argv.shift();
  const value = m[2] ?? argv.shift();
  if (value === undefined) die(EXIT_SETUP, `${a} needs a value`);
  if (m[1] === "repo") repo = path.resolve(value);
  else wheels.push(path.resolve(value));
}
if (!wheels.length) {
  for (const dir of ["wheels", "dist"]) {
    const d = path.join(CACHE, dir);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) if (f.endsWith(".whl")) wheels.push(path.join(d, f));
  }
}
if (!wheels.length) die(EXIT_SETUP, `no wheels given and none in ${CACHE} (run tools/pyodide/run_tests.py)`);
for (const w of wheels) if (!fs.existsSync(w)) die(EXIT_SETUP, `wheel not found: ${w}`);

// pytest options that take a separate value: their value is not a test path.
const VALUE_OPTS = new Set([
  "-k", "-m", "-p", "-o", "-c", "-W", "-r", "--deselect", "--ignore", "--ignore-glob", "--rootdir",
  "--confcutdir", "--basetemp", "--tb", "--maxfail", "--durations", "--durations-min", "--junitxml",
  "--junit-xml", "--junit-prefix", "--log-level", "--log-format", "--log-date-format", "--log-file",
  "--log-file-level", "--log-cli-level", "--override-ini", "--import-mode", "--capture", "--color",
  "--code-highlight", "--show-capture", "--pythonwarnings", "--inifile", "--config-file",
  "--assert", "--doctest-glob", "--doctest-report", "--debug", "--report-log",
]);

/** Host files to copy into the FS: [hostPath, fsPath]. */
const copies = [];
const copyIfExists = (rel) => {
  const host = path.join(repo, rel);
  if (fs.existsSync(host)) copies.push([host, path.posix.join(FS_ROOT, rel.split(path.sep).join("/"))]);
};
copyIfExists("pyproject.toml"); // same [tool.pytest.ini_options] as on CPython
copyIfExists("conftest.py");
copyIfExists("tests");
copyIfExists("examples"); // the starter apps: their tests run here too, and tests/ reads them
const copiedTop = new Set(["tests", "examples", "pyproject.toml", "conftest.py"]);

// Defaults: quiet, and never write .pytest_cache (MEMFS is thrown away anyway).
const pytestArgs = ["-q", "-p", "no:cacheprovider"];
let sawPath = false;
let extCount = 0;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a.startsWith("-")) {
    pytestArgs.push(a);
    if (VALUE_OPTS.has(a) && i + 1 < argv.length) pytestArgs.push(argv[++i]);
    continue;
  }
  sawPath = true;
  const sep = a.indexOf("::");
  const file = sep >= 0 ? a.slice(0, sep) : a;
  const rest = sep >= 0 ? a.slice(sep) : "";
  // Relative paths: from the current directory, else from the repository root.
  const fromRepo = fs.existsSync(path.resolve(file)) ? path.resolve(file) : path.resolve(repo, file);
  if (!fs.existsSync(fromRepo)) {
    pytestArgs.push(a); // let pytest report "file or directory not found"
    continue;
  }
  const rel = path.relative(repo, fromRepo);
  if (!rel.startsWith("..") && !path.isAbsolute(rel) && rel !== "") {
    const top = rel.split(path.sep)[0];
    if (!copiedTop.has(top)) {
      copiedTop.add(top);
      copyIfExists(top);
    }
    pytestArgs.push(rel.split(path.sep).join("/") + rest);
  } else {
    const dest = `/ext/${extCount++}/${path.basename(fromRepo)}`;
    copies.push([fromRepo, dest]);
    pytestArgs.push(dest + rest);
  }
}
if (!sawPath) pytestArgs.push("tests", "examples");

// ---------------------------------------------------------------- no network
// Everything must come from node_modules/ and cache/. Pyodide falls back to its CDN when a package is
// missing locally; make that (and any other fetch) fail loudly instead of silently downloading.
const blocked = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = typeof input === "string" ? input : (input?.url ?? String(input));
  if (url.startsWith("file:") || process.env.DOSIM_PYODIDE_ALLOW_NETWORK === "1") {
    return realFetch(input, init);
  }
  blocked.push(url);
  log(`BLOCKED network fetch: ${url}`);
  throw new Error(`network access is disabled in the Pyodide test runner: ${url}`);
};

// ---------------------------------------------------------------- boot
if (!fs.existsSync(path.join(PYODIDE_DIR, "pyodide.mjs"))) {
  die(EXIT_SETUP, `${PYODIDE_DIR} missing: run \`npm ci\` in ${HERE} (run_tests.py does this)`);
}
const { loadPyodide, version } = await import(pathToFileURL(path.join(PYODIDE_DIR, "pyodide.mjs")).href);

const env = { HOME: "/home/pyodide" };
for (const [k, v] of Object.entries(process.env)) {
  if (k === "CI" || k === "PYTEST_ADDOPTS" || k === "PYTHONHASHSEED" || k.startsWith("DOSIM_")) env[k] = v;
}

let t = performance.now();
let py;
try {
  py = await loadPyodide({
    indexURL: PYODIDE_DIR + path.sep, // local: never the CDN
    packageCacheDir: PYODIDE_DIR + path.sep,
    env,
    stdout: (s) => process.stdout.write(s + "\n"), // replaced by raw writers below
    stderr: (s) => process.stderr.write(s + "\n"),
  });
} catch (e) {
  die(EXIT_SETUP, `loadPyodide failed: ${e?.stack ?? e}`);
}
// Raw (unbuffered) streams so pytest's progress dots appear as they happen.
const rawWriter = (stream) => ({
  write: (buf) => {
    stream.write(buf);
    return buf.length;
  },
  isatty: false,
});
py.setStdout(rawWriter(process.stdout));
py.setStderr(rawWriter(process.stderr));
t = mark("boot", t);

// ---------------------------------------------------------------- install wheels
// loadPackage() of a local wheel path installs it (dist-info included, so entry points such as
// pytest11 work) without consulting the lock file. It reports failures through errorCallback and
// still resolves, so collect them and fail on any.
const loadErrors = [];
const loaded = await py.loadPackage(wheels, {
  messageCallback: (m) => log(m),
  errorCallback: (m) => {
    loadErrors.push(m);
    log(`loadPackage error: ${m}`);
  },
  checkIntegrity: false,
});
if (loadErrors.length) die(EXIT_SETUP, `loadPackage reported ${loadErrors.length} error(s); see above`);
if (loaded.length !== wheels.length) {
  die(EXIT_SETUP, `asked loadPackage for ${wheels.length} wheels, it installed ${loaded.length}: ` +
    JSON.stringify(loaded.map((p) => `${p.name} ${p.version}`)));
}
t = mark("install", t);

// ---------------------------------------------------------------- copy test files
let nFiles = 0;
const copyTree = (host, dest) => {
  const st = fs.statSync(host);
  if (st.isDirectory()) {
    const base = path.basename(host);
    if (base === "__pycache__" || base === ".pytest_cache" || base === "node_modules") return;
    py.FS.mkdirTree(dest);
    for (const name of fs.readdirSync(host).sort()) copyTree(path.join(host, name), `${dest}/${name}`);
  } else if (st.isFile() && !host.endsWith(".pyc")) {
    py.FS.mkdirTree(path.posix.dirname(dest));
    py.FS.writeFile(dest, fs.readFileSync(host));
    nFiles++;
  }
};
py.FS.mkdirTree(FS_ROOT);
for (const [host, dest] of copies) copyTree(host, dest);
t = mark(`copy(${nFiles} files)`, t);

// ---------------------------------------------------------------- run pytest
// runPythonAsync, not runPython: with JSPI (node --experimental-wasm-stack-switching) that is what lets
// synchronous code such as asyncio.run() inside a test suspend on JavaScript promises.
const DRIVER = `
import os, sys, importlib.metadata as md
from pyodide.ffi import can_run_sync

# (RuntimeError, not SystemExit: a SystemExit escapes Pyodide's event loop instead of rejecting.)
if not can_run_sync():
    raise RuntimeError("JSPI_MISSING")

wanted = {str(n).lower().replace("_", "-") for n in wanted}
have = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in md.distributions()}
missing = sorted(wanted - set(have))
if missing:
    raise RuntimeError(f"installed wheels not visible to importlib.metadata: {missing}")
plugins = sorted(f"{ep.name}={ep.value}" for ep in md.entry_points(group="pytest11"))
print(f"[pyodide] Python {sys.version.split()[0]} on {sys.platform}; pytest11 entry points: {plugins}",
      file=sys.stderr, flush=True)

import pytest
os.chdir(cwd)
rc = int(pytest.main(list(args)))
sys.stdout.flush(); sys.stderr.flush()
rc
`;
let rc;
const ns = py.toPy({
  args: pytestArgs,
  cwd: FS_ROOT,
  wanted: loaded.map((p) => p.name),
});
try {
  log(`Pyodide ${version}; pytest ${pytestArgs.join(" ")}  (cwd ${FS_ROOT})`);
  rc = await py.runPythonAsync(DRIVER, { globals: ns, filename: "<dosim-pyodide-driver>" });
} catch (e) {
  const msg = String(e?.message ?? e);
  if (msg.includes("JSPI_MISSING")) {
    die(EXIT_SETUP, "WebAssembly stack switching (JSPI) is not available, so asyncio.run() cannot work: " +
      "run node with --experimental-wasm-stack-switching (Node 20-22).");
  }
  die(EXIT_PYTHON, `the Python driver failed:\n${msg}`);
} finally {
  ns.destroy();
}
mark("pytest", t);
timings.push(`node total ${((performance.now() - t0) / 1000).toFixed(2)}s`);
log(`timings: ${timings.join(", ")}`);

if (blocked.length) {
  die(EXIT_NETWORK, `${blocked.length} network request(s) were attempted (and blocked): ${blocked.join(", ")}`);
}
await new Promise((resolve) => process.stdout.write("", resolve));
process.exit(typeof rc === "number" ? rc : EXIT_PYTHON);
