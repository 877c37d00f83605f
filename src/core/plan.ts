// The rotation planner: plan(scan, config, journal, now) -> the API steps to take now, each with its
// reason, plus the journal's bookkeeping. Pure and total. Every safety rule of SPEC.md lives here, so
// the executor, `plan`, `rotate` and the property tests all share one definition of "safe":
// never disable or delete the last valid enabled certificate, never touch an unmatched integration,
// never act on an integration the scan failed to read, never start more than max_rotations_per_cycle.

import { validateCandidate, type Candidate, type Rejection } from "../certs/validate.js";
import type { IntegrationMatch, RotateBefore, RotationConfig, RotationRule } from "../config/types.js";
import { parseCertificate } from "../certs/parse.js";
import { selectFileCandidate } from "../sources/file.js";
import type { MetadataResult } from "../sources/metadata.js";
import type { SourceInput, SourceNote } from "../sources/types.js";
import type { Inventory, ScannedIntegration } from "./inventory.js";
import {
  ACTIVE_PHASES,
  overridesOf,
  sameIntegration,
  type Journal,
  type RotationRecord,
  type UnpublishedRecord,
} from "./journal.js";
import type { Integration } from "./model.js";
import { evaluate, isUsable, type CertificateState, type IntegrationState } from "./status.js";

/** What a rule's source offered this cycle, read by the shell before planning. */
export type SourceOffer =
  | {
      readonly type: "file";
      readonly inputs: readonly SourceInput[];
      readonly problems: readonly SourceNote[];
    }
  | { readonly type: "metadata"; readonly result: MetadataResult };

interface Target {
  readonly account: string;
  readonly integrationId: string;
  readonly integrationName: string;
}

export type Action =
  | (Target & { readonly kind: "upload"; readonly rotation: RotationRecord; readonly reason: string })
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
  readonly offers: ReadonlyMap<number, SourceOffer>;
  readonly rotation: RotationConfig;
  readonly journal: Journal;
  readonly now: Date;
  /** Restrict planning to one integration; `force` ignores rotate_before (the `rotate` command). */
  readonly only?: {
    readonly account: string | null;
    readonly integrationId: string;
    readonly force?: boolean;
  };
}

// Only "is it usable" matters to the planner; the warning thresholds of the status page do not.
const NO_THRESHOLDS = { warningMs: 0, criticalMs: 0 };

export function matchRule(
  rules: readonly RotationRule[],
  account: string,
  integration: Integration,
): number | null {
  const matches = (match: IntegrationMatch) =>
    "id" in match ? match.id === integration.id : match.name === integration.name;
  const index = rules.findIndex(
    (rule) => (rule.account === null || rule.account === account) && matches(rule.match),
  );
  return index === -1 ? null : index;
}

