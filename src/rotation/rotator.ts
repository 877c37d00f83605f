// The rotation executor: reconciles the journal with each scan, plans, and carries out the plan through
// the SendGrid client, journaling every step before and after and appending each change to the audit
// log. Loops plan -> execute -> re-read until nothing is left to do now, so one cycle takes a rotation
// as far as the rules allow (upload, verify, and with overlap 0s, disable). Never throws out of a
// cycle for a SendGrid failure: a failed step backs the integration off and shows in metrics and logs;
// only the guard (the state_dir lock lost) ends a cycle with an error, before the step it refuses.

import { parseCertificate } from "../certs/parse.js";
import type { Config } from "../config/types.js";
import type { Inventory, ScannedAccount } from "../core/inventory.js";
import {
  EMPTY_JOURNAL,
  overridesOf,
  reconcile,
  sameIntegration,
  withFailure,
  withRollover,
  withRotation,
  withSuccess,
  type Journal,
  type RolloverRecord,
  type RotationRecord,
  type StepRecord,
} from "../core/journal.js";
import type { Offer } from "../core/offer.js";
import { PERMISSION_DENIED, plan, type Action, type Note, type Plan } from "../core/plan.js";
import { planRollback } from "../core/rollback.js";
import type { EnabledOverrides } from "../core/inventory.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/registry.js";
import type { Clock } from "../scan/monitor.js";
import { ApiError } from "../http/errors.js";
import type { Sources } from "../sources/registry.js";
import type { IdpPort } from "../sources/types.js";
import type { SsoApi } from "../sendgrid/sso.js";
import { scanIntegration } from "../scan/inventory.js";
import type { AuditLog, AuditRecord } from "./audit.js";
import type { JsonStore } from "./store.js";

export interface RotatorOptions {
  readonly config: Config;
  /** The API of each configured account, by account name. */
  readonly apis: ReadonlyMap<string, SsoApi>;
  /** The rules' sources: read when the caller brings no offer, and the IdPs that rollover steps act on. */
  readonly sources: Sources;
  readonly store: JsonStore<Journal>;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  /** First backoff after a failure: one schedule interval. */
  readonly backoffBaseMs: number;
  readonly dryRun: boolean;
  /**
   * Called before every step that changes SendGrid; its rejection (the state_dir lock is lost) ends the
   * cycle with that error, the step not taken.
   */
  readonly guard?: () => Promise<void>;
}

export interface CycleOptions {
  readonly only?: {
    readonly account: string | null;
    readonly integrationId: string;
    readonly force?: boolean;
  };
  /**
   * Offers already read, by rule index: the scan's readings, or a replacement of a rule's source for this
   * cycle (`rotate --cert FILE`). Rules without one are read here.
   */
  readonly offers?: ReadonlyMap<number, Offer>;
}

export interface StepOutcome {
  readonly action: Action;
  readonly result: "success" | "failure" | "dry_run";
  readonly message: string;
}

export interface CycleReport {
  readonly steps: readonly StepOutcome[];
  readonly notes: readonly Note[];
  /**
   * SendGrid and the IdPs as the cycle left them (touched integrations and IdPs read again after its
   * steps): what status, metrics and the lockout detector must judge from now on, not the scan before.
   */
  readonly after?: { readonly scanned: Inventory; readonly offers: ReadonlyMap<number, Offer> };
}

const MAX_ITERATIONS = 8;
const REPLICATION_SLACK_MS = 30_000;
const DATE_TOLERANCE_MS = 60_000;

