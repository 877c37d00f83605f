// The rotation planner: plan(scan, config, journal, now) -> the API steps to take now, each with its
// reason, plus the journal's bookkeeping. Pure and total. Every safety rule of SPEC.md lives here, so
// the executor, `plan`, `rotate` and the property tests all share one definition of "safe":
// never disable or delete the last valid enabled certificate, never touch an unmatched integration,
// never act on an integration the scan failed to read, never start more than max_rotations_per_cycle.

import {
  selectNewestCandidate,
  validateCandidate,
  type Candidate,
  type Rejection,
} from "../certs/validate.js";
import type { RotateBefore, RotationConfig, RotationRule } from "../config/types.js";
import { idpView, trustedFingerprints, type IdpCertificate, type IdpView } from "./idp-view.js";
import type { Inventory, ScannedIntegration } from "./inventory.js";
import {
  ACTIVE_PHASES,
  ACTIVE_ROLLOVER_PHASES,
  overridesOf,
  sameIntegration,
  type Journal,
  type RolloverRecord,
  type RotationRecord,
  type UnpublishedRecord,
} from "./journal.js";
import { watchesIdp, type Offer, type ReadOffer } from "./offer.js";
import { matchRule } from "./rules.js";
import { evaluate, type CertificateState, type IntegrationState } from "./status.js";
import { isUsable } from "./usable.js";

interface Target {
  readonly account: string;
  readonly integrationId: string;
  readonly integrationName: string;
}

export type Action =
  | (Target & { readonly kind: "upload"; readonly rotation: RotationRecord; readonly reason: string })
  | (Target & {
      readonly kind: "generate";
      readonly rollover: RolloverRecord;
      /** The rule whose IdP the step acts on. */
      readonly ruleIndex: number;
      readonly reason: string;
    })
  | (Target & {
      /** activate: make `keyId` the IdP's signing key; confirm: read the IdP back and check it is. */
      readonly kind: "activate" | "confirm";
      readonly rollover: RolloverRecord;
      /** The rollover's new key, or its previous one when rolling back. */
      readonly keyId: string;
      readonly ruleIndex: number;
      readonly reason: string;
    })
  | (Target & {
      readonly kind: "verify";
      readonly rotation: RotationRecord;
      readonly certificateId: string;
      readonly reason: string;
    })
  | (Target & {
      readonly kind: "disable" | "delete" | "enable";
      readonly certificateId: string;
      readonly fingerprint: string;
      readonly rotationId: string | null;
      readonly reason: string;
    });

export interface Note extends Target {
  readonly level: "info" | "warn";
  readonly message: string;
}

export interface Plan {
  readonly actions: readonly Action[];
  /** The journal with this cycle's bookkeeping (retired rotations, unpublished certificates) applied. */
  readonly journal: Journal;
  readonly notes: readonly Note[];
}

export interface PlanInput {
  /** This cycle's scan as SendGrid answered it: failures included, nothing carried forward. */
  readonly scanned: Inventory;
  /** By index into rotation.integrations. A rule without an offer is not acted on. */
  readonly offers: ReadonlyMap<number, Offer>;
  readonly rotation: RotationConfig;
  readonly journal: Journal;
  readonly now: Date;
  /**
   * How long a write whose answer was lost (an upload to SendGrid, a generate at the IdP) may take to show
   * when read back; past it the write never happened, and doing it again makes no second copy. Default
   * DEFAULT_SETTLE_MS.
   */
  readonly settleMs?: number;
  /** Restrict planning to one integration; `force` ignores rotate_before (the `rotate` command). */
  readonly only?: {
    readonly account: string | null;
    readonly integrationId: string;
    readonly force?: boolean;
  };
}

// Only "is it usable" matters to the planner; the warning thresholds of the status page do not.
const NO_THRESHOLDS = { warningMs: 0, criticalMs: 0 };

export const DEFAULT_SETTLE_MS = 120_000;

/** How a rollover abandoned for a missing IdP permission starts its note. */
export const PERMISSION_DENIED = "permission denied: ";
/** After the IdP refused a write for want of a permission, managing its keys rests this long. */
export const PERMISSION_PAUSE_MS = 6 * 3_600_000;

