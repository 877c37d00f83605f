// Opens the rotation machinery over state_dir: the lock (only when this process will change SendGrid)
// and the renewal of its lease, the journal, the audit log and the Rotator. One place, so `run`,
// `rotate` and `rollback` cannot differ in how they guard the state. Once the lock is lost, it stays
// lost: this process must never rotate again, only say so.

import { join } from "node:path";
import type { Config } from "../config/types.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/registry.js";
import type { Clock } from "../scan/monitor.js";
import type { ScanTarget } from "../scan/inventory.js";
import type { Sources } from "../sources/registry.js";
import { scheduleIntervalMs } from "../schedule.js";
import { AuditLog } from "./audit.js";
import { LockLostError, StateIoError } from "./errors.js";
import { journalStore } from "./journal-file.js";
import { acquireLock, LOCK_RENEW_MS, type Lock } from "./lock.js";
import { Rotator } from "./rotator.js";

export const AUDIT_FILE = "audit.jsonl";

export interface RotationHandle {
  readonly rotator: Rotator;
  readonly audit: AuditLog;
  /** The loss of the state_dir lock, once noticed; null while held, and always without a lock. */
  readonly lockLost: LockLostError | null;
  /** The last write of state_dir (journal, lock lease) when it failed; null once one succeeds again. */
  readonly stateFault: StateIoError | null;
  /** Renews the lock's lease, proving it is still ours: LockLostError (logged once) when it is not. */
  assertLock(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenRotationOptions {
  readonly config: Config;
  readonly targets: readonly ScanTarget[];
  readonly sources: Sources;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  /** Take the state_dir lock: every process that may change SendGrid does. */
  readonly lock: boolean;
  readonly dryRun?: boolean;
  /** How often the lock's lease is renewed. Default LOCK_RENEW_MS. */
  readonly lockRenewMs?: number;
}

export async function openRotation(options: OpenRotationOptions): Promise<RotationHandle> {
  const { config, logger } = options;
  const lock: Lock | null = options.lock ? await acquireLock(config.stateDir) : null;
  let lost: LockLostError | null = null;
  let renewing: Promise<void> | null = null;
  let stateFault: StateIoError | null = null;
  // Every write of state_dir reports here: a full or failing disk is counted and shown, not just logged.
  const wrote = (error: StateIoError | null) => {
    stateFault = error;
    options.metrics?.stateWrite(error === null);
  };

  const renew = (): Promise<void> => {
    if (lost) return Promise.reject(lost);
    if (!lock) return Promise.resolve();
    renewing ??= lock
      .renew()
      .then(
        () => wrote(null),
        (error: unknown) => {
          if (error instanceof StateIoError) wrote(error);
          throw error;
        },
      )
      .finally(() => {
        renewing = null;
      });
    return renewing.catch((error: unknown) => {
      if (error instanceof LockLostError && !lost) {
        lost = error;
        logger.error(
          { err: error },
          "lost the state_dir lock: no rotation from now on; restart to take it again",
        );
      }
      throw error;
    });
  };
  const timer = lock
    ? setInterval(() => {
        renew().catch((error: unknown) => {
          // A lost lock is logged by renew(); a failing write is retried at the next interval, and a
          // lease that lapses meanwhile ends as a lost lock.
          if (!(error instanceof LockLostError))
            logger.warn({ err: error }, "could not renew the state_dir lock");
        });
      }, options.lockRenewMs ?? LOCK_RENEW_MS).unref()
    : null;

  try {
    const audit = new AuditLog(join(config.stateDir, AUDIT_FILE));
    const rotator = await Rotator.open({
      config,
      apis: new Map(options.targets.map((t) => [t.account, t.api])),
      sources: options.sources,
      store: journalStore(config.stateDir, () => options.clock.now(), wrote),
      audit,
      logger,
      clock: options.clock,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      backoffBaseMs: scheduleIntervalMs(config.schedule),
      dryRun: options.dryRun ?? config.rotation.dryRun,
      ...(lock ? { guard: renew } : {}),
    });
    // The backoffs of the journal are failures still under way: a restart must not hide them.
    options.metrics?.rotationBackoffFrom(rotator.current);
    return {
      rotator,
      audit,
      get lockLost() {
        return lost;
      },
      get stateFault() {
        return stateFault;
      },
      assertLock: renew,
      close: async () => {
        if (timer) clearInterval(timer);
        await renewing?.catch(() => undefined);
        await lock?.release();
      },
    };
  } catch (error) {
    if (timer) clearInterval(timer);
    await lock?.release();
    throw error;
  }
}
