// The daemon's scanning state: runs scans one at a time, keeps the latest carried-forward inventory and
// per-account scan statistics, and answers the metrics registry, the status page and /readyz from them.
// Owns no timer: the scheduler calls scan(); a call while one runs is skipped, counted and logged.

import type { ParseCacheFile } from "../certs/parse-cache-file.js";
import { carryForward } from "../core/carry-forward.js";
import { NO_OVERRIDES, type EnabledOverrides, type Inventory } from "../core/inventory.js";
import type { Failure } from "../core/model.js";
import { watchesIdp, type Offer } from "../core/offer.js";
import { evaluate, type Evaluation, type Thresholds } from "../core/status.js";
import type { Logger } from "../log.js";
import type { AccountScanStats, Metrics, MetricsSource } from "../metrics/registry.js";
import type { Sources } from "../sources/registry.js";
import { scanAll, type ScanTarget } from "./inventory.js";

export interface Clock {
  now(): Date;
}

export interface MonitorOptions {
  readonly targets: readonly ScanTarget[];
  readonly thresholds: Thresholds;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Read at every evaluation: the rotation journal changes between scans. */
  readonly overrides?: () => EnabledOverrides;
  /** The rules' sources: the IdPs among them are read with every scan, for the lockout detector. */
  readonly sources?: Sources;
  /** Read before the first scan, written after each scan that parsed a certificate no run had seen. */
  readonly parseCache?: ParseCacheFile;
}

/** A failure found by the last scan, located for the status page and logs. */
export interface LocatedFailure extends Failure {
  readonly account: string;
  readonly integrationId: string | null;
  readonly certificateId: string | null;
}

export interface ScanResult {
  /** The raw scan: what the API answered this time, failures included. */
  readonly scanned: Inventory;
  /** The scan with the last good data in place of what failed: what decisions are made on. */
  readonly inventory: Inventory;
  readonly failures: readonly LocatedFailure[];
  /** The IdP sources read with this scan, by rule index; never carried forward: a failure shows. */
  readonly offers: ReadonlyMap<number, Offer>;
}

/** Reads the sources that watch an IdP (okta, entra, metadata); files are the rotator's to read. */
export function readIdpSources(sources: Sources | undefined): Promise<Map<number, Offer>> {
  if (!sources) return Promise.resolve(new Map<number, Offer>());
  return sources.readAll((index) => watchesIdp(sources.rules[index]!.source.type));
}

export function failuresOf(inventory: Inventory): LocatedFailure[] {
  const found: LocatedFailure[] = [];
  for (const account of inventory.accounts) {
    const at = { account: account.account, integrationId: null, certificateId: null };
    if (account.error) found.push({ ...at, ...account.error });
    for (const scanned of account.integrations) {
      const integrationId = scanned.integration.id;
      if (scanned.error) found.push({ ...at, integrationId, ...scanned.error });
      for (const certificate of scanned.certificates ?? []) {
        if (!certificate.parsed.ok) {
          found.push({
            ...at,
            integrationId,
            certificateId: certificate.api.id,
            ...certificate.parsed.failure,
          });
        }
      }
    }
  }
  return found;
}

export class Monitor implements MetricsSource {
  private inventory: Inventory | null = null;
  private offers: ReadonlyMap<number, Offer> = new Map();
  private stats = new Map<string, AccountScanStats>();
  private running: Promise<ScanResult> | null = null;
  private lastFailures: readonly LocatedFailure[] = [];
  private readonly reportedMismatches = new Set<string>();

  constructor(private readonly options: MonitorOptions) {
    for (const target of options.targets) {
      this.stats.set(target.account, {
        account: target.account,
        lastScrapeAt: null,
        lastSuccessAt: null,
        durationSeconds: null,
        success: false,
      });
    }
  }

  /** True once a scan has completed, whatever it found: /readyz. */
  get ready(): boolean {
    return this.inventory !== null;
  }

  get scanning(): boolean {
    return this.running !== null;
  }

  failures(): readonly LocatedFailure[] {
    return this.lastFailures;
  }

