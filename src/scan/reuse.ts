// Structural sharing between scans: a record SendGrid answers unchanged keeps the object, and the parse
// result, the previous scan made for it. A repeated scan of unchanged certificates then neither decodes
// nor hashes a PEM, keeps little alive beyond the answers themselves, and whatever is keyed by these
// objects downstream (metric label sets) stays valid. Pure; compares values, never trusts an id alone.

import { parseCertificate } from "../certs/parse.js";
import type { ScannedCertificate, ScannedIntegration } from "../core/inventory.js";
import type { ApiCertificate, Integration, ParseResult } from "../core/model.js";

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

/** The previous scan's certificate for a record SendGrid answered unchanged; undefined when it changed. */
function keptFrom(
  previous: ScannedIntegration | undefined,
): (api: ApiCertificate) => ScannedCertificate | undefined {
  const known = new Map(
    (previous?.certificates ?? []).map((certificate) => [certificate.api.id, certificate]),
  );
  return (api) => {
    const before = known.get(api.id);
    return before && sameRecord(before.api, api) ? before : undefined;
  };
}

/** The records of a listing that the previous scan did not see as they are now: the ones to parse. */
export function recordsToParse(
  previous: ScannedIntegration | undefined,
  listed: readonly ApiCertificate[],
): ApiCertificate[] {
  const kept = keptFrom(previous);
  return listed.filter((api) => !kept(api));
}

/**
 * One integration's listing as scanned data: each certificate the previous scan saw unchanged is its
 * previous object, each other one is parsed (by `parse`, which may answer from results found earlier);
 * the previous result itself when nothing changed.
 */
export function scannedIntegration(
  previous: ScannedIntegration | undefined,
  integration: Integration,
  listed: readonly ApiCertificate[],
  parse: (api: ApiCertificate) => ParseResult = (api) => parseCertificate(api.pem),
): ScannedIntegration {
  const kept = keptFrom(previous);
  const certificates = listed.map((api): ScannedCertificate => kept(api) ?? { api, parsed: parse(api) });
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
