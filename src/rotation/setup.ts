// Opens the rotation machinery over state_dir: the lock (only when this process will change SendGrid),
// the journal, the audit log and the Rotator. One place, so `run`, `rotate` and `rollback` cannot
// differ in how they guard the state.

import { join } from "node:path";
import type { Config } from "../config/types.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/registry.js";
import type { Clock } from "../scan/monitor.js";
import type { ScanTarget } from "../scan/inventory.js";
import { scheduleIntervalMs } from "../schedule.js";
import { AuditLog } from "./audit.js";
import { journalStore } from "./journal-file.js";
import { acquireLock, type Lock } from "./lock.js";
import { Rotator } from "./rotator.js";

export const AUDIT_FILE = "audit.jsonl";

export interface RotationHandle {
  readonly rotator: Rotator;
  readonly audit: AuditLog;
  close(): Promise<void>;
}

export interface OpenRotationOptions {
  readonly config: Config;
  readonly targets: readonly ScanTarget[];
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  /** Take the state_dir lock: every process that may change SendGrid does. */
  readonly lock: boolean;
  readonly dryRun?: boolean;
}

export async function openRotation(options: OpenRotationOptions): Promise<RotationHandle> {
  const { config } = options;
  const lock: Lock | null = options.lock ? await acquireLock(config.stateDir) : null;
  try {
    const audit = new AuditLog(join(config.stateDir, AUDIT_FILE));
    const rotator = await Rotator.open({
      config,
      apis: new Map(options.targets.map((t) => [t.account, t.api])),
      store: journalStore(config.stateDir, () => options.clock.now()),
      audit,
      logger: options.logger,
      clock: options.clock,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      backoffBaseMs: scheduleIntervalMs(config.schedule),
      dryRun: options.dryRun ?? config.rotation.dryRun,
    });
    return { rotator, audit, close: async () => lock?.release() };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}
