// Builders for the planner's inputs (scanned inventories, rotation config, journal records) from real
// generated certificates, shared by the planner's table and property tests. Plain data only: nothing here
// decides anything the planner decides.

import { parseCertificate } from "../../src/certs/parse.js";
import type { RotateBefore, RotationConfig, RotationRule } from "../../src/config/types.js";
import type { Inventory, ScannedCertificate, ScannedIntegration } from "../../src/core/inventory.js";
import { EMPTY_JOURNAL, type Journal, type RotationRecord } from "../../src/core/journal.js";
import type { Integration } from "../../src/core/model.js";
import type { Action, SourceOffer } from "../../src/core/plan.js";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function certificate(
  id: string,
  integrationId: string,
  pem: string,
  enabled: boolean | null = true,
): ScannedCertificate {
  const parsed = parseCertificate(pem);
  return {
    api: {
      id,
      integrationId,
      pem,
      enabled,
      notBefore: parsed.ok ? parsed.certificate.notBefore : null,
      notAfter: parsed.ok ? parsed.certificate.notAfter : null,
    },
    parsed,
  };
}

export function integrationRecord(id: string, name = `integration ${id}`): Integration {
  return {
    id,
    name,
    enabled: true,
    completed: true,
    entityId: null,
    signinUrl: null,
    signoutUrl: null,
    singleSignonUrl: null,
    audienceUrl: null,
    lastUpdated: null,
  };
}

export function scannedIntegration(
  id: string,
  certificates: readonly ScannedCertificate[] | null,
  name?: string,
): ScannedIntegration {
  return {
    integration: integrationRecord(id, name),
    certificates,
    error: certificates === null ? { reason: "http_5xx", message: "listing failed" } : null,
  };
}

export function inventoryOf(
  accounts: readonly { account: string; failed?: boolean; integrations: readonly ScannedIntegration[] }[],
  at: Date,
): Inventory {
  return {
    accounts: accounts.map((a) => ({
      account: a.account,
      startedAt: at,
      finishedAt: at,
      error: a.failed ? { reason: "http_5xx", message: "listing failed" } : null,
      integrations: a.failed ? [] : a.integrations,
    })),
  };
}

/** One account, "main". */
export function singleAccount(integrations: readonly ScannedIntegration[], at: Date): Inventory {
  return inventoryOf([{ account: "main", integrations }], at);
}

export function rule(
  match: RotationRule["match"],
  source: RotationRule["source"],
  options: { rotateBefore?: RotateBefore; overlapMs?: number; account?: string | null } = {},
): RotationRule {
  return {
    account: options.account ?? null,
    match,
    source,
    rotateBefore: options.rotateBefore ?? { kind: "duration", ms: 30 * DAY },
    overlapMs: options.overlapMs ?? 0,
  };
}

export function rotationConfig(
  integrations: readonly RotationRule[],
  options: Partial<Omit<RotationConfig, "integrations">> = {},
): RotationConfig {
  return {
    enabled: true,
    dryRun: false,
    rotateBefore: { kind: "duration", ms: 30 * DAY },
    overlapMs: 0,
    deleteDisabledAfterMs: null,
    maxRotationsPerCycle: 5,
    ...options,
    integrations,
  };
}

export const FILE_SOURCE = { type: "file", path: "/certs" } as const;
export const METADATA_SOURCE = { type: "metadata", url: "https://idp.example.test/metadata" } as const;

export function fileOffer(texts: readonly (string | { origin: string; text: string })[]): SourceOffer {
  return {
    type: "file",
    inputs: texts.map((t, i) => (typeof t === "string" ? { origin: `/certs/${i}.pem`, text: t } : t)),
    problems: [],
  };
}

export function metadataOffer(signing: readonly string[]): SourceOffer {
  return { type: "metadata", result: { ok: true, signing: [...signing] } };
}

export function rotationRecord(
  fields: Pick<RotationRecord, "integrationId" | "fingerprint" | "pem" | "notAfter"> &
    Partial<RotationRecord>,
): RotationRecord {
  return {
    id: `main/${fields.integrationId}/${fields.fingerprint.slice(0, 16)}`,
    account: "main",
    kind: "replace",
    origin: "/certs/next.pem",
    replaces: [],
    phase: "uploading",
    certificateId: null,
    startedAt: new Date(0),
    uploadedAt: null,
    verifiedAt: null,
    retiredAt: null,
    note: null,
    ...fields,
  };
}

export function journalWith(fields: Partial<Journal>): Journal {
  return { ...EMPTY_JOURNAL, ...fields };
}

/** A compact view of actions for assertions: kind, integration, certificate or fingerprint. */
export function summary(actions: readonly Action[]): string[] {
  return actions.map((a) =>
    a.kind === "upload"
      ? `upload ${a.integrationId} ${a.rotation.fingerprint.slice(0, 8)}`
      : `${a.kind} ${a.integrationId} ${a.certificateId}`,
  );
}
