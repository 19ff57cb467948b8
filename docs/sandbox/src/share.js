// Code in the URL fragment: deflate-raw (CompressionStream) + base64url.
// Fragment form: #sandbox-<block>=<payload>. Opening such a link restores the code of
// that block in its editor; it never runs by itself.
export const PREFIX = "sandbox-";

function toBase64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(b64 + "===".slice((b64.length + 3) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

export async function encode(code) {
  return toBase64url(await pipe(new TextEncoder().encode(code), new CompressionStream("deflate-raw")));
}

export async function decode(payload) {
  return new TextDecoder().decode(await pipe(fromBase64url(payload), new DecompressionStream("deflate-raw")));
}

export async function linkFor(block, code) {
  const url = new URL(location.href);
  url.hash = `${PREFIX}${block}=${await encode(code)}`;
  return url.href;
}

/** {block, code} from the current fragment, or null. */
export async function fromLocation() {
  const match = /^#sandbox-(\d+)=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!match) return null;
  try {
    return { block: Number(match[1]), code: await decode(match[2]) };
  } catch {
    return { block: Number(match[1]), code: null };
  }
}
