// The single entry point to @peculiar/x509. The library needs a Reflect polyfill (tsyringe) and a
// WebCrypto provider before first use; importing it from here guarantees both, in any process.

import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509, webcrypto };
