// The daemon's scanning core as the bench runs it: one SendGrid client against the emulator, the
// metrics registry fed by the client's observer, and a Monitor, composed the way src/daemon.ts does,
// without the scheduler, the rotation journal or the HTTP server. Logs nothing.

import pino from "pino";
import { Metrics } from "../src/metrics/registry.js";
import { Monitor } from "../src/scan/monitor.js";
import { SendGridClient } from "../src/sendgrid/client.js";
import { SsoApi } from "../src/sendgrid/sso.js";
import { DAY_MS } from "../src/core/durations.js";

export const BENCH_ACCOUNT = "bench";

export interface BenchMonitorOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly concurrency: number;
  readonly exposeRelative: boolean;
  readonly processMetrics: boolean;
}

export interface BenchMonitor {
  readonly monitor: Monitor;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export function benchMonitor(options: BenchMonitorOptions): BenchMonitor {
  const now = () => new Date();
  let monitor: Monitor | null = null;
  const metrics = new Metrics({
    accounts: [BENCH_ACCOUNT],
    source: {
      evaluation: (at) => monitor?.evaluation(at) ?? null,
      scanStats: () => monitor?.scanStats() ?? [],
    },
    now,
    exposeRelative: options.exposeRelative,
    version: "bench",
    processMetrics: options.processMetrics,
  });
  const client = new SendGridClient({
    account: BENCH_ACCOUNT,
    baseUrl: options.baseUrl,
    apiKey: () => options.apiKey,
    timeoutMs: 15_000,
    maxRetries: 5,
    maxConcurrency: options.concurrency,
    observer: { onRequest: (event) => metrics.observeRequest(event) },
  });
  monitor = new Monitor({
    targets: [{ account: BENCH_ACCOUNT, api: new SsoApi(client) }],
    thresholds: { warningMs: 30 * DAY_MS, criticalMs: 7 * DAY_MS },
    clock: { now },
    logger: pino({ level: "silent" }),
    metrics,
  });
  return { monitor, metrics, close: () => client.close() };
}

/** Certificates in the monitor's latest inventory. */
export function certificateCount(monitor: Monitor): number {
  return (monitor.latestInventory()?.accounts ?? [])
    .flatMap((account) => account.integrations)
    .reduce((n, integration) => n + (integration.certificates?.length ?? 0), 0);
}