/** Is the certificate (SendGrid's best one, or the one the IdP signs with) within `rotate_before` of its end? */
export function isDue(
  certificate: { readonly notBefore: Date; readonly notAfter: Date } | null,
  rotateBefore: RotateBefore,
  now: Date,
): boolean {
  if (!certificate || certificate.notAfter <= now) return true;
  const left = certificate.notAfter.getTime() - now.getTime();
  if (rotateBefore.kind === "duration") return left <= rotateBefore.ms;
  const lifetime = certificate.notAfter.getTime() - certificate.notBefore.getTime();
  return left <= (lifetime * rotateBefore.percent) / 100;
}

function bestIsDue(state: IntegrationState, rotateBefore: RotateBefore, now: Date): boolean {
  const best = state.best;
  return isDue(
    best ? { notBefore: best.parsed.notBefore, notAfter: best.notAfter } : null,
    rotateBefore,
    now,
  );
}

function rotationId(target: Target, fingerprint: string, now: Date): string {
  return `${target.account}/${target.integrationId}/${fingerprint.slice(0, 16)}/${now.toISOString()}`;
}

function newRotation(
  target: Target,
  kind: RotationRecord["kind"],
  candidate: Candidate,
  replaces: RotationRecord["replaces"],
  now: Date,
): RotationRecord {
  return {
    id: rotationId(target, candidate.certificate.fingerprintSha256, now),
    account: target.account,
    integrationId: target.integrationId,
    kind,
    origin: candidate.origin,
    fingerprint: candidate.certificate.fingerprintSha256,
    pem: candidate.pem,
    notAfter: candidate.certificate.notAfter,
    replaces,
    phase: "uploading",
    certificateId: null,
    startedAt: now,
    uploadedAt: null,
    verifiedAt: null,
    retiredAt: null,
    note: null,
  };
}

const describeRejections = (rejections: readonly Rejection[]) => rejections.map((r) => r.message).join("; ");

/** Mutable working state of one integration while its steps are planned. */
class IntegrationPlanner {
  readonly actions: Action[] = [];
  readonly notes: Note[] = [];
  private readonly disabling = new Set<string>();

  constructor(
    readonly target: Target,
    readonly ruleIndex: number,
    readonly state: IntegrationState,
    readonly now: Date,
  ) {}

  note(level: Note["level"], message: string): void {
    this.notes.push({ ...this.target, level, message });
  }

  certificate(id: string): CertificateState | undefined {
    return this.state.certificates.find((c) => c.api.id === id);
  }

  fingerprints(): Set<string> {
    return new Set(this.state.certificates.flatMap((c) => (c.parsed ? [c.parsed.fingerprintSha256] : [])));
  }

  /** Is a certificate with this fingerprint to be disabled by this plan? */
  disables(fingerprint: string): boolean {
    return this.state.certificates.some(
      (c) => this.disabling.has(c.api.id) && c.parsed?.fingerprintSha256 === fingerprint,
    );
  }

  /** Usable certificates left once the planned disables are done. */
  usableAfterDisables(): CertificateState[] {
    return this.state.certificates.filter((c) => isUsable(c) && !this.disabling.has(c.api.id));
  }

  /**
   * Plans a disable only if a usable certificate (one passing `keep`) stays enabled: the rule that
   * keeps a team able to log in.
   */
  disable(
    certificate: CertificateState,
    rotationId: string | null,
    reason: string,
    keep: (c: CertificateState) => boolean = () => true,
  ): boolean {
    if (this.disabling.has(certificate.api.id)) return true;
    const remaining = this.usableAfterDisables().filter((c) => c.api.id !== certificate.api.id && keep(c));
    if (remaining.length === 0) {
      this.note(
        "warn",
        `not disabling certificate ${certificate.api.id}: it would leave no valid enabled certificate`,
      );
      return false;
    }
    this.disabling.add(certificate.api.id);
    this.actions.push({
      ...this.target,
      kind: "disable",
      certificateId: certificate.api.id,
      fingerprint: certificate.parsed?.fingerprintSha256 ?? "",
      rotationId,
      reason,
    });
    return true;
  }
}

interface Context {
  readonly input: PlanInput;
  readonly journal: Journal;
  uploadsLeft: number;
  readonly retire: Map<string, Date>;
  unpublished: UnpublishedRecord[];
  /** Rollover records this plan changes or starts without an API call (adopted, confirmed, retired). */
  readonly rollovers: Map<string, RolloverRecord>;
}

