// undici's Pool, request() and global dispatcher, loaded without undici's index. The index also loads
// fetch, WebSocket and a cookie module that reads globalThis.Headers, which makes Node load its own
// bundled copy of undici: 50-100 ms of every start-up and 9-14 MB of a daemon's memory, for nothing the
// transport uses (docs/performance.md). undici declares no "exports" map, so its files are reachable, and
// the index exports these same objects (request() is what it puts on Dispatcher.prototype).
// test/http/undici.spec.ts fails if an upgrade moves a file or makes it something else.

import { createRequire } from "node:module";
import type { Dispatcher, Pool as UndiciPool } from "undici";

export const UNDICI_FILES = {
  pool: "undici/lib/dispatcher/pool.js",
  request: "undici/lib/api/api-request.js",
  global: "undici/lib/global.js",
} as const;

const require = createRequire(import.meta.url);

export const Pool = require(UNDICI_FILES.pool) as typeof UndiciPool;
export type Pool = UndiciPool;

const requestOn = require(UNDICI_FILES.request) as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

/**
 * undici's getGlobalDispatcher(): its default Agent unless something set another. Loaded on first call:
 * the file creates that Agent when it loads, and only the metadata source needs it.
 */
export function getGlobalDispatcher(): Dispatcher {
  return (require(UNDICI_FILES.global) as { getGlobalDispatcher: () => Dispatcher }).getGlobalDispatcher();
}

/** `dispatcher.request(options)` as undici's index defines it. */
export function request(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return requestOn.call(dispatcher, options);
}
