// The rotation journal as plain data: what this tool did and is doing, for what SendGrid cannot tell us
// (when a certificate was uploaded, which ones we disabled, a step whose answer was lost). Pure helpers
// only; src/rotation/journal-file.ts persists it. SendGrid stays the source of truth: reconcile() aligns
// the journal with each scan before anything is planned.

import type { IdpKind } from "./idp.js";
import type { EnabledOverrides, Inventory } from "./inventory.js";

export type RotationKind = "replace" | "mirror";

/**
 * uploading: the upload is journaled, its answer not yet seen (a crash or a lost answer leaves it here);
 * uploaded: SendGrid has it; verified: read back and compared; retired: every certificate it replaced
 * is disabled or gone; abandoned: failed for good (reason in `note`); rolled_back: undone by `rollback`.
 */
/** Every phase a rotation can be in: the journal file's schema and the tests enumerate these. */
export const ROTATION_PHASES = [
  "uploading",
  "uploaded",
  "verified",
  "retired",
  "abandoned",
  "rolled_back",
] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

export interface CertificateRef {
  readonly certificateId: string;
  readonly fingerprint: string;
}

export interface RotationRecord {
  readonly id: string;
  readonly account: string;
  readonly integrationId: string;
  readonly kind: RotationKind;
  readonly origin: string;
  readonly fingerprint: string;
  readonly pem: string;
  readonly notAfter: Date;
  /** Certificates to disable once the new one is verified and `overlap` has passed. */
  readonly replaces: readonly CertificateRef[];
  readonly phase: RotationPhase;
  readonly certificateId: string | null;
  readonly startedAt: Date;
  /** When the last upload call was made; absent in journals from before it was recorded. */
  readonly attemptedAt?: Date | null;
  readonly uploadedAt: Date | null;
  readonly verifiedAt: Date | null;
  readonly retiredAt: Date | null;
  readonly note: string | null;
}

/** A certificate this tool disabled: needed when the API does not report `enabled`, and for deletion. */
export interface DisabledRecord extends CertificateRef {
  readonly account: string;
  readonly integrationId: string;
  readonly at: Date;
}

/** A certificate the IdP's metadata stopped publishing, first noticed at `since`. */
export interface UnpublishedRecord {
  readonly account: string;
  readonly integrationId: string;
  readonly fingerprint: string;
  readonly since: Date;
}

export interface BackoffRecord {
  readonly account: string;
  readonly integrationId: string;
  readonly failures: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string;
}

/**
 * A key rollover at the IdP (`manage_keys`), the IdP's half of a rotation; SendGrid's half (upload,
 * verify, and after the overlap disable) is the mirror rotation of the new key's certificate.
 * generating: the intent is journaled, the generate call's answer not yet seen (a lost answer is found
 * again by listing the IdP's keys, never by generating a second one); generated: the new key is known;
 * activating: the activation is journaled, its answer not yet seen; activated: the IdP accepted it,
 * not yet read back; confirmed: read back, the IdP signs with the new key; retired: SendGrid no longer
 * trusts the previous key; abandoned: failed for good (`note`); rolled_back: undone by `rollback`.
 */
/** Every phase an IdP key rollover can be in. */
export const ROLLOVER_PHASES = [
  "generating",
  "generated",
  "activating",
  "activated",
  "confirmed",
  "retired",
  "abandoned",
  "rolled_back",
] as const;
export type RolloverPhase = (typeof ROLLOVER_PHASES)[number];

export interface RolloverRecord {
  readonly id: string;
  readonly account: string;
  readonly integrationId: string;
  readonly source: IdpKind;
  readonly phase: RolloverPhase;
  /** Written before the generate call: what identifies the key it makes if its answer is lost. */
  readonly intent: {
    readonly requestedAt: Date;
    readonly validityYears: number;
    readonly subject: string;
    /** The IdP's key ids before the call: the new key is none of these. */
    readonly knownKeyIds: readonly string[];
  } | null;
  /** The new key, once known. */
  readonly key: { readonly id: string; readonly fingerprint: string; readonly notAfter: Date } | null;
  /** The key the IdP signed with when the rollover started: what `rollback` re-activates. */
  readonly previousKeyId: string | null;
  /** SendGrid certificates of the previous key, to be disabled after the overlap. */
  readonly replaces: readonly CertificateRef[];
  readonly startedAt: Date;
  readonly activatedAt: Date | null;
  readonly confirmedAt: Date | null;
  readonly retiredAt: Date | null;
  readonly note: string | null;
}

export const ACTIVE_ROLLOVER_PHASES: ReadonlySet<RolloverPhase> = new Set([
  "generating",
  "generated",
  "activating",
  "activated",
  "confirmed",
]);

export type StepAction =
  "upload" | "verify" | "disable" | "enable" | "delete" | "generate" | "activate" | "confirm";

/** The API call under way, written before it is sent and cleared after: what a crash interrupted. */
export interface StepRecord {
  readonly action: StepAction;
  readonly account: string;
  readonly integrationId: string;
  readonly certificateId: string | null;
  readonly rotationId: string | null;
  readonly startedAt: Date;
}

export interface Journal {
  readonly rotations: readonly RotationRecord[];
  readonly rollovers: readonly RolloverRecord[];
  readonly disabled: readonly DisabledRecord[];
  readonly unpublished: readonly UnpublishedRecord[];
  readonly backoff: readonly BackoffRecord[];
  readonly inProgress: StepRecord | null;
}

