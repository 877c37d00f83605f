// Composition root of the long-running daemon (`run`, `demo`): builds the clients, the monitor, the
// metrics registry and the HTTP server, schedules scans (schedule.ts), and stops them in order.
// Every tick's failure is caught and logged here: nothing a scan meets can stop the schedule.
// A configuration reload (SIGHUP, a changed file) is validated first; a refused one leaves the running
// one untouched. An accepted one replaces the clients, sources, monitor, rotation and schedule between
// two ticks; the HTTP server and the metrics registry stay, so `listen`, `state_dir` and `web` need a
// restart (the log says so).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ParseCacheFile } from "./certs/parse-cache-file.js";
import type { LoadResult } from "./config/load.js";
import type { Config } from "./config/types.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics/registry.js";
import { LockLostError } from "./rotation/errors.js";
import { openRotation, type RotationHandle } from "./rotation/setup.js";
import { Monitor, type Clock } from "./scan/monitor.js";
import { scheduleIntervalMs, scheduleRuns, type ScheduledRuns } from "./schedule.js";
import { startHttpServer, type MonitorView, type RunningServer } from "./server/http.js";
import { targetsFor, type Targets } from "./scan/targets.js";
import { sourcesFor, type Sources } from "./sources/registry.js";
import { VERSION } from "./version.js";

export interface ReloadOptions {
  /** Reads and validates the configuration again, as at start-up. */
  readonly load: () => LoadResult;
  /** Reload when this file changes (a Kubernetes ConfigMap update); null: only on SIGHUP or reload(). */
  readonly watchFile: string | null;
  /**
   * How often the file's content is compared with the last one seen: reading it follows the symlinks a
   * ConfigMap volume swaps, and a content hash sees a change that keeps size and timestamp.
   */
  readonly watchIntervalMs?: number;
  /** Reload on SIGHUP (the `run` command; tests call reload()). */
  readonly sighup?: boolean;
}

export interface DaemonOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** false: no scheduled scans and no start-up scan; the caller drives every `tick()` (tests). */
  readonly schedule?: boolean;
  /** Live configuration reload; absent: the configuration is fixed. */
  readonly reload?: ReloadOptions;
}

