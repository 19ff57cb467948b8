// The file format of the sandbox's memory snapshot: the interpreter's linear memory
// without its all-zero pages, which are about 40 % of it.
//
//   "DOSIMSN1"                       8 bytes, magic
//   length, pageSize, pageCount      3 × uint32, little endian
//   bitmap                           ceil(pageCount / 8) bytes; bit i set = page i stored
//   pages                            the stored pages in order (the last may be short)
//
// Used by snapshot/make_snapshot.mjs (Node, at build time) and worker.js (browser).
const MAGIC = "DOSIMSN1";
const HEADER = MAGIC.length + 12;
const PAGE = 4096;

/** Pack `memory` (a Uint8Array) into the format above. */
export function packSnapshot(memory) {
  const pageCount = Math.ceil(memory.length / PAGE);
  const bitmap = new Uint8Array(Math.ceil(pageCount / 8));
  const pages = [];
  for (let i = 0; i < pageCount; i++) {
    const page = memory.subarray(i * PAGE, Math.min((i + 1) * PAGE, memory.length));
    if (page.some((byte) => byte !== 0)) {
      bitmap[i >> 3] |= 1 << (i & 7);
      pages.push(page);
    }
  }
  const size = HEADER + bitmap.length + pages.reduce((sum, page) => sum + page.length, 0);
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, memory.length, true);
  view.setUint32(12, PAGE, true);
  view.setUint32(16, pageCount, true);
  out.set(bitmap, HEADER);
  let at = HEADER + bitmap.length;
  for (const page of pages) {
    out.set(page, at);
    at += page.length;
  }
  return out;
}

/**
 * Unpack a file in the format above; throws on anything else. `into`: a zero-filled
 * Uint8Array of the memory's length to unpack into (else a new one is made).
 */
export function unpackSnapshot(packed, into = null) {
  const bytes = packed instanceof Uint8Array ? packed : new Uint8Array(packed);
  if (bytes.length < HEADER || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new Error("not a dosim memory snapshot");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8, true);
  const page = view.getUint32(12, true);
  const pageCount = view.getUint32(16, true);
  if (pageCount !== Math.ceil(length / page)) throw new Error("damaged dosim memory snapshot");
  if (into && into.length !== length) throw new Error("dosim memory snapshot of another size");
  const memory = into || new Uint8Array(length);
  let at = HEADER + Math.ceil(pageCount / 8);
  for (let i = 0; i < pageCount; i++) {
    if (!(bytes[HEADER + (i >> 3)] & (1 << (i & 7)))) continue;
    const size = Math.min(page, length - i * page);
    if (at + size > bytes.length) throw new Error("truncated dosim memory snapshot");
    memory.set(bytes.subarray(at, at + size), i * page);
    at += size;
  }
  if (at !== bytes.length) throw new Error("damaged dosim memory snapshot");
  return memory;
}