function continueRotation(
  planner: IntegrationPlanner,
  record: RotationRecord,
  rule: RotationRule,
  ctx: Context,
): void {
  const { now } = planner;
  if (record.phase === "uploading") {
    // Reconcile found no certificate with this fingerprint: the upload never happened. Retry it, if the
    // certificate is still acceptable.
    const verdict = validateCandidate(
      { origin: record.origin, text: record.pem },
      { now, presentFingerprints: planner.fingerprints(), mustOutlive: null },
    );
    if (!verdict.ok) {
      planner.note("warn", `abandoning rotation ${record.id}: ${describeRejections(verdict.rejections)}`);
      ctx.retire.set(record.id, now);
      return;
    }
    // A POST that SendGrid holds, or applies late, would make a second copy if sent again now.
    const since = now.getTime() - (record.attemptedAt ?? record.startedAt).getTime();
    if (since < (ctx.input.settleMs ?? DEFAULT_SETTLE_MS))
      return planner.note(
        "info",
        `waiting for SendGrid to show the upload of rotation ${record.id} before trying again`,
      );
    if (ctx.uploadsLeft <= 0)
      return planner.note("info", "upload postponed: max_rotations_per_cycle reached");
    ctx.uploadsLeft--;
    planner.actions.push({
      ...planner.target,
      kind: "upload",
      rotation: record,
      reason: "retrying an upload that did not complete",
    });
    return;
  }
  if (record.phase === "uploaded") {
    planner.actions.push({
      ...planner.target,
      kind: "verify",
      rotation: record,
      certificateId: record.certificateId ?? "",
      reason: "read the uploaded certificate back and compare fingerprint and dates",
    });
    return;
  }
  // verified: retire what it replaces once the overlap has passed.
  const due = (record.verifiedAt ?? now).getTime() + rule.overlapMs;
  if (now.getTime() < due) {
    planner.note(
      "info",
      `keeping the old certificate enabled until ${new Date(due).toISOString()} (overlap)`,
    );
    return;
  }
  const fresh = planner.certificate(record.certificateId ?? "");
  let pending = 0;
  for (const ref of record.replaces) {
    const old = planner.certificate(ref.certificateId);
    if (!old || !old.enabled) continue;
    pending++;
    // The replacement itself must be what keeps logins working.
    if (!fresh || !isUsable(fresh)) {
      planner.note(
        "warn",
        `not disabling ${ref.certificateId}: the new certificate ${record.certificateId} is not valid and enabled`,
      );
      continue;
    }
    planner.disable(
      old,
      record.id,
      `replaced by certificate ${fresh.api.id} (overlap of ${rule.overlapMs / 1000}s passed)`,
      (c) => c.api.id === fresh.api.id,
    );
  }
  if (pending === 0) ctx.retire.set(record.id, now);
}

function startReplacement(
  planner: IntegrationPlanner,
  rule: RotationRule,
  offer: ReadOffer,
  ctx: Context,
): void {
  const { now, state } = planner;
  if (!ctx.input.only?.force && !bestIsDue(state, rule.rotateBefore, now)) return;
  const { candidate, rejections } = selectNewestCandidate(offer.certificates, {
    now,
    presentFingerprints: planner.fingerprints(),
    mustOutlive: state.best?.notAfter ?? null,
  });
  if (!candidate) {
    const why = rejections.length > 0 ? describeRejections(rejections) : "the source holds no certificate";
    planner.note("warn", `rotation due but no acceptable replacement: ${why}`);
    return;
  }
  if (ctx.uploadsLeft <= 0)
    return planner.note("info", "rotation due; postponed: max_rotations_per_cycle reached");
  ctx.uploadsLeft--;
  const replaces = state.certificates
    .filter((c) => c.enabled && c.parsed && c.parsed.notAfter < candidate.certificate.notAfter)
    .map((c) => ({ certificateId: c.api.id, fingerprint: c.parsed!.fingerprintSha256 }));
  const left = state.best
    ? `best certificate ${state.best.api.id} expires ${state.best.notAfter.toISOString()}`
    : "no valid certificate";
  planner.actions.push({
    ...planner.target,
    kind: "upload",
    rotation: newRotation(planner.target, "replace", candidate, replaces, now),
    reason: `${left}; uploading ${candidate.origin} (valid until ${candidate.certificate.notAfter.toISOString()})`,
  });
}