// After these a POST may have been applied (an unreadable 2xx body included): list and match by
// fingerprint before any retry.
const UNKNOWN_OUTCOME_KINDS: ReadonlySet<string> = new Set([
  "outcome_unknown",
  "timeout",
  "connection",
  "deadline",
  "invalid_response",
]);

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Rotator {
  private journal: Journal = EMPTY_JOURNAL;

  private constructor(private readonly options: RotatorOptions) {}

  /** Loads the journal; a corrupt one is set aside and rebuilt from SendGrid, never acted on. */
  static async open(options: RotatorOptions): Promise<Rotator> {
    const rotator = new Rotator(options);
    const outcome = await options.store.load();
    if (outcome.kind === "corrupt") options.logger.error(outcome.problem);
    rotator.journal = outcome.data;
    const step = outcome.data.inProgress;
    if (step) {
      options.logger.warn(
        {
          action: step.action,
          account: step.account,
          integration_id: step.integrationId,
          certificate_id: step.certificateId,
        },
        "the previous run stopped during this step; SendGrid's answer decides what happened",
      );
    }
    return rotator;
  }

  get current(): Journal {
    return this.journal;
  }

  overrides(): EnabledOverrides {
    return overridesOf(this.journal);
  }

  /** One rotation cycle over a fresh scan. */
  async cycle(scanned: Inventory, options: CycleOptions = {}): Promise<CycleReport> {
    const { config, clock, dryRun, sources } = this.options;
    const now = clock.now();
    // A step a crash interrupted is settled by what SendGrid shows now; keeping it would report it forever.
    await this.commit({ ...reconcile(this.journal, scanned, now), inProgress: null });
    const offers = new Map(options.offers ?? []);
    for (const [index, offer] of await sources.readAll((index) => !offers.has(index)))
      offers.set(index, offer);

    const steps: StepOutcome[] = [];
    const notes: Note[] = [];
    let inventory = scanned;
    let uploadsLeft = config.rotation.maxRotationsPerCycle;
    for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
      const planned: Plan = plan({
        scanned: inventory,
        offers,
        rotation: { ...config.rotation, maxRotationsPerCycle: uploadsLeft },
        journal: this.journal,
        now: clock.now(),
        settleMs: settleMs(config),
        ...(options.only ? { only: options.only } : {}),
      });
      if (iteration === 0) notes.push(...planned.notes);
      if (dryRun) {
        for (const action of planned.actions) steps.push(await this.dryRun(action));
        break;
      }
      await this.commit(planned.journal);
      if (planned.actions.length === 0) break;
      uploadsLeft -= planned.actions.filter((a) => a.kind === "upload" || a.kind === "generate").length;
      for (const action of planned.actions) steps.push(await this.execute(action));
      inventory = await this.refresh(inventory, planned.actions);
      // The IdP changed under the steps that act on it: plan the next ones on what it says now.
      const idpRules = new Set(planned.actions.flatMap((a) => ("ruleIndex" in a ? [a.ruleIndex] : [])));
      for (const index of idpRules) offers.set(index, await sources.read(index));
      await this.commit(reconcile(this.journal, inventory, clock.now()));
    }
    this.logNotes(notes);
    return {
      steps,
      notes,
      ...(steps.length > 0 && !dryRun ? { after: { scanned: inventory, offers } } : {}),
    };
  }

  /** `rollback`: undo the integration's last rotation (or IdP key rollover) under rule `ruleIndex`. */
  async rollback(
    scanned: Inventory,
    account: string,
    integrationId: string,
    ruleIndex: number,
  ): Promise<CycleReport> {
    const { clock, sources, dryRun } = this.options;
    await this.commit(reconcile(this.journal, scanned, clock.now()));
    const offer = await sources.read(ruleIndex);
    const planned = planRollback(scanned, this.journal, account, integrationId, clock.now(), {
      offer,
      ruleIndex,
    });
    if (!planned.ok) throw new RollbackRefused(planned.message);
    const steps: StepOutcome[] = [];
    for (const action of planned.actions) {
      const step = dryRun ? await this.dryRun(action) : await this.execute(action);
      steps.push(step);
      // Each step is the precondition of the next (the old certificate trusted before the IdP signs with
      // it, the IdP back on the old key before the new certificate goes): stop at the first failure.
      if (step.result === "failure") break;
    }
    if (!dryRun && steps.every((s) => s.result === "success")) {
      const { undo } = planned;
      await this.commit(
        undo.kind === "rotation"
          ? withRotation(this.journal, { ...undo.rotation, phase: "rolled_back", note: "rolled back" })
          : withRollover(this.journal, {
              ...(this.journal.rollovers.find((r) => r.id === undo.rollover.id) ?? undo.rollover),
              phase: "rolled_back",
              note: "rolled back",
              retiredAt: clock.now(),
            }),
      );
    }
    return { steps, notes: [] };
  }

  /** A dry run keeps its bookkeeping in memory: it changes nothing, on SendGrid or on disk. */
  private async commit(journal: Journal): Promise<void> {
    if (journal === this.journal) return;
    this.journal = journal;
    if (!this.options.dryRun) await this.options.store.save(journal);
  }

  private api(account: string): SsoApi {
    const api = this.options.apis.get(account);
    if (!api) throw new Error(`no API client for account ${account}`);
    return api;
  }

  private logNotes(notes: readonly Note[]): void {
    for (const note of notes) {
      this.options.logger[note.level](
        { account: note.account, integration_id: note.integrationId, integration: note.integrationName },
        note.message,
      );
    }
  }

  private async audit(
    action: Action,
    result: AuditRecord["result"],
    message: string,
    certificateId?: string | null,
  ): Promise<void> {
    await this.options.audit.append({
      time: this.options.clock.now(),
      account: action.account,
      integrationId: action.integrationId,
      certificateId: certificateId ?? ("certificateId" in action ? action.certificateId : null),
      fingerprintSha256: fingerprintOf(action),
      action: action.kind,
      result,
      message,
    });
  }

  private async dryRun(action: Action): Promise<StepOutcome> {
    const message = `dry run: would ${action.kind}: ${action.reason}`;
    this.options.logger.info(
      { account: action.account, integration_id: action.integrationId, action: action.kind },
      message,
    );
    await this.audit(action, "dry_run", action.reason);
    this.options.metrics?.rotation(
      action.account,
      action.integrationId,
      action.kind,
      "skipped",
      this.options.clock.now(),
    );
    return { action, result: "dry_run", message };
  }

  private async execute(action: Action): Promise<StepOutcome> {
    const { logger, clock, metrics } = this.options;
    const target = { account: action.account, integrationId: action.integrationId };
    const step: StepRecord = {
      action: action.kind,
      ...target,
      certificateId: "certificateId" in action ? action.certificateId : null,
      rotationId: recordIdOf(action),
      startedAt: clock.now(),
    };
    await this.options.guard?.();
    await this.commit({ ...this.intentOf(action), inProgress: step });
    let outcome: Outcome;
    try {
      outcome = await this.perform(action);
    } catch (error) {
      outcome = { ok: false, message: describe(error), journal: this.journal };
    }
    const now = clock.now();
    const after = outcome.ok
      ? withSuccess(outcome.journal, target)
      : outcome.backoff === false
        ? outcome.journal
        : withFailure(outcome.journal, target, outcome.message, now, this.options.backoffBaseMs);
    await this.commit({ ...after, inProgress: null });
    const level = outcome.ok ? "info" : "error";
    logger[level](
      {
        account: action.account,
        integration_id: action.integrationId,
        action: action.kind,
        reason: action.reason,
      },
      `${action.kind}: ${outcome.message}`,
    );
    await this.audit(action, outcome.ok ? "success" : "failure", outcome.message, outcome.certificateId);
    metrics?.rotation(
      action.account,
      action.integrationId,
      action.kind,
      outcome.ok ? "success" : "failure",
      now,
    );
    const backoff = after.backoff.find(sameIntegration(action.account, action.integrationId));
    metrics?.rotationBackoffUntil(action.account, action.integrationId, backoff?.nextAttemptAt ?? null);
    return { action, result: outcome.ok ? "success" : "failure", message: outcome.message };
  }

  /**
   * What is journaled before a step's call: the record of an upload or generate (so a lost answer is
   * looked for, never repeated blindly), an activation under way.
   */
  private intentOf(action: Action): Journal {
    switch (action.kind) {
      case "upload":
        return withRotation(this.journal, { ...action.rotation, attemptedAt: this.options.clock.now() });
      case "generate":
        return withRollover(this.journal, { ...action.rollover, phase: "generating" });
      case "activate":
        // Rolling back re-activates the previous key: the rollover's own phase is not this step's.
        return action.keyId === action.rollover.key?.id
          ? withRollover(this.journal, { ...action.rollover, phase: "activating" })
          : this.journal;
      default:
        return this.journal;
    }
  }

  private port(ruleIndex: number): IdpPort {
    const port = this.options.sources.port(ruleIndex);
    if (!port) throw new Error(`rule ${ruleIndex} has no IdP to act on`);
    return port;
  }

  private async perform(action: Action): Promise<Outcome> {
    const now = this.options.clock.now();
    switch (action.kind) {
      case "generate":
        return this.generate(this.port(action.ruleIndex), action.rollover, now);
      case "activate":
        return this.activate(this.port(action.ruleIndex), action.rollover, action.keyId, now);
      case "confirm":
        return this.confirm(this.port(action.ruleIndex), action.rollover, action.keyId, now);
    }
    const api = this.api(action.account);
    switch (action.kind) {
      case "upload":
        return this.upload(api, action.rotation, now);
      case "verify":
        return this.verify(api, action.rotation, action.certificateId, now);
      case "disable":
      case "enable":
        return this.toggle(api, action, action.kind === "enable", now);
      case "delete":
        return this.delete(api, action);
    }
  }

  /**
   * What the integration's certificate list says of one certificate: its record, or null when it is gone.
   * After a failed or unclear write this decides, never the status code: the spec documents no 404 for any
   * SSO call, so "not found" may come as a 400, and an error may follow a change that was applied.
   */
  private async listed(api: SsoApi, integrationId: string, certificateId: string) {
    const listed = await api.listCertificates(integrationId);
    return listed.find((c) => c.id === certificateId) ?? null;
  }

  private async toggle(api: SsoApi, action: CertificateStep, enabled: boolean, now: Date): Promise<Outcome> {
    const verb = enabled ? "enabled" : "disabled";
    const applied = (how: string): Outcome => {
      const others = this.journal.disabled.filter(
        (d) => d.certificateId !== action.certificateId || d.account !== action.account,
      );
      const disabled = enabled
        ? others
        : [
            ...others,
            {
              account: action.account,
              integrationId: action.integrationId,
              certificateId: action.certificateId,
              fingerprint: action.fingerprint,
              at: now,
            },
          ];
      return {
        ok: true,
        message: `${verb} certificate ${action.certificateId}${how}`,
        journal: { ...this.journal, disabled },
      };
    };
    let failure: Error | null = null;
    try {
      const answer = await api.updateCertificate(action.certificateId, { enabled });
      if (answer?.enabled === enabled) return applied("");
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    // A failure, or a 2xx whose answer does not show the change (empty, partial, or without `enabled`).
    const found = await this.listed(api, action.integrationId, action.certificateId);
    if (found === null)
      return {
        ok: true,
        message: `certificate ${action.certificateId} is gone already`,
        journal: this.journal,
      };
    if (found.enabled === enabled) return applied(failure === null ? "" : " (the list shows it applied)");
    if (failure !== null) throw failure;
    if (found.enabled === null) return applied("");
    return {
      ok: false,
      message: `SendGrid accepted the change but lists certificate ${action.certificateId} as still ${enabled ? "disabled" : "enabled"}`,
      journal: this.journal,
    };
  }

  private async delete(api: SsoApi, action: CertificateStep): Promise<Outcome> {
    try {
      await api.deleteCertificate(action.certificateId);
    } catch (error) {
      if ((await this.listed(api, action.integrationId, action.certificateId)) !== null) throw error;
    }
    const disabled = this.journal.disabled.filter(
      (d) => d.certificateId !== action.certificateId || d.account !== action.account,
    );
    return {
      ok: true,
      message: `deleted certificate ${action.certificateId}`,
      journal: { ...this.journal, disabled },
    };
  }

  private async upload(api: SsoApi, record: RotationRecord, now: Date): Promise<Outcome> {
    const uploaded = (certificateId: string, message: string): Outcome => ({
      ok: true,
      message,
      certificateId,
      journal: withRotation(this.journal, { ...record, phase: "uploaded", certificateId, uploadedAt: now }),
    });
    try {
      const created = await api.createCertificate({
        integrationId: record.integrationId,
        pem: record.pem,
        enabled: true,
      });
      return uploaded(created.id, `uploaded ${record.origin} as certificate ${created.id}`);
    } catch (error) {
      // Whatever the error, SendGrid may hold the certificate (an answer lost or unreadable, an error after
      // the write): look for it by fingerprint before retrying or giving up.
      const listed = await api.listCertificates(record.integrationId);
      const found = listed.find((c) => {
        const parsed = parseCertificate(c.pem);
        return parsed.ok && parsed.certificate.fingerprintSha256 === record.fingerprint;
      });
      if (found) {
        const what = answerLost(error)
          ? `answer lost (${error.kind})`
          : `answer was an error (${describe(error)})`;
        return uploaded(found.id, `upload ${what}; found it as certificate ${found.id} by fingerprint`);
      }
      if (answerLost(error))
        return {
          ok: false,
          message: `upload outcome unknown and not on the integration; will retry: ${describe(error)}`,
          journal: this.journal,
        };
      const abandoned = withRotation(this.journal, { ...record, phase: "abandoned", note: describe(error) });
      return { ok: false, message: `upload refused: ${describe(error)}`, journal: abandoned };
    }
  }

  private async verify(api: SsoApi, record: RotationRecord, certificateId: string, now: Date) {
    const fail = (message: string) => ({
      ok: false,
      message,
      journal: withRotation(this.journal, { ...record, phase: "abandoned" as const, note: message }),
    });
    let stored;
    try {
      stored = await api.getCertificate(certificateId);
    } catch {
      // Gone or not, the integration's list says: "not found" has no documented status.
      stored = await this.listed(api, record.integrationId, certificateId);
      if (stored === null) return fail(`certificate ${certificateId} vanished before it could be verified`);
    }
    const parsed = parseCertificate(stored.pem);
    if (!parsed.ok)
      return fail(`SendGrid returns certificate ${certificateId} as unparseable: ${parsed.failure.message}`);
    const { certificate } = parsed;
    const problems: string[] = [];
    if (certificate.fingerprintSha256 !== record.fingerprint)
      problems.push(`fingerprint ${certificate.fingerprintSha256} is not the uploaded ${record.fingerprint}`);
    if (certificate.notAfter.getTime() !== record.notAfter.getTime())
      problems.push(`not_after ${certificate.notAfter.toISOString()} differs`);
    if (
      stored.notAfter &&
      Math.abs(stored.notAfter.getTime() - certificate.notAfter.getTime()) > DATE_TOLERANCE_MS
    ) {
      problems.push(`the API's not_after ${stored.notAfter.toISOString()} disagrees with the PEM`);
    }
    if (stored.enabled === false) problems.push("SendGrid reports it disabled");
    if (problems.length > 0)
      return fail(`verification of certificate ${certificateId} failed: ${problems.join("; ")}`);
    return {
      ok: true,
      message: `verified certificate ${certificateId} (fingerprint and dates match)`,
      journal: withRotation(this.journal, { ...record, phase: "verified", certificateId, verifiedAt: now }),
    };
  }

  /** Journals the rollover as `phase` (plus changes) on success. */
  private rolledTo(record: RolloverRecord, changes: Partial<RolloverRecord>): Journal {
    return withRollover(this.journal, { ...record, ...changes });
  }

  private async generate(port: IdpPort, record: RolloverRecord, now: Date): Promise<Outcome> {
    const intent = record.intent!;
    try {
      const key = await port.generate({ validityYears: intent.validityYears, subject: intent.subject });
      const parsed = parseCertificate(key.pem);
      if (!parsed.ok) {
        const message = `${port.describe()} generated key ${key.id} with an unreadable certificate: ${parsed.failure.message}`;
        return { ok: false, message, journal: this.rolledTo(record, { phase: "abandoned", note: message }) };
      }
      const { fingerprintSha256, notAfter } = parsed.certificate;
      return {
        ok: true,
        message: `${port.describe()} generated key ${key.id} (certificate ${fingerprintSha256}, valid until ${notAfter.toISOString()})`,
        journal: this.rolledTo(record, {
          phase: "generated",
          key: { id: key.id, fingerprint: fingerprintSha256, notAfter },
        }),
      };
    } catch (error) {
      // Unknown: the key may exist. The record stays `generating`; the next plan looks for it by listing.
      if (answerLost(error))
        return {
          ok: false,
          message: `generate answer lost (${describe(error)}); the IdP's key list will tell`,
          journal: this.rolledTo(record, { phase: "generating" }),
        };
      const denied = permissionDenied(error);
      return {
        ok: false,
        message: `generate refused: ${describe(error)}`,
        journal: this.rolledTo(record, {
          phase: "abandoned",
          note: `${denied ? PERMISSION_DENIED : ""}${describe(error)}`,
          retiredAt: now,
        }),
        ...(denied ? { backoff: false as const } : {}),
      };
    }
  }

  private async activate(port: IdpPort, record: RolloverRecord, keyId: string, now: Date): Promise<Outcome> {
    const forward = keyId === record.key?.id;
    try {
      await port.activate(keyId);
      return {
        ok: true,
        message: `${port.describe()} now signs with key ${keyId}`,
        journal: forward ? this.rolledTo(record, { phase: "activated", activatedAt: now }) : this.journal,
      };
    } catch (error) {
      // A lost answer stays `activating`: the confirm step reads the IdP back and settles it.
      if (answerLost(error))
        return {
          ok: false,
          message: `activate answer lost (${describe(error)}); reading the IdP back next`,
          journal: forward ? this.rolledTo(record, { phase: "activating" }) : this.journal,
        };
      if (forward && permissionDenied(error))
        return {
          ok: false,
          message: `activate refused: ${describe(error)}`,
          journal: this.rolledTo(record, {
            phase: "abandoned",
            note: `${PERMISSION_DENIED}${describe(error)}`,
            retiredAt: now,
          }),
          backoff: false,
        };
      return {
        ok: false,
        message: `activate refused: ${describe(error)}`,
        journal: forward ? this.rolledTo(record, { phase: "generated" }) : this.journal,
      };
    }
  }

  private async confirm(port: IdpPort, record: RolloverRecord, keyId: string, now: Date): Promise<Outcome> {
    const forward = keyId === record.key?.id;
    const keys = await port.read();
    const signs = keys.activeKeyId ?? "no key";
    if (keys.activeKeyId === keyId)
      return {
        ok: true,
        message: `confirmed: ${port.describe()} signs with key ${keyId}`,
        journal: forward
          ? this.rolledTo(record, {
              phase: "confirmed",
              activatedAt: record.activatedAt ?? now,
              confirmedAt: now,
            })
          : this.journal,
      };
    // The activation whose answer was lost never happened: back to activate, after the same trust checks.
    if (forward && record.phase === "activating")
      return {
        ok: true,
        message: `the lost activation of key ${keyId} did not happen (the IdP signs with ${signs})`,
        journal: this.rolledTo(record, { phase: "generated" }),
      };
    return {
      ok: false,
      message: `${port.describe()} signs with ${signs}, not the activated key ${keyId}; reading again later`,
      journal: this.journal,
    };
  }

  /** Re-reads the certificates of every integration the actions touched: SendGrid is the truth. */
  private async refresh(inventory: Inventory, actions: readonly Action[]): Promise<Inventory> {
    const touched = new Set(actions.map((a) => `${a.account}\u0000${a.integrationId}`));
    const accounts = await Promise.all(
      inventory.accounts.map(async (account): Promise<ScannedAccount> => ({
        ...account,
        integrations: await Promise.all(
          account.integrations.map((scanned) =>
            touched.has(`${account.account}\u0000${scanned.integration.id}`)
              ? scanIntegration(this.api(account.account), scanned.integration)
              : Promise.resolve(scanned),
          ),
        ),
      })),
    );
    return { accounts };
  }
}

