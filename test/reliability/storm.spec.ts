// Fault storms over many scheduled runs: 30% of the emulator's answers are 500/503 and its rate limiter
// (a small limit, a one-second window) answers 429 with X-RateLimit-Reset, relative in one case and
// absolute in the other, while three integrations are due for rotation. What must hold at every run:
// the scan completes or reports failure, the metrics keep the last good values, no rotation step
// touches an integration whose listing failed, and the requests per window stay within what the
// rate-limit headers allow. After the storm, every rotation completes with exactly one upload.

import { describe, expect, test } from "vitest";
import type { Daemon } from "../../src/daemon.js";
import type { RequestLogEntry } from "../../src/emulator/server.js";
import { parsePrometheusText, type Exposition } from "../helpers/prom-text.js";
import { fewestUsable } from "../rotation/bench.js";
import { integrationOf, isListing, isMutation, openDueWorld, type DueWorld } from "./world.js";

const TICKS = 40;
const CALM_TICKS = 6;
const CALM_TICK_MS = 15_000;
const LIMIT = 8;
const WINDOW_MS = 1_000;
const CONCURRENCY = 2;
const NOT_AFTER = "sendgrid_sso_certificate_not_after_timestamp_seconds";

async function scrape(daemon: Daemon): Promise<Exposition> {
  const response = await fetch(`${daemon.url}/metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

/** not_after per certificate of one integration, as the metrics show it. */
function shown(exposition: Exposition, integrationId: string): Record<string, number> {
  return Object.fromEntries(
    exposition
      .samples(NOT_AFTER, { integration_id: integrationId })
      .map((sample) => [sample.labels.certificate_id!, sample.value]),
  );
}

/** Requests that reached the rate limiter: everything but the 500/503s the fault injection answered. */
function limited(log: readonly RequestLogEntry[]): RequestLogEntry[] {
  return log.filter((entry) => entry.status !== 500 && entry.status !== 503);
}

/** The limiter's fixed windows, rebuilt from arrival times: a window opens with the first request after the last one ended. */
function windows(log: readonly RequestLogEntry[]): RequestLogEntry[][] {
  const found: RequestLogEntry[][] = [];
  let start = -Infinity;
  for (const entry of limited(log)) {
    if (entry.time.getTime() >= start + WINDOW_MS) {
      start = entry.time.getTime();
      found.push([]);
    }
    found.at(-1)!.push(entry);
  }
  return found;
}

// The two cases run side by side: most of their time is spent waiting for rate-limit windows to reset.
describe.concurrent.each(["relative", "absolute"] as const)(
  "a storm of 500/503s and 429s (reset %s)",
  (resetStyle) => {
    test(`${TICKS} runs: scans complete or fail visibly, no step from failed data, rate limit respected`, async ({
      onTestFinished,
    }) => {
      const w: DueWorld = await openDueWorld({
        integrations: 3,
        // One bucket for the whole account: the limit this test counts against (the default is per endpoint).
        emulator: {
          rateLimit: { limit: LIMIT, windowMs: WINDOW_MS, resetStyle, per: "account" },
          seedRandom: 7,
        },
        config: {
          // Backoff after a failed step is one schedule interval: a second, like the runs here.
          schedule: "* * * * * *",
          http: { timeout: "2s", max_retries: 1, max_concurrency: CONCURRENCY },
          rotation: { overlap: "2s" },
        },
      });
      onTestFinished(() => w.bench.close());
      const { bench } = w;
      const emulator = bench.emulator;
      const daemon = await bench.startDaemon(bench.loadConfig(w.configFile));
      emulator.faults.set({ errorRate: 0.3 });

      let previous: Exposition | null = null;
      let failedScans = 0;
      let goodScans = 0;
      for (let tick = 1; tick <= TICKS + CALM_TICKS; tick++) {
        if (tick === TICKS + 1) emulator.faults.set({});
        // Calm ticks are further apart: an upload whose answer the storm lost is sent again only once the
        // settle time (here 2s x 2 attempts + 30s) has passed without it showing.
        bench.clock.advance(tick > TICKS ? CALM_TICK_MS : 1_000);
        const from = emulator.log.length;
        await daemon.tick();
        const requests = emulator.log.slice(from);
        const failures = daemon.monitor.failures();
        const exposition = await scrape(daemon);

        // The scan happened, and says whether it worked.
        expect(exposition.value("sendgrid_sso_last_scrape_timestamp_seconds")).toBe(
          bench.clock.now().getTime() / 1000,
        );
        const success = exposition.value("sendgrid_sso_scrape_success");
        expect(success).toBe(failures.length === 0 ? 1 : 0);
        if (success === 1) goodScans++;
        else failedScans++;

        const accountFailed = failures.some((f) => f.integrationId === null);
        const failedIntegrations = new Set(
          accountFailed
            ? w.integrations.map((i) => i.id)
            : failures.flatMap((f) => (f.integrationId === null ? [] : [f.integrationId])),
        );
        for (const id of failedIntegrations) {
          // The last good values stay.
          if (previous) expect(shown(exposition, id), `tick ${tick}, ${id}`).toEqual(shown(previous, id));
          // Nothing done to an integration the scan could not read.
          expect(
            requests.filter((r) => isMutation(r) && integrationOf(w, r) === id),
            `tick ${tick}: ${id} failed to list`,
          ).toEqual([]);
        }
        // A step is taken only on a listing that answered: the last listing of the integration before it.
        requests.forEach((request, index) => {
          if (!isMutation(request)) return;
          const id = integrationOf(w, request);
          const listing = requests
            .slice(0, index)
            .filter((r) => isListing(r) && integrationOf(w, r) === id)
            .at(-1);
          expect(listing?.status, `tick ${tick}: ${request.method} ${request.path}`).toBe(200);
        });
        previous = exposition;
      }
      expect(failedScans).toBeGreaterThan(0);
      expect(goodScans).toBeGreaterThan(0);

      // The storm was real: both kinds of fault struck.
      expect(emulator.log.filter((e) => e.status === 429).length).toBeGreaterThan(0);
      expect(emulator.log.filter((e) => e.status === 500 || e.status === 503).length).toBeGreaterThan(0);
      // No window took more than its limit, give or take what was in flight when a 429 said it was full.
      for (const window of windows(emulator.log)) {
        expect(window.length).toBeLessThanOrEqual(LIMIT + CONCURRENCY);
        expect(window.filter((e) => e.status === 429).length).toBeLessThanOrEqual(CONCURRENCY);
      }

      // Afterwards: every rotation done, one upload each, never an integration without a usable certificate.
      for (const integration of w.integrations) {
        const uploaded = bench.certificates(integration.id).filter((c) => c.pem === integration.next.pem);
        expect(uploaded).toHaveLength(1);
        expect(bench.certificates(integration.id).map((c) => [String(c.id), c.enabled])).toEqual([
          [integration.oldId, false],
          [String(uploaded[0]!.id), true],
        ]);
        expect(fewestUsable(emulator, integration.id, new Date())).toBe(1);
      }
      expect(daemon.rotation.rotator.current.rotations.map((r) => r.phase)).toEqual([
        "retired",
        "retired",
        "retired",
      ]);
    }, 180_000);
  },
);