// How the mirror explains itself, per source.
const SOURCE_NAMES = { metadata: "the IdP's metadata", okta: "Okta", entra: "Entra ID" } as const;
const NOT_PUBLISHED = {
  metadata: "not in the IdP's metadata",
  okta: "neither the key Okta signs with nor a newer one",
  entra: "neither the key Entra ID signs with nor a newer one",
} as const;

/**
 * SendGrid mirrors the IdP: every certificate the view publishes (what the IdP signs with now and any key
 * it holds for later) is uploaded at once, whatever rotate_before says, so SendGrid trusts a key before
 * it signs; one it stops publishing is disabled after the overlap, never the last usable one and only
 * while a published one stays usable. The IdP's own signing certificate is always published, so it is
 * never disabled, and when SendGrid holds it disabled it is enabled again.
 */
function mirror(planner: IntegrationPlanner, rule: RotationRule, view: IdpView, ctx: Context): void {
  const { now, state, target } = planner;
  const from = SOURCE_NAMES[view.source];
  const same = sameIntegration(target.account, target.integrationId);
  const present = planner.fingerprints();
  // A lost upload still in the journal is retried by continueRotation, never uploaded a second time here;
  // nor is a certificate the source lists twice.
  const inFlight = new Set(
    ctx.journal.rotations.filter((r) => same(r) && ACTIVE_PHASES.has(r.phase)).map((r) => r.fingerprint),
  );
  for (const certificate of view.certificates) {
    if (!view.published.has(certificate.parsed.fingerprintSha256)) continue;
    const verdict = validateCandidate(certificate.offered, {
      now,
      presentFingerprints: new Set([...present, ...inFlight]),
      mustOutlive: null,
    });
    if (!verdict.ok) {
      const worth = verdict.rejections.filter((r) => r.code !== "already_present");
      if (worth.length > 0) planner.note("warn", `${view.source}: ${describeRejections(worth)}`);
      continue;
    }
    if (ctx.uploadsLeft <= 0) {
      planner.note("info", "mirror upload postponed: max_rotations_per_cycle reached");
      continue;
    }
    ctx.uploadsLeft--;
    inFlight.add(verdict.candidate.certificate.fingerprintSha256);
    const signs = certificate === view.signing ? " (the IdP signs with it now)" : "";
    planner.actions.push({
      ...target,
      kind: "upload",
      rotation: newRotation(target, "mirror", verdict.candidate, [], now),
      reason: `${from} publishes a signing certificate valid until ${verdict.candidate.certificate.notAfter.toISOString()}${signs}`,
    });
  }
  if (view.signing) reenableSigning(planner, view.signing);
  if (view.published.size === 0) return;
  const unpublishedNow = state.certificates.filter(
    (c) => c.enabled && c.parsed !== null && !view.published.has(c.parsed.fingerprintSha256),
  );
  const stillMissing = new Set(unpublishedNow.map((c) => c.parsed!.fingerprintSha256));
  ctx.unpublished = ctx.unpublished.filter((u) => !same(u) || stillMissing.has(u.fingerprint));
  for (const certificate of unpublishedNow) {
    const fingerprint = certificate.parsed!.fingerprintSha256;
    const record = ctx.unpublished.find((u) => same(u) && u.fingerprint === fingerprint);
    if (!record) {
      ctx.unpublished.push({
        account: target.account,
        integrationId: target.integrationId,
        fingerprint,
        since: now,
      });
      planner.note(
        "info",
        `certificate ${certificate.api.id} is ${NOT_PUBLISHED[view.source]}; disabling it after the overlap`,
      );
      continue;
    }
    if (now.getTime() - record.since.getTime() < rule.overlapMs) continue;
    planner.disable(
      certificate,
      null,
      view.source === "metadata"
        ? `not published in the IdP's metadata since ${record.since.toISOString()}`
        : `${NOT_PUBLISHED[view.source]} since ${record.since.toISOString()}`,
      (c) => c.parsed !== null && view.published.has(c.parsed.fingerprintSha256),
    );
  }
}

/** The IdP signs with a certificate SendGrid holds but has disabled: logins fail until it is enabled. */
function reenableSigning(planner: IntegrationPlanner, signing: IdpCertificate): void {
  const fingerprint = signing.parsed.fingerprintSha256;
  const held = planner.state.certificates.find(
    (c) => c.parsed?.fingerprintSha256 === fingerprint && !c.enabled,
  );
  if (!held || (held.status !== "valid" && held.status !== "expiring")) return;
  planner.actions.push({
    ...planner.target,
    kind: "enable",
    certificateId: held.api.id,
    fingerprint,
    rotationId: null,
    reason:
      "the IdP signs with this certificate, but SendGrid holds it disabled: logins fail until it is enabled",
  });
}

