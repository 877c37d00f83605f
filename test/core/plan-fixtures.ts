// Builders for the planner's inputs (scanned inventories, rotation config, journal records) from real
// generated certificates, shared by the planner's table and property tests. Plain data only: nothing here
// decides anything the planner decides.

import { parseCertificate } from "../../src/certs/parse.js";
import type {
  EntraSource,
  OktaSource,
  RotateBefore,
  RotationConfig,
  RotationRule,
  SecretSource,
} from "../../src/config/types.js";
import type { Inventory, ScannedCertificate, ScannedIntegration } from "../../src/core/inventory.js";
import {
  EMPTY_JOURNAL,
  type Journal,
  type RolloverRecord,
  type RotationRecord,
} from "../../src/core/journal.js";
import type { Integration } from "../../src/core/model.js";
import type { IdpSourceType, Offer } from "../../src/core/offer.js";
import type { Action } from "../../src/core/plan.js";
import { fileOffer as fileSourceOffer } from "../../src/sources/file.js";
import { idpFailure, idpOffer as idpSourceOffer } from "../../src/sources/idp-offer.js";
import { metadataOffer as metadataSourceOffer } from "../../src/sources/metadata-offer.js";

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
export const METADATA_SOURCE = {
  type: "metadata",
  url: "https://idp.example.test/metadata",
  entityId: null,
  requireSignature: false,
  signingCertificateFile: null,
} as const;

export function fileOffer(texts: readonly (string | { origin: string; text: string })[]): Offer {
  return fileSourceOffer({
    inputs: texts.map((t, i) => (typeof t === "string" ? { origin: `/certs/${i}.pem`, text: t } : t)),
    problems: [],
  });
}

/** `signer`: the document is signed, by the certificate with this fingerprint (pinned or from KeyInfo). */
export function metadataOffer(
  signing: readonly string[],
  signer: { fingerprint: string; pinned: boolean } | null = null,
): Offer {
  return metadataSourceOffer({
    ok: true,
    signing: [...signing],
    signature: signer
      ? { kind: "valid", signerFingerprint: signer.fingerprint, pinned: signer.pinned }
      : { kind: "none" },
  });
}

// The planner never reads a secret: one that throws says so if it ever tries.
const NO_SECRET: SecretSource = {
  describe: () => "no secret in planner tests",
  read: () => {
    throw new Error("the planner must not read a secret");
  },
};

export const OKTA_SOURCE: OktaSource = {
  type: "okta",
  orgUrl: "https://example.okta.test",
  appId: "0oa-sendgrid",
  apiToken: NO_SECRET,
  manageKeys: false,
  validityYears: 2,
};

export const ENTRA_SOURCE: EntraSource = {
  type: "entra",
  tenantId: "tenant",
  clientId: "client",
  clientSecret: NO_SECRET,
  servicePrincipalId: "sp-sendgrid",
  authorityUrl: "https://login.example.test",
  graphUrl: "https://graph.example.test",
  manageKeys: false,
  validityYears: 2,
};

export const idpSource = (source: Exclude<IdpSourceType, "metadata">) =>
  source === "okta" ? OKTA_SOURCE : ENTRA_SOURCE;

/** One key an IdP holds: its id (Okta kid, Entra thumbprint) and its certificate. */
export interface TestKey {
  readonly id: string;
  readonly pem: string;
}

/**
 * What an okta or entra source offers for these keys, through the sources' own mapping. `manage`: the
 * validity in years of `manage_keys: true`, null for read-only.
 */
export function idpOffer(
  source: Exclude<IdpSourceType, "metadata">,
  keys: readonly TestKey[],
  activeKeyId: string | null,
  manage: number | null = null,
): Offer {
  return idpSourceOffer(
    { ...idpSource(source), manageKeys: manage !== null, validityYears: manage ?? 2 },
    {
      keys: keys.map((k) => ({ id: k.id, pem: k.pem, createdAt: null, expiresAt: null })),
      activeKeyId,
    },
  );
}

/** The offer of an IdP that could not be read. */
export function failedIdpOffer(source: Exclude<IdpSourceType, "metadata">, message: string): Offer {
  return idpFailure(idpSource(source), new Error(message));
}

export function rolloverRecord(
  fields: Pick<RolloverRecord, "integrationId" | "phase"> & Partial<RolloverRecord>,
): RolloverRecord {
  return {
    id: `main/${fields.integrationId}/rollover`,
    account: "main",
    source: "okta",
    intent: null,
    key: null,
    previousKeyId: null,
    replaces: [],
    startedAt: new Date(0),
    activatedAt: null,
    confirmedAt: null,
    retiredAt: null,
    note: null,
    ...fields,
  };
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
      : a.kind === "generate"
        ? `generate ${a.integrationId} new`
        : "keyId" in a
          ? `${a.kind} ${a.integrationId} ${a.keyId}`
          : `${a.kind} ${a.integrationId} ${a.certificateId}`,
  );
}