/** Is the best certificate within `rotate_before` of its end? */
export function isDue(best: CertificateState | null, rotateBefore: RotateBefore, now: Date): boolean {
  if (!best || !isUsable(best)) return true;
  const left = best.notAfter.getTime() - now.getTime();
  if (rotateBefore.kind === "duration") return left <= rotateBefore.ms;
  const lifetime = best.notAfter.getTime() - best.parsed.notBefore.getTime();
  return left <= (lifetime * rotateBefore.percent) / 100;
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
  offer: SourceOffer & { type: "file" },
  ctx: Context,
): void {
  const { now, state } = planner;
  for (const problem of offer.problems) planner.note("warn", `source: ${problem.origin}: ${problem.message}`);
  if (!ctx.input.only?.force && !isDue(state.best, rule.rotateBefore, now)) return;
  const { candidate, rejections } = selectFileCandidate(offer, {
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

function mirrorMetadata(
  planner: IntegrationPlanner,
  rule: RotationRule,
  offer: SourceOffer & { type: "metadata" },
  ctx: Context,
): void {
  const { now, state, target } = planner;
  if (!offer.result.ok) return planner.note("warn", `metadata: ${offer.result.message}; changing nothing`);
  const same = sameIntegration(target.account, target.integrationId);
  const present = planner.fingerprints();
  // A lost upload still in the journal is retried by continueRotation, never uploaded a second time here;
  // nor is a certificate the document lists twice.
  const inFlight = new Set(
    ctx.journal.rotations.filter((r) => same(r) && ACTIVE_PHASES.has(r.phase)).map((r) => r.fingerprint),
  );
  const published = new Set<string>();
  offer.result.signing.forEach((text, index) => {
    const parsed = parseCertificate(text);
    if (parsed.ok) published.add(parsed.certificate.fingerprintSha256);
    const verdict = validateCandidate(
      { origin: `metadata signing certificate #${index + 1}`, text },
      { now, presentFingerprints: new Set([...present, ...inFlight]), mustOutlive: null },
    );
    if (!verdict.ok) {
      const worth = verdict.rejections.filter((r) => r.code !== "already_present");
      if (worth.length > 0) planner.note("warn", `metadata: ${describeRejections(worth)}`);
      return;
    }
    if (ctx.uploadsLeft <= 0)
      return planner.note("info", "mirror upload postponed: max_rotations_per_cycle reached");
    ctx.uploadsLeft--;
    inFlight.add(verdict.candidate.certificate.fingerprintSha256);
    planner.actions.push({
      ...target,
      kind: "upload",
      rotation: newRotation(target, "mirror", verdict.candidate, [], now),
      reason: `the IdP's metadata publishes a signing certificate valid until ${verdict.candidate.certificate.notAfter.toISOString()}`,
    });
  });
  if (published.size === 0) return;
  // Certificates the IdP stopped publishing: remembered from the first cycle they are missing, disabled
  // after the overlap, never the last usable one, and only while a published one stays usable.
  const unpublishedNow = state.certificates.filter(
    (c) => c.enabled && c.parsed !== null && !published.has(c.parsed.fingerprintSha256),
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
        `certificate ${certificate.api.id} is not in the IdP's metadata; disabling it after the overlap`,
      );
      continue;
    }
    if (now.getTime() - record.since.getTime() < rule.overlapMs) continue;
    planner.disable(
      certificate,
      null,
      `not published in the IdP's metadata since ${record.since.toISOString()}`,
      (c) => c.parsed !== null && published.has(c.parsed.fingerprintSha256),
    );
  }
}

function deleteExpiredDisables(planner: IntegrationPlanner, config: RotationConfig, journal: Journal): void {
  if (config.deleteDisabledAfterMs === null) return;
  const same = sameIntegration(planner.target.account, planner.target.integrationId);
  for (const record of journal.disabled.filter(same)) {
    if (planner.now.getTime() - record.at.getTime() < config.deleteDisabledAfterMs) continue;
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
  const planner = new IntegrationPlanner(target, state, input.now);
  if (scanned.error || scanned.certificates === null) {
    planner.note("warn", "the scan could not read this integration; no rotation step this cycle");
    return planner;
  }
  const backoff = journal.backoff.find(sameIntegration(account, integration.id));
  if (backoff && backoff.nextAttemptAt > input.now) {
    planner.note(
      "info",
      `backing off until ${backoff.nextAttemptAt.toISOString()} after ${backoff.failures} failure(s): ${backoff.lastError}`,
    );
    return planner;
  }
  const offer = input.offers.get(ruleIndex);
  // Every rotation under way moves on: a mirrored certificate waiting out its overlap must not hold up
  // the verification, or the retried upload, of the next one the IdP published.
  const same = sameIntegration(account, integration.id);
  const active = journal.rotations.filter((r) => same(r) && ACTIVE_PHASES.has(r.phase));
  for (const record of active) continueRotation(planner, record, rule, ctx);
  if (active.length === 0 && offer?.type === "file") startReplacement(planner, rule, offer, ctx);
  if (offer?.type === "metadata" && active.every((r) => r.kind === "mirror"))
    mirrorMetadata(planner, rule, offer, ctx);
  deleteExpiredDisables(planner, input.rotation, journal);
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
  return { actions, notes, journal: { ...journal, rotations, unpublished: ctx.unpublished } };
}
