// The single entry point to @peculiar/x509. The library needs a Reflect polyfill (tsyringe) and a
// WebCrypto provider before first use; x509() guarantees both, in any process or worker thread. It is
// loaded on first use, not at import: the daemon's main thread may never need it (scans parse in
// parse-pool.ts's worker), and it costs 0.1-0.2 s of start-up and several MB of heap.

import { webcrypto } from "node:crypto";
import { createRequire } from "node:module";
import type * as X509Module from "@peculiar/x509";

type X509 = typeof X509Module;

const require = createRequire(import.meta.url);
let loaded: X509 | null = null;

export function x509(): X509 {
  if (loaded) return loaded;
  require("reflect-metadata");
  const library = require("@peculiar/x509") as X509;
  library.cryptoProvider.set(webcrypto as unknown as Parameters<X509["cryptoProvider"]["set"]>[0]);
  return (loaded = library);
}

export { webcrypto };