// Entra takes a subject for the keys it generates; characters that need escaping in a DN are dropped.
const subjectFor = (integrationName: string) =>
  `CN=${integrationName.replace(/[,=+<>#;"\\]/g, " ").trim() || "SendGrid SSO"}`;

const YEAR_MS = 365.25 * 86_400_000;
const ADOPT_SLACK_MS = 3 * 86_400_000;

function rolloverId(target: Target, now: Date): string {
  return `${target.account}/${target.integrationId}/rollover/${now.toISOString()}`;
}

/** The integration's rollovers, oldest first, with what this plan changed of them. */
function rolloversOf(ctx: Context, target: Target): RolloverRecord[] {
  const same = sameIntegration(target.account, target.integrationId);
  return ctx.journal.rollovers.filter(same).map((r) => ctx.rollovers.get(r.id) ?? r);
}

/** Keys the journal says were rolled back: never picked again as the next key. */
function rolledBackKeys(ctx: Context, target: Target): Set<string> {
  return new Set(
    rolloversOf(ctx, target)
      .filter((r) => r.phase === "rolled_back" && r.key)
      .map((r) => r.key!.id),
  );
}

/**
 * `manage_keys`: when the certificate the IdP signs with is due, roll the IdP over to a newer key: one
 * it already holds and that outlives the current one, else a generated one. SendGrid's half (upload,
 * verify) is the mirror's; this only starts the IdP's half.
 */
function startRollover(
  planner: IntegrationPlanner,
  rule: RotationRule,
  offer: ReadOffer,
  view: IdpView,
  ctx: Context,
): void {
  const { now, target } = planner;
  if (!offer.manage || (view.source !== "okta" && view.source !== "entra")) return;
  const signing = view.signing;
  if (!signing)
    return planner.note("warn", `not rolling the IdP's key over: ${view.problem ?? "no signing key"}`);
  if (!ctx.input.only?.force) {
    if (!isDue(signing.parsed, rule.rotateBefore, now)) return;
    // A rollback hands the integration to a person: no new rollover until `rotate` asks for one.
    const last = rolloversOf(ctx, target).at(-1);
    if (last?.phase === "rolled_back")
      return planner.note(
        "warn",
        `key rollover due, but rollover ${last.id} was rolled back: run rotate to start a new one`,
      );
    // A missing permission is not mended by retrying: monitor and mirror only for a while, and say so.
    if (
      last?.phase === "abandoned" &&
      last.note?.startsWith(PERMISSION_DENIED) &&
      now.getTime() - (last.retiredAt ?? last.startedAt).getTime() < PERMISSION_PAUSE_MS
    )
      return planner.note(
        "warn",
        `key rollover due, but the IdP refused the last one (${last.note}); managing keys is paused`,
      );
  }
  if (ctx.uploadsLeft <= 0)
    return planner.note("info", "key rollover due; postponed: max_rotations_per_cycle reached");
  const excluded = rolledBackKeys(ctx, target);
  const next = view.certificates
    .filter(
      (c) =>
        c !== signing &&
        c.offered.keyId !== null &&
        !excluded.has(c.offered.keyId) &&
        c.parsed.notAfter > signing.parsed.notAfter &&
        validateCandidate(c.offered, { now, presentFingerprints: new Set(), mustOutlive: null }).ok,
    )
    .sort((a, b) => b.parsed.notAfter.getTime() - a.parsed.notAfter.getTime())[0];
  ctx.uploadsLeft--;
  const signingFingerprint = signing.parsed.fingerprintSha256;
  const base: RolloverRecord = {
    id: rolloverId(target, now),
    account: target.account,
    integrationId: target.integrationId,
    source: view.source,
    phase: "generating",
    intent: null,
    key: null,
    previousKeyId: signing.offered.keyId,
    replaces: planner.state.certificates
      .filter((c) => c.parsed?.fingerprintSha256 === signingFingerprint)
      .map((c) => ({ certificateId: c.api.id, fingerprint: signingFingerprint })),
    startedAt: now,
    activatedAt: null,
    confirmedAt: null,
    retiredAt: null,
    note: null,
  };
  const expires = `the IdP's signing key ${signing.offered.keyId} expires ${signing.parsed.notAfter.toISOString()}`;
  if (next) {
    ctx.rollovers.set(base.id, {
      ...base,
      phase: "generated",
      key: {
        id: next.offered.keyId!,
        fingerprint: next.parsed.fingerprintSha256,
        notAfter: next.parsed.notAfter,
      },
    });
    planner.note(
      "info",
      `${expires}; rolling over to key ${next.offered.keyId}, which the IdP already holds`,
    );
    return;
  }
  const rollover: RolloverRecord = {
    ...base,
    intent: {
      requestedAt: now,
      validityYears: offer.manage.validityYears,
      subject: subjectFor(target.integrationName),
      knownKeyIds: view.certificates.flatMap((c) => (c.offered.keyId === null ? [] : [c.offered.keyId])),
    },
  };
  planner.actions.push({
    ...target,
    kind: "generate",
    rollover,
    ruleIndex: planner.ruleIndex,
    reason: `${expires}; generating a new key valid for ${offer.manage.validityYears} year(s)`,
  });
}

