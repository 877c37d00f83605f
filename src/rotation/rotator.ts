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
  withRotation,
  withSuccess,
  type Journal,
  type RotationRecord,
  type StepRecord,
} from "../core/journal.js";
import { plan, type Action, type Note, type Plan, type SourceOffer } from "../core/plan.js";
import { planRollback } from "../core/rollback.js";
import type { EnabledOverrides } from "../core/inventory.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/registry.js";
import type { Clock } from "../scan/monitor.js";
import { SendGridError } from "../sendgrid/errors.js";
import type { SsoApi } from "../sendgrid/sso.js";
import { scanIntegration } from "../scan/inventory.js";
import type { AuditLog, AuditRecord } from "./audit.js";
import { readOffers } from "./offers.js";
import type { JsonStore } from "./store.js";

export interface RotatorOptions {
  readonly config: Config;
  /** The API of each configured account, by account name. */
  readonly apis: ReadonlyMap<string, SsoApi>;
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
  /** Replaces a rule's source for this cycle (`rotate --cert FILE`). */
  readonly offers?: ReadonlyMap<number, SourceOffer>;
}

export interface StepOutcome {
  readonly action: Action;
  readonly result: "success" | "failure" | "dry_run";
  readonly message: string;
}

export interface CycleReport {
  readonly steps: readonly StepOutcome[];
  readonly notes: readonly Note[];
}

const MAX_ITERATIONS = 8;
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

function isNotFound(error: unknown): boolean {
  return error instanceof SendGridError && error.status === 404;
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
    const { config, clock, dryRun } = this.options;
    const now = clock.now();
    // A step a crash interrupted is settled by what SendGrid shows now; keeping it would report it forever.
    await this.commit({ ...reconcile(this.journal, scanned, now), inProgress: null });
    const rules = config.rotation.integrations;
    const offers = new Map(
      await readOffers(rules, config.http.timeoutMs, (index) => !options.offers?.has(index)),
    );
    for (const [index, offer] of options.offers ?? []) offers.set(index, offer);

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
        ...(options.only ? { only: options.only } : {}),
      });
      if (iteration === 0) notes.push(...planned.notes);
      if (dryRun) {
        for (const action of planned.actions) steps.push(await this.dryRun(action));
        break;
      }
      await this.commit(planned.journal);
      if (planned.actions.length === 0) break;
      uploadsLeft -= planned.actions.filter((a) => a.kind === "upload").length;
      for (const action of planned.actions) steps.push(await this.execute(action));
      inventory = await this.refresh(inventory, planned.actions);
      await this.commit(reconcile(this.journal, inventory, clock.now()));
    }
    this.logNotes(notes);
    return { steps, notes };
  }

  /** `rollback`: undo the integration's last rotation. */
  async rollback(scanned: Inventory, account: string, integrationId: string): Promise<CycleReport> {
    await this.commit(reconcile(this.journal, scanned, this.options.clock.now()));
    const planned = planRollback(scanned, this.journal, account, integrationId, this.options.clock.now());
    if (!planned.ok) throw new RollbackRefused(planned.message);
    const steps: StepOutcome[] = [];
    for (const action of planned.actions) {
      const step = this.options.dryRun ? await this.dryRun(action) : await this.execute(action);
      steps.push(step);
      // The uploaded certificate may only be disabled once the old one is enabled again: stop here.
      if (step.result === "failure") break;
    }
    if (!this.options.dryRun && steps.every((s) => s.result === "success")) {
      await this.commit(
        withRotation(this.journal, { ...planned.rotation, phase: "rolled_back", note: "rolled back" }),
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
    const fingerprint =
      action.kind === "upload" || action.kind === "verify" ? action.rotation.fingerprint : action.fingerprint;
    await this.options.audit.append({
      time: this.options.clock.now(),
      account: action.account,
      integrationId: action.integrationId,
      certificateId: certificateId ?? ("certificateId" in action ? action.certificateId : null),
      fingerprintSha256: fingerprint || null,
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
    if (action.kind === "upload")
      this.options.metrics?.rotation(
        action.account,
        action.integrationId,
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
      rotationId:
        action.kind === "upload" || action.kind === "verify" ? action.rotation.id : action.rotationId,
      startedAt: clock.now(),
    };
    await this.options.guard?.();
    const before = action.kind === "upload" ? withRotation(this.journal, action.rotation) : this.journal;
    await this.commit({ ...before, inProgress: step });
    let outcome: { ok: boolean; message: string; journal: Journal; certificateId?: string | null };
    try {
      outcome = await this.perform(action);
    } catch (error) {
      outcome = { ok: false, message: describe(error), journal: this.journal };
    }
    const now = clock.now();
    const after = outcome.ok
      ? withSuccess(outcome.journal, target)
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
    if (!outcome.ok) metrics?.rotation(action.account, action.integrationId, "failure", now);
    else if (action.kind === "verify")
      metrics?.rotation(action.account, action.integrationId, "success", now);
    const backoff = after.backoff.find(sameIntegration(action.account, action.integrationId));
    metrics?.rotationBackoffUntil(action.account, action.integrationId, backoff?.nextAttemptAt ?? null);
    return { action, result: outcome.ok ? "success" : "failure", message: outcome.message };
  }

  private async perform(
    action: Action,
  ): Promise<{ ok: boolean; message: string; journal: Journal; certificateId?: string | null }> {
    const api = this.api(action.account);
    const now = this.options.clock.now();
    switch (action.kind) {
      case "upload":
        return this.upload(api, action.rotation, now);
      case "verify":
        return this.verify(api, action.rotation, action.certificateId, now);
      case "disable":
      case "enable": {
        const enabled = action.kind === "enable";
        try {
          await api.updateCertificate(action.certificateId, { enabled });
        } catch (error) {
          if (!isNotFound(error)) throw error;
          return {
            ok: true,
            message: `certificate ${action.certificateId} is gone already`,
            journal: this.journal,
          };
        }
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
          message: `${enabled ? "enabled" : "disabled"} certificate ${action.certificateId}`,
          journal: { ...this.journal, disabled },
        };
      }
      case "delete": {
        try {
          await api.deleteCertificate(action.certificateId);
        } catch (error) {
          if (!isNotFound(error)) throw error;
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
    }
  }

  private async upload(api: SsoApi, record: RotationRecord, now: Date) {
    const uploaded = (certificateId: string, message: string) => ({
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
      if (!(error instanceof SendGridError) || !UNKNOWN_OUTCOME_KINDS.has(error.kind)) {
        const abandoned = withRotation(this.journal, {
          ...record,
          phase: "abandoned",
          note: describe(error),
        });
        return { ok: false, message: `upload refused: ${describe(error)}`, journal: abandoned };
      }
      // The answer was lost: SendGrid may or may not have the certificate. Look before any retry.
      const listed = await api.listCertificates(record.integrationId);
      const found = listed.find((c) => {
        const parsed = parseCertificate(c.pem);
        return parsed.ok && parsed.certificate.fingerprintSha256 === record.fingerprint;
      });
      if (found)
        return uploaded(
          found.id,
          `upload answer lost (${error.kind}); found it as certificate ${found.id} by fingerprint`,
        );
      return {
        ok: false,
        message: `upload outcome unknown and not on the integration; will retry: ${describe(error)}`,
        journal: this.journal,
      };
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
    } catch (error) {
      if (isNotFound(error)) return fail(`certificate ${certificateId} vanished before it could be verified`);
      throw error;
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

export class RollbackRefused extends Error {
  override readonly name = "RollbackRefused";
}
