// Loaded into wrangler's Node.js process by tools/deploy_check.py (NODE_OPTIONS=--require).
// The deploy check must run offline: every attempt to resolve a host name or open a TCP
// connection is refused here, reported on stderr and appended to the file named by
// DEPLOY_CHECK_NET_LOG, so the Python side fails even when wrangler swallows the error
// (its update check and telemetry ignore network failures).
"use strict";

const fs = require("node:fs");
const net = require("node:net");
const dns = require("node:dns");

const LOG = process.env.DEPLOY_CHECK_NET_LOG;

function refuse(what) {
  const line = `deploy_check: blocked ${what} (wrangler must not use the network here)`;
  process.stderr.write(line + "\n");
  if (LOG) fs.appendFileSync(LOG, line + "\n");
  const error = new Error(line);
  error.code = "EDEPLOYCHECKOFFLINE";
  return error;
}

function target(args) {
  const first = args[0];
  if (Array.isArray(first)) return target(first); // internal [options, callback] form
  if (first && typeof first === "object") {
    if (first.path) return null; // a local (Unix) socket or pipe
    return `${first.host ?? "localhost"}:${first.port}`;
  }
  if (typeof first === "string" && !/^\d+$/.test(first)) return null; // a pipe path
  return `${args[1] ?? "localhost"}:${first}`;
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const where = target(args);
  if (where === null) return connect.apply(this, args);
  const error = refuse(`a TCP connection to ${where}`);
  process.nextTick(() => this.destroy(error));
  return this;
};

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, ...rest) {
  const callback = rest[rest.length - 1];
  const error = refuse(`a DNS lookup of ${hostname}`);
  if (typeof callback === "function") process.nextTick(() => callback(error));
  else return lookup.call(dns, hostname, ...rest);
};
dns.promises.lookup = async function guardedPromiseLookup(hostname) {
  throw refuse(`a DNS lookup of ${hostname}`);
};
