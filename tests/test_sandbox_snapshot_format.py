"""The sandbox's memory-snapshot file format (docs/sandbox/src/snapshot_format.js), in Node.

The build packs the interpreter's memory without its all-zero pages and the worker unpacks
it; a damaged or foreign file must be refused (the worker then boots Pyodide plainly)
rather than restored into a broken interpreter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("runs Node.js from CPython", allow_module_level=True)

FORMAT = Path(__file__).resolve().parent.parent / "docs" / "sandbox" / "src" / "snapshot_format.js"
NODE = shutil.which("node")

SCRIPT = """
const { packSnapshot, unpackSnapshot } = await import(process.argv[1]);
const report = {};
// 5 pages and a short tail: zero, data, zero, data at both ends, zero; data in the tail.
const memory = new Uint8Array(5 * 4096 + 100);
memory[4096] = 1;
memory[3 * 4096] = 7;
memory[4 * 4096 - 1] = 9;
memory[5 * 4096 + 99] = 3;
const packed = packSnapshot(memory);
report.packedBytes = packed.length;
const back = unpackSnapshot(packed.buffer.slice(0));
report.roundTrip = back.length === memory.length && back.every((b, i) => b === memory[i]);
const errors = (bytes) => {
  try { unpackSnapshot(bytes); return null; } catch (e) { return e.message; }
};
report.truncated = errors(packed.subarray(0, packed.length - 1));
report.extra = errors(new Uint8Array([...packed, 0]));
report.foreign = errors(new TextEncoder().encode("<!doctype html><title>404</title>"));
report.empty = errors(new Uint8Array(0));
const into = new Uint8Array(memory.length);
report.intoSame = unpackSnapshot(packed, into) === into && into.every((b, i) => b === memory[i]);
try {
  unpackSnapshot(packed, new Uint8Array(memory.length + 1));
} catch (e) {
  report.wrongSize = e.message;
}
const zeros = packSnapshot(new Uint8Array(3 * 4096));
report.allZeroBytes = zeros.length;
report.allZeroBack = unpackSnapshot(zeros).length;
console.log(JSON.stringify(report));
"""


@pytest.fixture(scope="module")
def report() -> dict:
    if NODE is None:
        pytest.fail("node (Node.js 20+) is needed for the sandbox and is missing")
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, FORMAT.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_round_trip_keeps_every_byte(report) -> None:
    assert report["roundTrip"] is True


def test_unpacks_into_memory_allocated_beforehand(report) -> None:
    assert report["intoSame"] is True
    assert report["wrongSize"] == "dosim memory snapshot of another size"


def test_zero_pages_are_left_out(report) -> None:
    header, bitmap = 20, 1
    stored = 4096 + 4096 + 100  # page 1, page 3 (marks at its first and last byte), tail
    assert report["packedBytes"] == header + bitmap + stored
    assert report["allZeroBytes"] == header + bitmap
    assert report["allZeroBack"] == 3 * 4096


def test_damaged_or_foreign_files_are_refused(report) -> None:
    assert report["truncated"] == "truncated dosim memory snapshot"
    assert report["extra"] == "damaged dosim memory snapshot"
    assert report["foreign"] == "not a dosim memory snapshot"
    assert report["empty"] == "not a dosim memory snapshot"
