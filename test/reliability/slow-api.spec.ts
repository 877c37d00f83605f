// A slow or silent API: answers that come after http.timeout, connections that never answer, bodies that
// trickle in. Each attempt is cut off at the timeout, so a scan ends within timeout x (retries + 1) plus
// the backoff between attempts, reports the failure as a timeout, and the daemon keeps answering
// /healthz and /metrics while a scan hangs. Bounds are generous waits, not timing assertions.

import { afterEach, describe, expect, test } from "vitest";
import type { Daemon } from "../../src/daemon.js";
import type { FaultAction } from "../../src/emulator/faults.js";
import { makeCert } from "../helpers/make-cert.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { eventually, openBench, type Bench } from "../rotation/bench.js";

const TIMEOUT_MS = 300;
const RETRIES = 2;
// timeout x (retries + 1) and two full-jitter backoffs (at most 500 + 1,000 ms): under 3 s. The bound
// leaves room for a loaded machine; what it catches is a scan that does not end.
const SCAN_BOUND_MS = 15_000;

let bench: Bench | null = null;

afterEach(async () => {
  await bench?.close();
  bench = null;
});

async function setup(): Promise<{ bench: Bench; daemon: Daemon }> {
  const b = (bench = await openBench());
  for (const id of ["int-slow", "int-fine"]) {
    b.emulator.state.addIntegration({ id, name: id });
    const cert = await makeCert({ cn: id, now: b.clock.now(), fromDays: -10, toDays: 300 });
    b.emulator.state.addCertificate({ integrationId: id, pem: cert.pem, enabled: true });
  }
  const config = b.loadConfig(
    await b.writeConfig({
      http: { timeout: `${TIMEOUT_MS}ms`, max_retries: RETRIES },
      rotation: { enabled: false },
    }),
  );
  return { bench: b, daemon: await b.startDaemon(config) };
}

/** Resolves true when `work` settles within `ms`, false otherwise; never waits longer. */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function scrape(daemon: Daemon) {
  const response = await fetch(`${daemon.url}/metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

const SLOW_LISTING = "/v3/sso/integrations/int-slow/certificates";

describe.each<[string, FaultAction]>([
  ["an answer that comes after the timeout", { kind: "delay", ms: 10 * TIMEOUT_MS }],
  ["a connection that never answers", { kind: "hang" }],
  ["a body that trickles in", { kind: "trickle", bytesPerSecond: 100 }],
])("%s", (_name, action) => {
  test("is cut off at each attempt: the scan ends, reports a timeout, and keeps the other integration", async () => {
    const { bench: b, daemon } = await setup();
    await daemon.tick();
    const before = await scrape(daemon);
    b.emulator.faults.next({ match: { path: SLOW_LISTING }, action, times: RETRIES + 1 });

    expect(await within(SCAN_BOUND_MS, daemon.tick())).toBe(true);
    expect(b.emulator.faults.pending).toBe(0);
    // A delayed answer is logged when the emulator gets round to it, after the client has given up.
    await eventually(
      "the emulator to log every attempt",
      () => b.emulator.log.filter((e) => e.path === SLOW_LISTING).length === 1 + RETRIES + 1,
    );
    expect(daemon.monitor.failures()).toMatchObject([
      {
        integrationId: "int-slow",
        reason: "timeout",
        message: expect.stringMatching(/no complete answer within/) as string,
      },
    ]);
    const after = await scrape(daemon);
    expect(after.value("sendgrid_sso_scrape_success")).toBe(0);
    expect(after.value("sendgrid_sso_scan_errors_total", { reason: "timeout" })).toBe(1);
    // The last good values of the slow integration stay; the other one was read afresh.
    const notAfter = (e: typeof after, id: string) =>
      e.samples("sendgrid_sso_certificate_not_after_timestamp_seconds", { integration_id: id });
    expect(notAfter(after, "int-slow")).toEqual(notAfter(before, "int-slow"));
    expect(notAfter(after, "int-fine")).toHaveLength(1);
  });
});

describe("while a scan hangs", () => {
  test("/healthz and /metrics answer at once, and the hung scan still ends with a timeout", async () => {
    const { bench: b, daemon } = await setup();
    b.emulator.faults.next({
      match: { path: "/v3/sso/integrations" },
      action: { kind: "hang" },
      times: RETRIES + 1,
    });
    const scan = daemon.tick();
    await eventually("the scan to hang", () => b.emulator.log.some((e) => e.outcome === "hung"));
    expect(daemon.monitor.scanning).toBe(true);

    const health = await fetch(`${daemon.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await health.text()).trim()).toBe("ok");
    expect((await fetch(`${daemon.url}/metrics`)).status).toBe(200);
    // Not ready: no scan has completed yet.
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(503);
    expect(daemon.monitor.scanning).toBe(true);

    expect(await within(SCAN_BOUND_MS, scan)).toBe(true);
    expect(b.emulator.log.filter((e) => e.outcome === "hung")).toHaveLength(RETRIES + 1);
    expect(daemon.monitor.failures()).toMatchObject([{ integrationId: null, reason: "timeout" }]);
    expect((await scrape(daemon)).value("sendgrid_sso_scrape_success")).toBe(0);
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
  });
});
