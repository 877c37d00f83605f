// A server that asks for an absurd wait (Retry-After of ten years, a rate-limit reset far in the future)
// must not blind an account until a restart: the transport caps every server-requested wait at
// SERVER_WAIT_CAP_MS, calls go on once the capped hold has passed, and the hold is reported to the
// observer (the daemon's metrics and status page) while it lasts.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { SERVER_WAIT_CAP_MS, serverWaitMs } from "../../src/http/retry-policy.js";
import { Metrics } from "../../src/metrics/registry.js";
import { makeCert } from "../helpers/make-cert.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { fakeClock, harness } from "../sendgrid/fixture.js";

const TEN_YEARS_S = 315_360_000;
const h = harness();
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
  emulator.state.addIntegration({ id: "int-1", name: "Okta" });
  emulator.state.addCertificate({
    integrationId: "int-1",
    pem: (await makeCert({ cn: "waits" })).pem,
    enabled: true,
  });
});

afterEach(async () => {
  emulator.faults.reset();
  await h.closeAll();
});

afterAll(async () => {
  await emulator.close();
});

describe("server-requested waits", () => {
  it("are capped, whichever header asks", () => {
    const now = Date.UTC(2030, 0, 1);
    expect(serverWaitMs({ retryAfter: String(TEN_YEARS_S) }, 429, now)).toBe(SERVER_WAIT_CAP_MS);
    expect(serverWaitMs({ rateLimitReset: String(now / 1000 + TEN_YEARS_S) }, 429, now)).toBe(
      SERVER_WAIT_CAP_MS,
    );
    expect(serverWaitMs({ retryAfter: "Fri, 31 Dec 2100 23:59:59 GMT" }, 503, now)).toBe(SERVER_WAIT_CAP_MS);
    // Ordinary waits are the server's own.
    expect(serverWaitMs({ retryAfter: "30" }, 429, now)).toBe(30_000);
  });

  it("hold an account no longer than the cap, and report the hold while it lasts", async () => {
    const clock = fakeClock(Date.UTC(2030, 0, 1));
    const now = () => new Date(clock.now());
    const metrics = new Metrics({
      accounts: ["test"],
      source: { evaluation: () => null, scanStats: () => [] },
      now,
      exposeRelative: false,
      version: "test",
      processMetrics: false,
    });
    const holds: Date[] = [];
    const { api } = h.client(emulator, {
      clock,
      maxRetries: 0,
      // A deadline shorter than the cap: the first call fails, as it did before; what matters is after.
      deadlineMs: 60_000,
      observer: {
        onRequest: () => undefined,
        onHold: (event) => {
          holds.push(event.until);
          metrics.accountHeld(event.account, event.until);
        },
      },
    });
    emulator.faults.next({
      match: { method: "GET" },
      action: { kind: "status", status: 429, headers: { "retry-after": String(TEN_YEARS_S) } },
    });
    await expect(api.listIntegrations({ si: true })).rejects.toThrow();
    expect(holds.map((d) => d.getTime())).toEqual([clock.now() + SERVER_WAIT_CAP_MS]);

    const held = parsePrometheusText(await metrics.render()).families.get(
      "sendgrid_sso_api_held_until_timestamp_seconds",
    );
    expect(held?.samples).toEqual([
      expect.objectContaining({ labels: { account: "test" }, value: holds[0]!.getTime() / 1000 }),
    ]);
    expect(metrics.heldAccounts()).toEqual([{ account: "test", until: holds[0] }]);

    // Past the cap the account is read again, without a restart, and the hold is gone.
    await clock.sleep(SERVER_WAIT_CAP_MS);
    const integrations = await api.listIntegrations({ si: true });
    expect(integrations.map((i) => i.id)).toEqual(["int-1"]);
    expect(metrics.heldAccounts()).toEqual([]);
    const after = parsePrometheusText(await metrics.render()).families.get(
      "sendgrid_sso_api_held_until_timestamp_seconds",
    );
    expect(after?.samples ?? []).toEqual([]);
  });
});