export type ReloadOutcome =
  | { readonly ok: true; readonly restartNeeded: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface Daemon {
  readonly url: string;
  /** The running configuration (the latest accepted one). */
  readonly config: Config;
  readonly monitor: Monitor;
  readonly metrics: Metrics;
  readonly rotation: RotationHandle;
  /** One scheduled run: a scan (skipped if one is running), then `afterScan`. Never rejects. */
  tick(): Promise<void>;
  /** Loads the configuration again (ReloadOptions.load) and applies it, or keeps the running one. */
  reload(): Promise<ReloadOutcome>;
  /** Stops scheduling, waits up to `graceMs` for a running scan, closes the server and clients. */
  stop(graceMs?: number): Promise<void>;
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };
const HISTORY_ROWS = 50;
const WATCH_INTERVAL_MS = 5_000;

/** What one configuration runs on; replaced whole by a reload. */
interface Generation {
  readonly config: Config;
  readonly clients: Targets;
  readonly sources: Sources;
  readonly rotation: RotationHandle;
  readonly monitor: Monitor;
}

/** The keys bound at start-up (the server's socket, TLS and authentication, the state_dir lock) that differ. */
function restartKeysChanged(running: Config, next: Config): string[] {
  const changed: string[] = [];
  if (running.listen.host !== next.listen.host || running.listen.port !== next.listen.port)
    changed.push("listen");
  if (running.stateDir !== next.stateDir) changed.push("state_dir");
  if (JSON.stringify(running.web) !== JSON.stringify(next.web)) changed.push("web");
  return changed;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { logger } = options;
  const clock = options.clock ?? SYSTEM_CLOCK;
  let current: Generation | null = null;
  // After a reload, the previous monitor answers until the new one has scanned: no 503 from /readyz and
  // no gap in the metrics for a changed ConfigMap.
  let previousMonitor: Monitor | null = null;
  const monitorView = (): Monitor | null => {
    const monitor = current?.monitor ?? null;
    return monitor && !monitor.ready && previousMonitor ? previousMonitor : monitor;
  };
  const metrics = new Metrics({
    accounts: options.config.accounts.map((a) => a.name),
    source: {
      evaluation: (now) => monitorView()?.evaluation(now) ?? null,
      scanStats: () => monitorView()?.scanStats() ?? [],
      rotations: () =>
        current
          ? { journal: current.rotation.rotator.current, rules: current.config.rotation.integrations }
          : null,
    },
    now: () => clock.now(),
    exposeRelative: options.config.metrics.exposeRelative,
    version: VERSION,
  });
  // state_dir is bound at start-up (a reload that changes it restarts the daemon): one cache file.
  const parseCache = new ParseCacheFile(options.config.stateDir, logger);
  const observer = {
    onRequest: (event: Parameters<Metrics["observeRequest"]>[0]) => metrics.observeRequest(event),
    onHold: (event: { account: string; until: Date }) => metrics.accountHeld(event.account, event.until),
  };

  const build = async (config: Config): Promise<Generation> => {
    // SendGrid documents `on-behalf-of` for no SSO endpoint: SSO is set up on the parent account.
    for (const account of config.accounts.filter((a) => a.onBehalfOf !== null)) {
      logger.warn(
        { account: account.name, on_behalf_of: account.onBehalfOf },
        "on_behalf_of is set, but SendGrid documents on-behalf-of for no SSO endpoint (SSO is configured on the parent account); this account's scans may fail or show the parent's integrations",
      );
    }
    const sources = await sourcesFor(config, {
      onRequest: (event) => metrics.observeIdpRequest(event),
    });
    const clients = targetsFor(config, observer);
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
    const monitor = new Monitor({
      targets: clients.targets,
      thresholds: config.thresholds,
      clock,
      logger,
      metrics,
      overrides: () => rotator.overrides(),
      sources,
      parseCache,
    });
    metrics.setAccounts(config.accounts.map((a) => a.name));
    metrics.scanIntervalSeconds(scheduleIntervalMs(config.schedule) / 1000);
    return { config, clients, sources, rotation, monitor };
  };
  const close = async (generation: Generation) => {
    await generation.rotation.close();
    await generation.sources.close();
    await generation.clients.close();
  };

  current = await build(options.config);
  const started: Generation = current;
  const live = (): Generation => current ?? started;

  let task: ScheduledRuns | null = null;
  let stopped = false;
  let reloading: Promise<unknown> | null = null;
  let server: RunningServer;
  const view: MonitorView = {
    get ready() {
      return monitorView()?.ready ?? false;
    },
    get scanning() {
      return live().monitor.scanning;
    },
    evaluation: (now) => monitorView()?.evaluation(now) ?? null,
    scanStats: () => monitorView()?.scanStats() ?? [],
    failures: () => monitorView()?.failures() ?? [],
  };
  try {
    server = await startHttpServer({
      host: options.config.listen.host,
      port: options.config.listen.port,
      metrics,
      monitor: view,
      logger,
      now: () => clock.now(),
      alive: () => !stopped && live().rotation.lockLost === null,
      fault: () => {
        const fault = live().rotation.stateFault;
        return fault ? `state_dir: ${fault.message}` : null;
      },
      held: () => metrics.heldAccounts(),
      history: async () => (await live().rotation.audit.read({ limit: HISTORY_ROWS })).reverse(),
      rotations: () => live().rotation.rotator.current,
      rotationConfig: () => live().config.rotation,
      version: VERSION,
      web: options.config.web,
    });
  } catch (error) {
    await close(started);
    throw error;
  }

  // One rotation cycle at a time, and only from a scan taken while none ran: a scan that overlaps a cycle
  // may predate its upload, and planning from it would upload the same certificate a second time.
  // Each cycle first proves the state_dir lock is still ours: once it is lost (deleted, or taken over
  // after a lapsed lease) this daemon only monitors, and /healthz fails so that it gets restarted.
  let cycle: Promise<void> | null = null;
  let scanning: Promise<void> | null = null;
  const tick = async (): Promise<void> => {
    if (reloading) return;
    const { config, monitor, rotation } = live();
    const run = (async () => {
      try {
        const overlapsCycle = cycle !== null;
        const result = await monitor.scan();
        if (result) server.prepareMetrics();
        if (monitor.ready) previousMonitor = null;
        if (!result || !config.rotation.enabled || stopped || rotation.lockLost) return;
        if (overlapsCycle || cycle !== null) {
          logger.warn("previous rotation cycle still running; not rotating from this scan");
          return;
        }
        cycle = rotation
          .assertLock()
          .then(() => rotation.rotator.cycle(result.scanned, { offers: result.offers }))
          .then((report) => {
            // Judge from what the steps left, at once: a detector comparing the IdP before a rollover
            // with SendGrid after it (or the reverse) would see a lockout that is not there.
            if (report.after) monitor.adopt(report.after.scanned, report.after.offers);
          });
        try {
          await cycle;
        } finally {
          cycle = null;
        }
      } catch (error) {
        // A lost lock was logged where it was found.
        if (!(error instanceof LockLostError)) logger.error({ err: error }, "scheduled run failed");
      }
    })();
    scanning = run;
    await run;
    if (scanning === run) scanning = null;
  };

  const schedule = (config: Config) => {
    if (!(options.schedule ?? true)) return;
    task = scheduleRuns(config.schedule, () => void tick());
    void tick();
  };

  const apply = async (next: Config): Promise<ReloadOutcome> => {
    const running = live();
    const restartNeeded = restartKeysChanged(running.config, next);
    // Bound at start-up: kept as they run until a restart.
    const config: Config = {
      ...next,
      listen: running.config.listen,
      stateDir: running.config.stateDir,
      web: running.config.web,
    };
    task?.stop();
    task = null;
    await Promise.all([scanning, cycle?.catch(() => undefined), running.monitor.idle()]);
    logger.level = config.logLevel;
    // The lock of state_dir is released and taken again: the same process, the same directory.
    await running.rotation.close();
    let generation: Generation;
    try {
      generation = await build(config);
    } catch (error) {
      logger.error({ err: error }, "configuration reload failed; restarting with the running configuration");
      current = await build(running.config);
      await running.sources.close();
      await running.clients.close();
      schedule(running.config);
      return { ok: false, problems: [error instanceof Error ? error.message : String(error)] };
    }
    previousMonitor = running.monitor.ready ? running.monitor : previousMonitor;
    current = generation;
    await running.sources.close();
    await running.clients.close();
    schedule(config);
    return { ok: true, restartNeeded };
  };

  const reload = async (): Promise<ReloadOutcome> => {
    if (!options.reload) return { ok: false, problems: ["configuration reload is not enabled"] };
    while (reloading) await reloading.catch(() => undefined);
    if (stopped) return { ok: false, problems: ["the daemon is stopping"] };
    const loaded = options.reload.load();
    if (!loaded.ok) {
      logger.error(
        { config: loaded.source, problems: loaded.problems },
        "configuration reload refused; the running configuration stays",
      );
      metrics.configReloaded(false);
      return { ok: false, problems: loaded.problems };
    }
    const applying = apply(loaded.config);
    reloading = applying;
    try {
      const outcome = await applying;
      metrics.configReloaded(outcome.ok);
      if (outcome.ok) {
        logger.info({ config: loaded.config.source }, "configuration reloaded");
        if (outcome.restartNeeded.length > 0) {
          logger.warn(
            { keys: outcome.restartNeeded },
            `changed ${outcome.restartNeeded.join(", ")}: applied only at a restart; running with the previous value`,
          );
        }
      }
      return outcome;
    } finally {
      reloading = null;
    }
  };

  const onSighup = () => {
    logger.info("SIGHUP: reloading the configuration");
    void reload();
  };
  if (options.reload?.sighup) process.on("SIGHUP", onSighup);
  const watched = options.reload?.watchFile ?? null;
  const digest = (file: string): string | null => {
    try {
      return createHash("sha256").update(readFileSync(file)).digest("hex");
    } catch {
      // Missing for a moment (an editor's rename, a ConfigMap swap): compared again next time.
      return null;
    }
  };
  let seen = watched === null ? null : digest(watched);
  const watcher =
    watched === null
      ? null
      : setInterval(() => {
          const now = digest(watched);
          if (now === null || now === seen || reloading) return;
          seen = now;
          logger.info({ config: watched }, "configuration file changed: reloading");
          void reload();
        }, options.reload?.watchIntervalMs ?? WATCH_INTERVAL_MS).unref();

  logger.info(
    { url: server.url, schedule: options.config.schedule, accounts: options.config.accounts.length },
    "listening",
  );
  schedule(options.config);

  return {
    url: server.url,
    get config() {
      return live().config;
    },
    get monitor() {
      return live().monitor;
    },
    metrics,
    get rotation() {
      return live().rotation;
    },
    tick,
    reload,
    async stop(graceMs = 10_000) {
      stopped = true;
      process.off("SIGHUP", onSighup);
      if (watcher !== null) clearInterval(watcher);
      await reloading?.catch(() => undefined);
      task?.stop();
      const { monitor } = live();
      const grace = new Promise<"timeout">((resolve) => setTimeout(resolve, graceMs, "timeout").unref());
      const idle = Promise.all([monitor.idle(), cycle?.catch(() => undefined)]).then(() => "idle" as const);
      if ((await Promise.race([idle, grace])) === "timeout") {
        logger.warn({ grace_ms: graceMs }, "scan still running at shutdown; abandoning it");
      }
      await server.close();
      await close(live());
    },
  };
}
