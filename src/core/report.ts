// The `check --json` / `/api/v1/inventory` document of SPEC.md, rendered from an Evaluation. Pure; its
// shape is a public contract (scripts parse it), so field names here are snake_case on purpose.

import type { CertificateState, Evaluation, IntegrationState } from "./status.js";

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

function certificateJson(state: CertificateState) {
  return {
    id: state.api.id,
    fingerprint_sha256: state.parsed?.fingerprintSha256 ?? null,
    subject: state.parsed?.subject ?? null,
    issuer: state.parsed?.issuer ?? null,
    serial_number: state.parsed?.serialNumber ?? null,
    not_before: iso(state.notBefore),
    not_after: iso(state.notAfter),
    expires_in_seconds: state.expiresInMs === null ? null : Math.floor(state.expiresInMs / 1000),
    enabled: state.knownEnabled,
    status: state.status,
    error: state.failure ? `${state.failure.reason}: ${state.failure.message}` : null,
  };
}

function integrationJson(state: IntegrationState) {
  return {
    id: state.integration.id,
    name: state.integration.name,
    enabled: state.integration.enabled,
    status: state.status,
    best_not_after: iso(state.best?.notAfter ?? null),
    valid_certificates: state.validCount,
    error: state.error ? `${state.error.reason}: ${state.error.message}` : null,
    idp: state.idp && {
      source: state.idp.source,
      signing_certificate_trusted: state.idp.trusted,
      signing_fingerprint_sha256: state.idp.signingFingerprint,
      signing_not_after: iso(state.idp.signingNotAfter),
      error: state.idp.error,
    },
    certificates: state.certificates.map(certificateJson),
  };
}

export type InventoryReport = ReturnType<typeof inventoryReport>;

export function inventoryReport(evaluation: Evaluation) {
  return {
    generated_at: evaluation.generatedAt.toISOString(),
    status: evaluation.status,
    accounts: evaluation.accounts.map((account) => ({
      name: account.account,
      scanned_at: account.finishedAt.toISOString(),
      error: account.error ? `${account.error.reason}: ${account.error.message}` : null,
      integrations: account.integrations.map(integrationJson),
    })),
  };
}
