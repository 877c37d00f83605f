// Structural sharing between scans: a record SendGrid answers unchanged keeps the object, and the parse
// result, the previous scan made for it. A repeated scan of unchanged certificates then neither decodes
// nor hashes a PEM, keeps little alive beyond the answers themselves, and whatever is keyed by these
// objects downstream (metric label sets) stays valid. Pure; compares values, never trusts an id alone.

import { parseCertificate } from "../certs/parse.js";
import type { ScannedCertificate, ScannedIntegration } from "../core/inventory.js";
import type { ApiCertificate, Integration } from "../core/model.js";

/**
 * Equal as plain data: the same fields, each the same primitive or the same instant. Any other kind of
 * value counts as changed, so a field added to the model later can cost a reuse, never hide a change.
 */
export function sameRecord(a: object, b: object): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const before: unknown = (a as Record<string, unknown>)[key];
    const now: unknown = (b as Record<string, unknown>)[key];
    if (before === now) continue;
    if (!(before instanceof Date && now instanceof Date && before.getTime() === now.getTime())) return false;
  }
  return true;
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/**
 * One integration's listing as scanned data: each certificate the previous scan saw unchanged is its
 * previous object, each other one is parsed; the previous result itself when nothing changed.
 */
export function scannedIntegration(
  previous: ScannedIntegration | undefined,
  integration: Integration,
  listed: readonly ApiCertificate[],
): ScannedIntegration {
  const known = new Map(
    (previous?.certificates ?? []).map((certificate) => [certificate.api.id, certificate]),
  );
  const certificates = listed.map((api): ScannedCertificate => {
    const before = known.get(api.id);
    return before && sameRecord(before.api, api) ? before : { api, parsed: parseCertificate(api.pem) };
  });
  if (!previous?.certificates) return { integration, certificates, error: null };
  const sameIntegration = sameRecord(previous.integration, integration);
  const sameCertificates = sameItems(previous.certificates, certificates);
  if (sameIntegration && sameCertificates && previous.error === null) return previous;
  return {
    integration: sameIntegration ? previous.integration : integration,
    certificates: sameCertificates ? previous.certificates : certificates,
    error: null,
  };
}
