// Asserts the `check --json` / `/api/v1/inventory` document of SPEC.md: exact key sets at every level
// (SPEC's keys plus the documented additions), ISO-8601 UTC dates, lowercase colon-free fingerprints.
import { expect } from "vitest";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const REPORT_KEYS = ["accounts", "generated_at", "status"];
/** SPEC: name, integrations; added: scanned_at and error (why the account could not be read). */
export const ACCOUNT_KEYS = ["error", "integrations", "name", "scanned_at"];
/** SPEC: id, name, enabled, status, best_not_after, certificates; added: valid_certificates, error. */
export const INTEGRATION_KEYS = [
  "best_not_after",
  "certificates",
  "enabled",
  "error",
  "id",
  "idp",
  "name",
  "status",
  "valid_certificates",
];
export const IDP_KEYS = [
  "error",
  "signing_certificate_trusted",
  "signing_fingerprint_sha256",
  "signing_not_after",
  "source",
];
export const CERTIFICATE_KEYS = [
  "enabled",
  "error",
  "expires_in_seconds",
  "fingerprint_sha256",
  "id",
  "issuer",
  "not_after",
  "not_before",
  "serial_number",
  "status",
  "subject",
];

function expectIso(value: unknown, nullable: boolean): void {
  if (nullable && value === null) return;
  expect(value).toMatch(ISO);
  expect(new Date(value as string).toISOString()).toBe(value);
}

function expectKeys(value: unknown, keys: readonly string[]): Record<string, unknown> {
  expect(value).toBeTypeOf("object");
  expect(Object.keys(value as object).sort()).toEqual(keys);
  return value as Record<string, unknown>;
}

function expectCertificate(value: unknown): void {
  const certificate = expectKeys(value, CERTIFICATE_KEYS);
  expect(certificate.id).toBeTypeOf("string");
  expect(["valid", "expiring", "expired", "not_yet_valid", "invalid"]).toContain(certificate.status);
  expect([true, false, null]).toContain(certificate.enabled);
  const invalid = certificate.status === "invalid";
  if (invalid) {
    expect(certificate.error).toMatch(/^[a-z_0-9]+: ./);
    for (const key of ["fingerprint_sha256", "subject", "issuer", "serial_number"]) {
      expect(certificate[key]).toBeNull();
    }
  } else {
    expect(certificate.error).toBeNull();
    expect(certificate.fingerprint_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(certificate.serial_number).toMatch(/^[0-9a-f]+$/);
    expect(certificate.subject).toBeTypeOf("string");
    expect(certificate.issuer).toBeTypeOf("string");
  }
  expectIso(certificate.not_before, invalid);
  expectIso(certificate.not_after, invalid);
  if (certificate.not_after === null) expect(certificate.expires_in_seconds).toBeNull();
  else expect(Number.isInteger(certificate.expires_in_seconds)).toBe(true);
}

function expectIntegration(value: unknown): void {
  const integration = expectKeys(value, INTEGRATION_KEYS);
  expect(integration.id).toBeTypeOf("string");
  expect(integration.name).toBeTypeOf("string");
  expect(integration.enabled).toBeTypeOf("boolean");
  expect(["ok", "warning", "critical", "unknown"]).toContain(integration.status);
  expectIso(integration.best_not_after, true);
  expect(Number.isInteger(integration.valid_certificates)).toBe(true);
  if (integration.error !== null) expect(integration.error).toMatch(/^[a-z_0-9]+: ./);
  expect(Array.isArray(integration.certificates)).toBe(true);
  if (integration.idp !== null) {
    const idp = expectKeys(integration.idp, IDP_KEYS);
    expect(["metadata", "okta", "entra"]).toContain(idp.source);
    expect([true, false, null]).toContain(idp.signing_certificate_trusted);
    expectIso(idp.signing_not_after, true);
    // Unknown only with a reason; known only without one.
    expect(idp.error === null).toBe(idp.signing_certificate_trusted !== null);
  }
  (integration.certificates as unknown[]).forEach(expectCertificate);
}

/** Checks the whole document; returns it typed loosely for further assertions. */
export function expectReportShape(value: unknown): ReportJson {
  const report = expectKeys(value, REPORT_KEYS);
  expectIso(report.generated_at, false);
  expect(["ok", "warning", "critical", "unknown"]).toContain(report.status);
  expect(Array.isArray(report.accounts)).toBe(true);
  for (const entry of report.accounts as unknown[]) {
    const account = expectKeys(entry, ACCOUNT_KEYS);
    expect(account.name).toBeTypeOf("string");
    expectIso(account.scanned_at, false);
    if (account.error !== null) expect(account.error).toMatch(/^[a-z_0-9]+: ./);
    (account.integrations as unknown[]).forEach(expectIntegration);
  }
  return value as ReportJson;
}

export interface CertificateJson {
  id: string;
  fingerprint_sha256: string | null;
  subject: string | null;
  issuer: string | null;
  serial_number: string | null;
  not_before: string | null;
  not_after: string | null;
  expires_in_seconds: number | null;
  enabled: boolean | null;
  status: string;
  error: string | null;
}

export interface IntegrationJson {
  id: string;
  name: string;
  enabled: boolean;
  status: string;
  best_not_after: string | null;
  valid_certificates: number;
  error: string | null;
  certificates: CertificateJson[];
}

export interface ReportJson {
  generated_at: string;
  status: string;
  accounts: { name: string; scanned_at: string; error: string | null; integrations: IntegrationJson[] }[];
}