export const EMPTY_JOURNAL: Journal = {
  rotations: [],
  rollovers: [],
  disabled: [],
  unpublished: [],
  backoff: [],
  inProgress: null,
};

export const ACTIVE_PHASES: ReadonlySet<RotationPhase> = new Set(["uploading", "uploaded", "verified"]);

export const sameIntegration =
  (account: string, integrationId: string) => (record: { account: string; integrationId: string }) =>
    record.account === account && record.integrationId === integrationId;

export function overridesOf(journal: Journal): EnabledOverrides {
  const keys = new Set(journal.disabled.map((d) => `${d.account}\u0000${d.certificateId}`));
  return { isDisabledByTool: (account, certificateId) => keys.has(`${account}\u0000${certificateId}`) };
}

const KEEP_FINISHED_PER_INTEGRATION = 10;

/**
 * Aligns the journal with what SendGrid shows now. Only integrations the scan read successfully are
 * touched: a failed listing proves nothing. Pure.
 * - an upload whose answer was lost is adopted when its fingerprint is on the integration;
 * - a rotation whose certificate vanished is abandoned;
 * - a disabled record is dropped when the certificate is gone or someone re-enabled it;
 * - finished rotations beyond the last few per integration are pruned.
 */
export function reconcile(journal: Journal, scanned: Inventory, now: Date): Journal {
  const seen = new Map<string, Map<string, { id: string; enabled: boolean | null }>>();
  for (const account of scanned.accounts) {
    if (account.error) continue;
    for (const integration of account.integrations) {
      if (!integration.certificates) continue;
      const byFingerprint = new Map<string, { id: string; enabled: boolean | null }>();
      for (const certificate of integration.certificates) {
        if (certificate.parsed.ok) {
          byFingerprint.set(certificate.parsed.certificate.fingerprintSha256, {
            id: certificate.api.id,
            enabled: certificate.api.enabled,
          });
        }
      }
      seen.set(`${account.account}\u0000${integration.integration.id}`, byFingerprint);
    }
  }
  const certificatesOf = (record: { account: string; integrationId: string }) =>
    seen.get(`${record.account}\u0000${record.integrationId}`);

  const rotations = journal.rotations.map((record): RotationRecord => {
    const present = certificatesOf(record);
    if (!present || !ACTIVE_PHASES.has(record.phase)) return record;
    const found = present.get(record.fingerprint);
    if (record.phase === "uploading") {
      return found
        ? { ...record, phase: "uploaded", certificateId: found.id, uploadedAt: record.uploadedAt ?? now }
        : record;
    }
    if (!found)
      return {
        ...record,
        phase: "abandoned",
        note: "the uploaded certificate is no longer on the integration",
      };
    return found.id === record.certificateId ? record : { ...record, certificateId: found.id };
  });

  const disabled = journal.disabled.filter((record) => {
    const present = certificatesOf(record);
    if (!present) return true;
    const found = present.get(record.fingerprint);
    return found !== undefined && found.id === record.certificateId && found.enabled !== true;
  });

  return {
    ...journal,
    rotations: pruneFinished(rotations, ACTIVE_PHASES),
    rollovers: pruneFinished(journal.rollovers, ACTIVE_ROLLOVER_PHASES),
    disabled,
  };
}

function pruneFinished<R extends { account: string; integrationId: string; phase: P }, P>(
  records: readonly R[],
  active: ReadonlySet<P>,
): R[] {
  const finishedCount = new Map<string, number>();
  const kept: R[] = [];
  // Newest first, so the most recent finished records are the ones kept.
  for (const record of [...records].reverse()) {
    if (!active.has(record.phase)) {
      const key = `${record.account}\u0000${record.integrationId}`;
      const count = (finishedCount.get(key) ?? 0) + 1;
      finishedCount.set(key, count);
      if (count > KEEP_FINISHED_PER_INTEGRATION) continue;
    }
    kept.push(record);
  }
  return kept.reverse();
}

export const MAX_BACKOFF_MS = 6 * 3_600_000;

/** A failed step: back off exponentially, from one schedule interval up to six hours. */
export function withFailure(
  journal: Journal,
  target: { account: string; integrationId: string },
  error: string,
  now: Date,
  baseMs: number,
): Journal {
  const same = sameIntegration(target.account, target.integrationId);
  const failures = (journal.backoff.find(same)?.failures ?? 0) + 1;
  const delay = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(failures - 1, 30));
  const record: BackoffRecord = {
    ...target,
    failures,
    nextAttemptAt: new Date(now.getTime() + delay),
    lastError: error,
  };
  return { ...journal, backoff: [...journal.backoff.filter((b) => !same(b)), record] };
}

export function withSuccess(journal: Journal, target: { account: string; integrationId: string }): Journal {
  const same = sameIntegration(target.account, target.integrationId);
  return journal.backoff.some(same)
    ? { ...journal, backoff: journal.backoff.filter((b) => !same(b)) }
    : journal;
}

export function withRotation(journal: Journal, record: RotationRecord): Journal {
  const others = journal.rotations.filter((r) => r.id !== record.id);
  return { ...journal, rotations: [...others, record] };
}

export function withRollover(journal: Journal, record: RolloverRecord): Journal {
  const others = journal.rollovers.filter((r) => r.id !== record.id);
  return { ...journal, rollovers: [...others, record] };
}
