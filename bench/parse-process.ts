// Child process: parse cost in a process whose parse cache starts empty. Times the scanner's parse step
// (src/scan/reuse.ts, @peculiar/x509 underneath) on distinct PEMs against node:crypto's X509Certificate
// reading the same fields, then the same step for a second scan that gets the same records as new
// objects, the way a new API answer brings them.

import { X509Certificate } from "node:crypto";
import { parseCertificate, parseStats } from "../src/certs/parse.js";
import type { ScannedIntegration } from "../src/core/inventory.js";
import type { ApiCertificate, Integration } from "../src/core/model.js";
import { scannedIntegration } from "../src/scan/reuse.js";
import { benchCertificates } from "./certs.js";
import { serve } from "./ipc.js";
import { median, timed } from "./stats.js";

export interface ParseRun {
  readonly integrations: number;
  readonly certificatesPerIntegration: number;
  readonly warmup: number;
}

interface PassStats {
  readonly parses: number;
  readonly cacheHits: number;
}

export interface ParseMeasurement {
  /** Scan 1's parse step: every certificate new. */
  readonly peculiarMs: number;
  readonly nativeMs: number;
  /** A repeated scan's parse step, every certificate unchanged: the median of REPEATS. */
  readonly repeatedMs: number;
  /** parseCertificate alone on the unchanged PEMs, its own cache (a base64 decode and SHA-256 each): median. */
  readonly hashCacheMs: number;
  readonly firstPass: PassStats;
  readonly secondPass: PassStats;
}

interface Listing {
  readonly integration: Integration;
  readonly certificates: readonly ApiCertificate[];
}

const BASE_TIME = Date.UTC(2026, 0, 1);
const REPEATS = 5;

/** The records an API answer would give, as new objects (and new strings) on every call. */
function listings(pems: readonly string[], integrations: number, per: number): Listing[] {
  return Array.from({ length: integrations }, (_, i) => {
    const id = `integration-${i}`;
    return {
      integration: {
        id,
        name: `IdP ${i}`,
        enabled: true,
        completed: true,
        entityId: `https://idp-${i}.example/entity`,
        signinUrl: `https://idp-${i}.example/sso`,
        signoutUrl: `https://idp-${i}.example/slo`,
        singleSignonUrl: null,
        audienceUrl: null,
        lastUpdated: new Date(BASE_TIME),
      },
      certificates: pems.slice(i * per, (i + 1) * per).map((pem, j) => ({
        id: String(66_138_975 + i * per + j),
        integrationId: id,
        pem: Buffer.from(pem).toString("utf8"),
        enabled: true,
        notBefore: new Date(BASE_TIME),
        notAfter: new Date(BASE_TIME + 86_400_000),
      })),
    };
  });
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

function statsSince(before: PassStats): PassStats {
  const now = parseStats();
  return { parses: now.parses - before.parses, cacheHits: now.cacheHits - before.cacheHits };
}

function scanStep(listed: readonly Listing[], previous: ReadonlyMap<string, ScannedIntegration>) {
  return listed.map((l) => scannedIntegration(previous.get(l.integration.id), l.integration, l.certificates));
}

function requireParsed(scanned: readonly ScannedIntegration[], expected: number): void {
  const parsed = scanned.flatMap((s) => s.certificates ?? []).filter((c) => c.parsed.ok).length;
  if (parsed !== expected) throw new Error(`${parsed} of ${expected} bench certificates parsed`);
}

serve({
  async run(options: ParseRun): Promise<ParseMeasurement> {
    const count = options.integrations * options.certificatesPerIntegration;
    const all = await benchCertificates(count + options.warmup);
    const measured = all.slice(0, count);
    // Distinct certificates of their own, so warming the code up leaves the measured ones uncached.
    const warmup = all.slice(count);
    for (const pem of warmup) readNative(pem);
    scanStep(listings(warmup, warmup.length, 1), new Map());

    const native = await timed(() => measured.map(readNative));

    const first = listings(measured, options.integrations, options.certificatesPerIntegration);
    const beforeFirst = parseStats();
    const scan1 = await timed(() => scanStep(first, new Map()));
    const firstPass = statsSince(beforeFirst);
    requireParsed(scan1.value, count);

    // A repeated scan finds everything warm whichever time it runs: the median of several is its cost.
    const previous = new Map(scan1.value.map((s) => [s.integration.id, s]));
    const repeated: number[] = [];
    const hashCache: number[] = [];
    let secondPass: PassStats = { parses: 0, cacheHits: 0 };
    for (let i = 0; i < REPEATS; i++) {
      const again = listings(measured, options.integrations, options.certificatesPerIntegration);
      const before = parseStats();
      const scan = await timed(() => scanStep(again, previous));
      if (i === 0) secondPass = statsSince(before);
      requireParsed(scan.value, count);
      repeated.push(scan.ms);
      const pems = again.flatMap((l) => l.certificates.map((c) => c.pem));
      hashCache.push((await timed(() => pems.map(parseCertificate))).ms);
    }
    return {
      peculiarMs: scan1.ms,
      nativeMs: native.ms,
      repeatedMs: median(repeated),
      hashCacheMs: median(hashCache),
      firstPass,
      secondPass,
    };
  },
});