  scanStats(): readonly AccountScanStats[] {
    return [...this.stats.values()];
  }

  latestInventory(): Inventory | null {
    return this.inventory;
  }

  evaluation(now: Date): Evaluation | null {
    if (!this.inventory) return null;
    const { sources } = this.options;
    return evaluate(
      this.inventory,
      this.options.thresholds,
      (this.options.overrides ?? (() => NO_OVERRIDES))(),
      now,
      sources ? { rules: sources.rules, offers: this.offers } : null,
    );
  }

  /** Runs a scan unless one is running; null when skipped. */
  async scan(): Promise<ScanResult | null> {
    if (this.running) {
      this.options.metrics?.scanSkipped();
      this.options.logger.warn("previous scan still running; skipping this one");
      return null;
    }
    this.running = this.runScan();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  /**
   * Takes what a rotation cycle read after its steps as the latest state: SendGrid's certificates of the
   * integrations it touched and the IdPs' keys, read together, so the status never mixes a state from
   * before a step with one from after it.
   */
  adopt(scanned: Inventory, offers: ReadonlyMap<number, Offer>): void {
    this.inventory = carryForward(this.inventory, scanned);
    this.offers = offers;
  }

  /** Waits for the running scan, if any (shutdown). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async runScan(): Promise<ScanResult> {
    const { clock, logger, metrics, targets, parseCache } = this.options;
    void parseCache?.load();
    const [scanned, offers] = await Promise.all([
      scanAll(targets, () => clock.now()),
      readIdpSources(this.options.sources),
    ]);
    for (const [index, offer] of offers) {
      if (offer.ok) continue;
      metrics?.idpReadError(offer.source, offer.reason);
      logger.warn(
        { rule: index, source: offer.source, status: offer.status },
        `IdP read failed: ${offer.message}`,
      );
    }
    const failures = failuresOf(scanned);
    for (const account of scanned.accounts) {
      const accountFailures = failures.filter((f) => f.account === account.account);
      // A certificate that does not parse was read fine: it shows as parse_error, not as a failed scan.
      const success = accountFailures.every((f) => f.certificateId !== null);
      const previous = this.stats.get(account.account);
      this.stats.set(account.account, {
        account: account.account,
        lastScrapeAt: account.finishedAt,
        lastSuccessAt: success ? account.finishedAt : (previous?.lastSuccessAt ?? null),
        durationSeconds: (account.finishedAt.getTime() - account.startedAt.getTime()) / 1000,
        success,
      });
      for (const failure of accountFailures) metrics?.scanError(account.account, failure.reason);
    }
    for (const failure of failures) {
      logger.warn(
        {
          account: failure.account,
          integration_id: failure.integrationId,
          certificate_id: failure.certificateId,
          reason: failure.reason,
        },
        failure.message,
      );
    }
    this.inventory = carryForward(this.inventory, scanned);
    this.offers = offers;
    this.lastFailures = failures;
    this.logMismatches(clock.now());
    const certificates = scanned.accounts.flatMap((a) => a.integrations).flatMap((i) => i.certificates ?? []);
    logger.info(
      {
        accounts: scanned.accounts.length,
        integrations: scanned.accounts.reduce((n, a) => n + a.integrations.length, 0),
        certificates: certificates.length,
        failures: failures.length,
      },
      "scan complete",
    );
    await parseCache?.save();
    return { scanned, inventory: this.inventory, failures, offers };
  }

  private logMismatches(now: Date): void {
    for (const mismatch of this.evaluation(now)?.dateMismatches ?? []) {
      const key = `${mismatch.account}/${mismatch.certificateId}/${mismatch.field}`;
      if (this.reportedMismatches.has(key)) continue;
      this.reportedMismatches.add(key);
      this.options.logger.warn(
        {
          account: mismatch.account,
          integration_id: mismatch.integrationId,
          certificate_id: mismatch.certificateId,
          field: mismatch.field,
          pem: mismatch.pem.toISOString(),
          api: mismatch.api.toISOString(),
        },
        "the API's date disagrees with the PEM by more than a minute; using the PEM",
      );
    }
  }
}
