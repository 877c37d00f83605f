// Decides the status of every certificate, integration and account from (inventory, thresholds,
// overrides, now). Pure: the same input always gives the same answer, so check, metrics, the status page
// and the planner can never disagree about what is healthy.

import type { EnabledOverrides, Inventory, ScannedCertificate, ScannedIntegration } from "./inventory.js";
import type { RotationRule } from "../config/types.js";
import { idpTrust, type IdpTrust } from "./idp-trust.js";
import type { ApiCertificate, Failure, Integration, ParsedCertificate } from "./model.js";
import { watchesIdp, type Offer } from "./offer.js";
import { matchRule } from "./rules.js";
import { isUsable, type UsableCertificate } from "./usable.js";

export { isUsable, type UsableCertificate } from "./usable.js";

export type CertificateStatus = "valid" | "expiring" | "expired" | "not_yet_valid" | "invalid";
export type IntegrationStatus = "ok" | "warning" | "critical" | "unknown";
export type OverallStatus = IntegrationStatus;

export interface Thresholds {
  readonly warningMs: number;
  readonly criticalMs: number;
}

export interface CertificateState {
  readonly api: ApiCertificate;
  readonly parsed: ParsedCertificate | null;
  readonly failure: Failure | null;
  /** Enabled as far as logins go: the API's word, else "not disabled by this tool". */
  readonly enabled: boolean;
  /** What is known: the API's word, else false when this tool disabled it, else null (unknown). */
  readonly knownEnabled: boolean | null;
  readonly status: CertificateStatus;
  /** Dates of the PEM when it parsed, else what the API said. */
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
  readonly expiresInMs: number | null;
}

export interface IntegrationState {
  readonly integration: Integration;
  readonly certificates: readonly CertificateState[];
  readonly status: IntegrationStatus;
  /** The enabled, currently valid certificate with the latest notAfter: what logins depend on. */
  readonly best: UsableCertificate | null;
  readonly validCount: number;
  readonly error: Failure | null;
  /** The lockout detector, for an integration whose rule reads an IdP; null otherwise. */
  readonly idp: IdpTrust | null;
}

/** The sources read with the scan: what the lockout detector compares SendGrid with. */
export interface SourceReadings {
  readonly rules: readonly RotationRule[];
  /** By index into rules. */
  readonly offers: ReadonlyMap<number, Offer>;
}

export interface AccountState {
  readonly account: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly error: Failure | null;
  readonly integrations: readonly IntegrationState[];
}

/** The PEM and the API disagree about a date by more than a minute: worth a log line, the PEM wins. */
export interface DateMismatch {
  readonly account: string;
  readonly integrationId: string;
  readonly certificateId: string;
  readonly field: "not_before" | "not_after";
  readonly pem: Date;
  readonly api: Date;
}

export interface Evaluation {
  readonly generatedAt: Date;
  readonly status: OverallStatus;
  readonly accounts: readonly AccountState[];
  readonly dateMismatches: readonly DateMismatch[];
}

const MISMATCH_TOLERANCE_MS = 60_000;
const SEVERITY: Record<IntegrationStatus, number> = { ok: 0, warning: 1, unknown: 2, critical: 3 };

export function certificateStatus(
  parsed: ParsedCertificate | null,
  thresholds: Thresholds,
  now: Date,
): CertificateStatus {
  if (!parsed) return "invalid";
  const t = now.getTime();
  if (t < parsed.notBefore.getTime()) return "not_yet_valid";
  if (t >= parsed.notAfter.getTime()) return "expired";
  return parsed.notAfter.getTime() - t <= thresholds.warningMs ? "expiring" : "valid";
}

function evaluateCertificate(
  account: string,
  scanned: ScannedCertificate,
  overrides: EnabledOverrides,
  thresholds: Thresholds,
  now: Date,
): CertificateState {
  const { api, parsed } = scanned;
  const certificate = parsed.ok ? parsed.certificate : null;
  const notAfter = certificate?.notAfter ?? api.notAfter;
  const knownEnabled = api.enabled ?? (overrides.isDisabledByTool(account, api.id) ? false : null);
  return {
    api,
    parsed: certificate,
    failure: parsed.ok ? null : parsed.failure,
    enabled: knownEnabled ?? true,
    knownEnabled,
    status: certificateStatus(certificate, thresholds, now),
    notBefore: certificate?.notBefore ?? api.notBefore,
    notAfter,
    expiresInMs: notAfter ? notAfter.getTime() - now.getTime() : null,
  };
}