/** The key a generate made, found among the IdP's keys: new since the intent, with the asked validity. */
function generatedKey(record: RolloverRecord, view: IdpView): IdpCertificate[] {
  const intent = record.intent;
  if (!intent) return [];
  const known = new Set(intent.knownKeyIds);
  const earliest = intent.requestedAt.getTime() + intent.validityYears * YEAR_MS - ADOPT_SLACK_MS;
  return view.certificates.filter(
    (c) => c.offered.keyId !== null && !known.has(c.offered.keyId) && c.parsed.notAfter.getTime() >= earliest,
  );
}

/** Verified by a rotation of this tool, and enabled and valid in SendGrid now: safe for the IdP to sign with. */
function trustedInSendGrid(planner: IntegrationPlanner, ctx: Context, fingerprint: string): boolean {
  const same = sameIntegration(planner.target.account, planner.target.integrationId);
  const verified = ctx.journal.rotations.some(
    (r) => same(r) && r.fingerprint === fingerprint && (r.phase === "verified" || r.phase === "retired"),
  );
  return verified && trustedFingerprints(planner.state).has(fingerprint);
}

function continueRollover(
  planner: IntegrationPlanner,
  record: RolloverRecord,
  view: IdpView,
  ctx: Context,
): void {
  const { now, target } = planner;
  const update = (changes: Partial<RolloverRecord>) =>
    ctx.rollovers.set(record.id, { ...record, ...changes });
  const activeKeyId = view.signing?.offered.keyId ?? null;
  switch (record.phase) {
    case "generating": {
      const found = generatedKey(record, view);
      if (found.length === 1) {
        const key = found[0]!;
        planner.note(
          "info",
          `found the key generated at ${record.intent?.requestedAt.toISOString()}: ${key.offered.keyId}`,
        );
        update({
          phase: "generated",
          key: {
            id: key.offered.keyId!,
            fingerprint: key.parsed.fingerprintSha256,
            notAfter: key.parsed.notAfter,
          },
        });
        return;
      }
      if (found.length > 1) {
        update({
          phase: "abandoned",
          note: `${found.length} keys match the lost generate; choose one in the console`,
        });
        return planner.note(
          "warn",
          `rollover ${record.id}: ${found.length} new keys match the lost generate; not guessing`,
        );
      }
      const settle = ctx.input.settleMs ?? DEFAULT_SETTLE_MS;
      const since = now.getTime() - (record.intent?.requestedAt.getTime() ?? record.startedAt.getTime());
      if (since < settle)
        return planner.note("info", "waiting for the key being generated to show at the IdP");
      // The call never reached the IdP (or the key would show by now): asking again makes no second key.
      if (ctx.uploadsLeft <= 0)
        return planner.note("info", "generating again postponed: max_rotations_per_cycle reached");
      ctx.uploadsLeft--;
      planner.actions.push({
        ...target,
        kind: "generate",
        ruleIndex: planner.ruleIndex,
        rollover: {
          ...record,
          intent: record.intent && {
            ...record.intent,
            requestedAt: now,
            knownKeyIds: view.certificates.flatMap((c) =>
              c.offered.keyId === null ? [] : [c.offered.keyId],
            ),
          },
        },
        reason: `the generate of ${record.intent?.requestedAt.toISOString()} made no key; generating again`,
      });
      return;
    }
    case "generated": {
      const key = record.key!;
      if (activeKeyId === key.id) {
        update({ phase: "confirmed", activatedAt: record.activatedAt ?? now, confirmedAt: now });
        return planner.note("info", `the IdP already signs with key ${key.id}`);
      }
      const held = view.certificates.find((c) => c.offered.keyId === key.id);
      if (!held) {
        update({ phase: "abandoned", note: `key ${key.id} is no longer at the IdP` });
        return planner.note(
          "warn",
          `rollover ${record.id}: key ${key.id} is no longer at the IdP; abandoned`,
        );
      }
      const verdict = validateCandidate(held.offered, {
        now,
        presentFingerprints: new Set(),
        mustOutlive: null,
      });
      if (!verdict.ok) {
        const message = describeRejections(verdict.rejections);
        update({ phase: "abandoned", note: message });
        return planner.note("warn", `rollover ${record.id}: the new key cannot be trusted: ${message}`);
      }
      // The IdP moved on to a newer key than this rollover's: activating ours would go backwards, and the
      // mirror is about to stop trusting it.
      if (!view.published.has(key.fingerprint)) {
        update({ phase: "abandoned", note: `the IdP signs with a newer key than ${key.id}` });
        return planner.note(
          "warn",
          `rollover ${record.id}: the IdP signs with a newer key than ${key.id}; abandoned`,
        );
      }
      if (!trustedInSendGrid(planner, ctx, key.fingerprint) || planner.disables(key.fingerprint))
        return planner.note(
          "info",
          `waiting for SendGrid to hold and verify the certificate of key ${key.id}`,
        );
      planner.actions.push({
        ...target,
        kind: "activate",
        rollover: record,
        keyId: key.id,
        ruleIndex: planner.ruleIndex,
        reason: `SendGrid trusts the certificate of key ${key.id} (verified, enabled, valid): the IdP may sign with it`,
      });
      return;
    }
    case "activating":
    case "activated":
      planner.actions.push({
        ...target,
        kind: "confirm",
        rollover: record,
        keyId: record.key!.id,
        ruleIndex: planner.ruleIndex,
        reason: `read the IdP back: does it sign with key ${record.key!.id}?`,
      });
      return;
    case "confirmed": {
      // The IdP's admin switched away from the new key since: that is a rollback by hand. It must not hold up
      // the next rollover, and the key they left is not picked again.
      if (activeKeyId !== record.key!.id) {
        update({
          phase: "rolled_back",
          retiredAt: now,
          note: `the IdP was switched from key ${record.key!.id} to ${activeKeyId ?? "none"} outside this tool`,
        });
        return planner.note(
          "warn",
          `rollover ${record.id}: the IdP no longer signs with key ${record.key!.id}; taken as a rollback`,
        );
      }
      const pending = record.replaces.some((ref) => planner.certificate(ref.certificateId)?.enabled);
      if (!pending) update({ phase: "retired", retiredAt: now });
      return;
    }
    default:
      return;
  }
}

