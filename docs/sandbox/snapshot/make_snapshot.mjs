// Build-time memory snapshot of the sandbox's interpreter (run by hooks/sandbox.py).
//
//   node make_snapshot.mjs <pyodide dir> <dosim wheel> <sandbox src dir> <out.bin.gz>
//
// Boots the pinned Pyodide in Node with the private `_makeSnapshot` option, unpacks the
// dosim wheel into site-packages, runs sandbox_boot.prepare() (imports dosim, its
// modules and the page helper) and writes `pyodide.makeMemorySnapshot()` without its
// all-zero pages (src/snapshot_format.js: 31 MiB become 18), gzip-compressed (7.6 MB on
// the wire; the worker inflates it with DecompressionStream while it downloads, which
// cost nothing measurable on localhost and saves 10 MB for every reader).
// The browser restores it (worker.js) and skips boot, install and imports. A snapshot
// only fits the exact Pyodide build that made it, so the hook rebuilds it whenever the
// npm package, the wheel or these sources change. Prints one JSON line of figures.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { packSnapshot } from "../src/snapshot_format.js";

const [pyodideDir, wheelPath, srcDir, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: node make_snapshot.mjs <pyodide dir> <dosim wheel> <sandbox src dir> <out.bin.gz>");
  process.exit(2);
}
// Pyodide decides at start-up, in C, whether run_sync (JSPI stack switching) works, and
// that choice is part of the memory a snapshot saves: made without JSPI, the restored
// interpreter refuses run_sync (so asyncio.run, and with it the playground's async tests)
// even in a browser that has JSPI. hooks/sandbox.py runs Node with JSPI on.
if (!("Suspending" in WebAssembly || "Suspender" in WebAssembly)) {
  console.error("make_snapshot.mjs: this Node has no JSPI (run it with --experimental-wasm-stack-switching)");
  process.exit(3);
}
const indexURL = resolve(pyodideDir) + "/"; // Node wants a path here, not a file: URL
const { loadPyodide } = await import(pathToFileURL(join(indexURL, "pyodide.mjs")).href);

const t0 = performance.now();
const py = await loadPyodide({ indexURL, _makeSnapshot: true, stdout: () => {}, stderr: (s) => console.error(s) });
py.FS.writeFile("/tmp/dosim.whl", readFileSync(wheelPath));
py.FS.mkdirTree("/sandbox-lib");
py.FS.writeFile("/sandbox-lib/_dosim_sandbox.py", readFileSync(join(srcDir, "sandbox_helper.py")));
py.FS.writeFile("/sandbox-lib/_dosim_boot.py", readFileSync(join(srcDir, "sandbox_boot.py")));
py.FS.writeFile("/sandbox-lib/_dosim_playground.py", readFileSync(join(srcDir, "playground_helper.py")));
const skipped = py.runPython(`
import sys
sys.path.insert(0, "/sandbox-lib")
import _dosim_boot
_dosim_boot.unpack_wheel("/tmp/dosim.whl")
_dosim_boot.prepare()
`).toJs();
const modules = py.runPython("import sys; len(sys.modules)");
const bootMs = performance.now() - t0;
const raw = py.makeMemorySnapshot();
const packed = packSnapshot(raw);
const compressed = gzipSync(packed, { level: 6 });
writeFileSync(outPath + ".part", compressed);
renameSync(outPath + ".part", outPath);
console.log(JSON.stringify({
  bytes: raw.length, packed_bytes: packed.length, gzip_bytes: compressed.length, modules, skipped,
  boot_ms: Math.round(bootMs), total_ms: Math.round(performance.now() - t0), version: py.version,
}));