export function bestCertificate(certificates: readonly CertificateState[]): UsableCertificate | null {
  let best: UsableCertificate | null = null;
  for (const certificate of certificates) {
    if (isUsable(certificate) && (!best || certificate.notAfter > best.notAfter)) best = certificate;
  }
  return best;
}

function integrationStatus(
  best: UsableCertificate | null,
  error: Failure | null,
  idp: IdpTrust | null,
  thresholds: Thresholds,
): IntegrationStatus {
  if (error) return "unknown";
  // The IdP signs with a certificate SendGrid does not accept: logins fail now, whatever else is valid.
  if (!best || best.expiresInMs <= thresholds.criticalMs || idp?.trusted === false) return "critical";
  if (idp && idp.trusted === null) return "unknown";
  return best.expiresInMs <= thresholds.warningMs ? "warning" : "ok";
}

function idpOf(
  account: string,
  integration: Integration,
  certificates: readonly CertificateState[],
  sources: SourceReadings | null,
  now: Date,
): IdpTrust | null {
  if (!sources) return null;
  const index = matchRule(sources.rules, account, integration);
  const offer = index === null ? undefined : sources.offers.get(index);
  if (!offer || !watchesIdp(offer.source)) return null;
  return idpTrust({ ...offer, source: offer.source }, { certificates }, now);
}

function evaluateIntegration(
  account: string,
  scanned: ScannedIntegration,
  overrides: EnabledOverrides,
  thresholds: Thresholds,
  sources: SourceReadings | null,
  now: Date,
): IntegrationState {
  const certificates = (scanned.certificates ?? []).map((c) =>
    evaluateCertificate(account, c, overrides, thresholds, now),
  );
  const best = bestCertificate(certificates);
  // What the scan could not read cannot be compared with the IdP.
  const idp = scanned.error ? null : idpOf(account, scanned.integration, certificates, sources, now);
  return {
    integration: scanned.integration,
    certificates,
    status: integrationStatus(best, scanned.error, idp, thresholds),
    best,
    validCount: certificates.filter(isUsable).length,
    error: scanned.error,
    idp,
  };
}

function mismatches(account: string, state: IntegrationState): DateMismatch[] {
  const found: DateMismatch[] = [];
  for (const certificate of state.certificates) {
    if (!certificate.parsed) continue;
    for (const field of ["not_before", "not_after"] as const) {
      const pem = field === "not_before" ? certificate.parsed.notBefore : certificate.parsed.notAfter;
      const api = field === "not_before" ? certificate.api.notBefore : certificate.api.notAfter;
      if (api && Math.abs(api.getTime() - pem.getTime()) > MISMATCH_TOLERANCE_MS) {
        found.push({
          account,
          integrationId: state.integration.id,
          certificateId: certificate.api.id,
          field,
          pem,
          api,
        });
      }
    }
  }
  return found;
}

/**
 * The overall status ranks critical above unknown: a failed account must not hide an integration
 * we know is about to lock people out. Disabled integrations are shown but do not page.
 */
export function evaluate(
  inventory: Inventory,
  thresholds: Thresholds,
  overrides: EnabledOverrides,
  now: Date,
  sources: SourceReadings | null = null,
): Evaluation {
  let status: OverallStatus = "ok";
  const raise = (candidate: IntegrationStatus) => {
    if (SEVERITY[candidate] > SEVERITY[status]) status = candidate;
  };
  const dateMismatches: DateMismatch[] = [];
  const accounts = inventory.accounts.map((scanned): AccountState => {
    if (scanned.error) raise("unknown");
    const integrations = scanned.integrations.map((i) =>
      evaluateIntegration(scanned.account, i, overrides, thresholds, sources, now),
    );
    for (const state of integrations) {
      if (state.integration.enabled) raise(state.status);
      dateMismatches.push(...mismatches(scanned.account, state));
    }
    return {
      account: scanned.account,
      startedAt: scanned.startedAt,
      finishedAt: scanned.finishedAt,
      error: scanned.error,
      integrations,
    };
  });
  return { generatedAt: now, status, accounts, dateMismatches };
}