function deleteExpiredDisables(
  planner: IntegrationPlanner,
  config: RotationConfig,
  journal: Journal,
  keep: ReadonlySet<string>,
): void {
  if (config.deleteDisabledAfterMs === null) return;
  const same = sameIntegration(planner.target.account, planner.target.integrationId);
  for (const record of journal.disabled.filter(same)) {
    if (planner.now.getTime() - record.at.getTime() < config.deleteDisabledAfterMs) continue;
    // What the IdP signs with, or will, is never deleted: it may have to be enabled again.
    if (keep.has(record.fingerprint)) continue;
    const certificate = planner.certificate(record.certificateId);
    // Only what is still disabled: a certificate someone re-enabled is theirs again.
    if (!certificate || certificate.knownEnabled !== false || isUsable(certificate)) continue;
    planner.actions.push({
      ...planner.target,
      kind: "delete",
      certificateId: record.certificateId,
      fingerprint: record.fingerprint,
      rotationId: null,
      reason: `disabled since ${record.at.toISOString()} (delete_disabled_after passed)`,
    });
  }
}

function planIntegration(
  scanned: ScannedIntegration,
  state: IntegrationState,
  account: string,
  ctx: Context,
): IntegrationPlanner | null {
  const { input, journal } = ctx;
  const integration = scanned.integration;
  const ruleIndex = matchRule(input.rotation.integrations, account, integration);
  if (ruleIndex === null) return null;
  const rule = input.rotation.integrations[ruleIndex]!;
  const target = { account, integrationId: integration.id, integrationName: integration.name };
  const planner = new IntegrationPlanner(target, ruleIndex, state, input.now);
  if (scanned.error || scanned.certificates === null) {
    planner.note("warn", "the scan could not read this integration; no rotation step this cycle");
    return planner;
  }
  const offer = input.offers.get(ruleIndex);
  // Without the IdP's word nothing is safe to change: a disable might hit the key it is about to use.
  if (offer && !offer.ok) {
    planner.note("warn", `${offer.source}: ${offer.message}; no rotation step this cycle`);
    return planner;
  }
  let view: IdpView | null = null;
  if (offer && watchesIdp(offer.source)) {
    const result = idpView(offer, state);
    if (!result.ok) {
      planner.note("warn", `${offer.source}: ${result.message}; no rotation step this cycle`);
      return planner;
    }
    view = result.view;
  }
  const backoff = journal.backoff.find(sameIntegration(account, integration.id));
  if (backoff && backoff.nextAttemptAt > input.now) {
    planner.note(
      "info",
      `backing off until ${backoff.nextAttemptAt.toISOString()} after ${backoff.failures} failure(s): ${backoff.lastError}`,
    );
    return planner;
  }
  for (const problem of offer?.problems ?? [])
    planner.note("warn", `source: ${problem.origin}: ${problem.message}`);
  // Every rotation under way moves on: a mirrored certificate waiting out its overlap must not hold up
  // the verification, or the retried upload, of the next one the IdP published.
  const same = sameIntegration(account, integration.id);
  const active = journal.rotations.filter((r) => same(r) && ACTIVE_PHASES.has(r.phase));
  for (const record of active) continueRotation(planner, record, rule, ctx);
  if (offer?.mode === "pick" && active.length === 0) startReplacement(planner, rule, offer, ctx);
  if (offer && view) {
    if (active.every((r) => r.kind === "mirror")) mirror(planner, rule, view, ctx);
    const rollovers = journal.rollovers.filter((r) => same(r) && ACTIVE_ROLLOVER_PHASES.has(r.phase));
    for (const record of rollovers) continueRollover(planner, record, view, ctx);
    // One that ended in this plan (retired, abandoned) no longer holds up the next.
    const stillActive = rollovers.some((r) =>
      ACTIVE_ROLLOVER_PHASES.has((ctx.rollovers.get(r.id) ?? r).phase),
    );
    if (!stillActive) startRollover(planner, rule, offer, view, ctx);
  }
  deleteExpiredDisables(planner, input.rotation, journal, view?.published ?? new Set());
  return planner;
}

