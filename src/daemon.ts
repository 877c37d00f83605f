// Composition root of the long-running daemon (`run`, `demo`): builds the clients, the monitor, the
// metrics registry and the HTTP server, schedules scans with node-cron, and stops them in order.
// Every tick's failure is caught and logged here: nothing a scan meets can stop the schedule.

import cron, { type ScheduledTask } from "node-cron";
import type { Config } from "./config/types.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics/registry.js";
import { LockLostError } from "./rotation/errors.js";
import { openRotation, type RotationHandle } from "./rotation/setup.js";
import { Monitor, type Clock } from "./scan/monitor.js";
import { startHttpServer, type RunningServer } from "./server/http.js";
import { targetsFor } from "./scan/targets.js";
import { sourcesFor } from "./sources/registry.js";
import { VERSION } from "./version.js";

export interface DaemonOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** false: no node-cron task and no start-up scan; the caller drives every `tick()` (tests). */
  readonly schedule?: boolean;
}

export interface Daemon {
  readonly url: string;
  readonly monitor: Monitor;
  readonly metrics: Metrics;
  readonly rotation: RotationHandle;
  /** One scheduled run: a scan (skipped if one is running), then `afterScan`. Never rejects. */
  tick(): Promise<void>;
  /** Stops scheduling, waits up to `graceMs` for a running scan, closes the server and clients. */
  stop(graceMs?: number): Promise<void>;
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };
const HISTORY_ROWS = 50;

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const clock = options.clock ?? SYSTEM_CLOCK;
  let monitor: Monitor | null = null;
  const metrics = new Metrics({
    accounts: config.accounts.map((a) => a.name),
    source: {
      evaluation: (now) => monitor?.evaluation(now) ?? null,
      scanStats: () => monitor?.scanStats() ?? [],
    },
    now: () => clock.now(),
    exposeRelative: config.metrics.exposeRelative,
    version: VERSION,
  });
  const clients = targetsFor(config, { onRequest: (event) => metrics.observeRequest(event) });
  const sources = sourcesFor(config, { onRequest: (event) => metrics.observeIdpRequest(event) });
  let rotation: RotationHandle;
  try {
    // Monitor-only daemons read the journal too: it knows which certificates this tool disabled.
    rotation = await openRotation({
      config,
      targets: clients.targets,
      sources,
      logger,
      clock,
      metrics,
      lock: config.rotation.enabled,
    });
  } catch (error) {
    await sources.close();
    await clients.close();
    throw error;
  }
  const rotator = rotation.rotator;
  monitor = new Monitor({
    targets: clients.targets,
    thresholds: config.thresholds,
    clock,
    logger,
    metrics,
    overrides: () => rotator.overrides(),
    sources,
  });
  const activeMonitor = monitor;

  let task: ScheduledTask | null = null;
  let stopped = false;
  let server: RunningServer;
  try {
    server = await startHttpServer({
      host: config.listen.host,
      port: config.listen.port,
      metrics,
      monitor,
      logger,
      now: () => clock.now(),
      alive: () => !stopped && rotation.lockLost === null,
      history: async () => (await rotation.audit.read({ limit: HISTORY_ROWS })).reverse(),
      rotations: () => rotator.current,
      version: VERSION,
      web: config.web,
    });
  } catch (error) {
    await rotation.close();
    await sources.close();
    await clients.close();
    throw error;
  }

  // One rotation cycle at a time, and only from a scan taken while none ran: a scan that overlaps a cycle
  // may predate its upload, and planning from it would upload the same certificate a second time.
  // Each cycle first proves the state_dir lock is still ours: once it is lost (deleted, or taken over
  // after a lapsed lease) this daemon only monitors, and /healthz fails so that it gets restarted.
  let cycle: Promise<void> | null = null;
  const tick = async (): Promise<void> => {
    try {
      const overlapsCycle = cycle !== null;
      const result = await activeMonitor.scan();
      if (!result || !config.rotation.enabled || stopped || rotation.lockLost) return;
      if (overlapsCycle || cycle !== null) {
        logger.warn("previous rotation cycle still running; not rotating from this scan");
        return;
      }
      cycle = rotation
        .assertLock()
        .then(() => rotator.cycle(result.scanned, { offers: result.offers }).then(() => undefined));
      try {
        await cycle;
      } finally {
        cycle = null;
      }
    } catch (error) {
      // A lost lock was logged where it was found.
      if (!(error instanceof LockLostError)) logger.error({ err: error }, "scheduled run failed");
    }
  };

  logger.info({ url: server.url, schedule: config.schedule, accounts: config.accounts.length }, "listening");
  if (options.schedule ?? true) {
    task = cron.schedule(config.schedule, () => tick(), { name: "scan" });
    void tick();
  }

  return {
    url: server.url,
    monitor,
    metrics,
    rotation,
    tick,
    async stop(graceMs = 10_000) {
      stopped = true;
      await task?.destroy();
      const grace = new Promise<"timeout">((resolve) => setTimeout(resolve, graceMs, "timeout").unref());
      const idle = Promise.all([activeMonitor.idle(), cycle?.catch(() => undefined)]).then(
        () => "idle" as const,
      );
      if ((await Promise.race([idle, grace])) === "timeout") {
        logger.warn({ grace_ms: graceMs }, "scan still running at shutdown; abandoning it");
      }
      await server.close();
      await rotation.close();
      await sources.close();
      await clients.close();
    },
  };
}
