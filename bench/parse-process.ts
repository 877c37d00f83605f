// Child process: parse cost in a process whose parse cache starts empty. Times parseCertificate
// (@peculiar/x509) on distinct PEMs against node:crypto's X509Certificate reading the same fields, then
// a second pass over the same PEMs: what a repeated scan of unchanged certificates spends.

import { X509Certificate } from "node:crypto";
import { parseCertificate, parseStats } from "../src/certs/parse.js";
import { benchCertificates } from "./certs.js";
import { serve } from "./ipc.js";
import { timed } from "./stats.js";

export interface ParseRun {
  readonly count: number;
  readonly warmup: number;
}

export interface ParseMeasurement {
  readonly peculiarMs: number;
  readonly nativeMs: number;
  /** Parse time of the second pass over the same PEMs. */
  readonly cachedMs: number;
  /** parseStats() deltas of the first and the second pass. */
  readonly firstPass: { readonly parses: number; readonly cacheHits: number };
  readonly secondPass: { readonly parses: number; readonly cacheHits: number };
}

/** The fields parseCertificate extracts, read the native way: what the limit is measured on. */
function readNative(pem: string): unknown {
  const certificate = new X509Certificate(pem);
  return {
    fingerprint: certificate.fingerprint256,
    subject: certificate.subject,
    issuer: certificate.issuer,
    serial: certificate.serialNumber,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    key: certificate.publicKey.asymmetricKeyDetails,
    selfIssued: certificate.checkIssued(certificate),
  };
}

function statsSince(before: { parses: number; cacheHits: number }) {
  const now = parseStats();
  return { parses: now.parses - before.parses, cacheHits: now.cacheHits - before.cacheHits };
}

function requireParsed(pems: readonly string[]): void {
  for (const pem of pems) {
    if (!parseCertificate(pem).ok) throw new Error("a bench certificate did not parse");
  }
}

serve({
  async run(options: ParseRun): Promise<ParseMeasurement> {
    const all = await benchCertificates(options.count + options.warmup);
    const measured = all.slice(0, options.count);
    // Distinct certificates of their own, so warming the code up leaves the measured ones uncached.
    const warmup = all.slice(options.count);
    for (const pem of warmup) readNative(pem);
    requireParsed(warmup);

    const native = await timed(() => measured.map(readNative));
    const start = parseStats();
    const first = await timed(() => requireParsed(measured));
    const firstPass = statsSince(start);
    const middle = parseStats();
    const second = await timed(() => requireParsed(measured));
    return {
      peculiarMs: first.ms,
      nativeMs: native.ms,
      cachedMs: second.ms,
      firstPass,
      secondPass: statsSince(middle),
    };
  },
});