export function plan(input: PlanInput): Plan {
  const journal = input.journal;
  const evaluation = evaluate(input.scanned, NO_THRESHOLDS, overridesOf(journal), input.now);
  const ctx: Context = {
    input,
    journal,
    uploadsLeft: input.rotation.maxRotationsPerCycle,
    retire: new Map(),
    unpublished: [...journal.unpublished],
    rollovers: new Map(),
  };
  const actions: Action[] = [];
  const notes: Note[] = [];
  input.scanned.accounts.forEach((scannedAccount, a) => {
    if (scannedAccount.error) return;
    if (input.only && input.only.account !== null && input.only.account !== scannedAccount.account) return;
    const accountState = evaluation.accounts[a]!;
    scannedAccount.integrations.forEach((scanned, i) => {
      if (input.only && input.only.integrationId !== scanned.integration.id) return;
      const planner = planIntegration(scanned, accountState.integrations[i]!, scannedAccount.account, ctx);
      if (!planner) return;
      actions.push(...planner.actions);
      notes.push(...planner.notes);
    });
  });
  const rotations = journal.rotations.map((r) =>
    ctx.retire.has(r.id)
      ? {
          ...r,
          phase: r.phase === "uploading" ? ("abandoned" as const) : ("retired" as const),
          retiredAt: ctx.retire.get(r.id)!,
        }
      : r,
  );
  const rollovers = [
    ...journal.rollovers.map((r) => ctx.rollovers.get(r.id) ?? r),
    ...[...ctx.rollovers.values()].filter((r) => !journal.rollovers.some((old) => old.id === r.id)),
  ];
  return { actions, notes, journal: { ...journal, rotations, rollovers, unpublished: ctx.unpublished } };
}