/**
 * A generate whose answer was lost shows in the IdP's key list within the client's own deadline (every
 * retry and wait), plus slack for the IdP's replication; past that it was never made.
 */
export function settleMs(config: Config): number {
  const { timeoutMs, maxRetries } = config.http;
  return timeoutMs * (maxRetries + 1) + REPLICATION_SLACK_MS;
}

/** A step on one existing certificate: disable, enable or delete. */
type CertificateStep = Extract<Action, { kind: "disable" | "delete" | "enable" }>;

type Outcome = {
  ok: boolean;
  message: string;
  journal: Journal;
  certificateId?: string | null;
  /**
   * false: a failure that retrying cannot mend (the IdP refused a write for want of a permission); the
   * integration is not backed off, so its SendGrid side keeps being mirrored while managing keys is off.
   */
  backoff?: false;
};

/** The IdP refused a write: the credential lacks a permission (the error names it). */
function permissionDenied(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 403;
}

/** A write whose answer never came: it may or may not have been applied. */
function answerLost(error: unknown): error is ApiError {
  return error instanceof ApiError && UNKNOWN_OUTCOME_KINDS.has(error.kind);
}

function fingerprintOf(action: Action): string | null {
  switch (action.kind) {
    case "upload":
    case "verify":
      return action.rotation.fingerprint;
    case "generate":
    case "activate":
    case "confirm":
      return action.rollover.key?.fingerprint ?? null;
    default:
      return action.fingerprint || null;
  }
}

function recordIdOf(action: Action): string | null {
  switch (action.kind) {
    case "upload":
    case "verify":
      return action.rotation.id;
    case "generate":
    case "activate":
    case "confirm":
      return action.rollover.id;
    default:
      return action.rotationId;
  }
}

export class RollbackRefused extends Error {
  override readonly name = "RollbackRefused";
}
