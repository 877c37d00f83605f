// The transport against the emulator over real sockets: retries and the waits the server asks for (on an
// injected clock, so nothing really waits), POSTs that must not be repeated, timeouts of a trickling body,
// the concurrency bound, what the observer sees, the headers sent, and the API key kept out of errors.
import { createServer } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { Emulator, EmulatorOptions } from "../../src/emulator/server.js";
import { DEMO_INTEGRATION_IDS } from "../../src/emulator/seeds.js";
import { SendGridClient } from "../../src/sendgrid/client.js";
import { SsoApi } from "../../src/sendgrid/sso.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { LENIENT } from "../emulator/lenient.js";
import { failure, fakeClock, harness } from "./fixture.js";

const h = harness();
const emulators: Emulator[] = [];

async function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const started = await startTestEmulator({ ...LENIENT, ...options });
  emulators.push(started);
  return started;
}

afterEach(async () => {
  await h.closeAll();
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

let cert: GeneratedCertificate;
beforeAll(async () => {
  cert = await makeCert({ cn: "client.example.test" });
});

/** A whole second, so the emulator's reset header (whole seconds) gives a round wait. */
const T0 = Date.parse("2025-06-01T00:00:00Z");

/** One clock for the emulator's rate-limit windows and the client's waits. */
async function rateLimitedPair(options: {
  resetStyle: "absolute" | "relative";
  retryAfter?: boolean;
  deadlineMs?: number;
}) {
  const clock = fakeClock(T0);
  const emu = await emulator({
    now: () => new Date(clock.now()),
    rateLimit: {
      limit: 1,
      windowMs: 20_000,
      resetStyle: options.resetStyle,
      retryAfter: options.retryAfter ?? false,
    },
  });
  const { api, client } = h.client(emu, { clock, maxRetries: 3, deadlineMs: options.deadlineMs ?? 120_000 });
  return { clock, emu, api, client };
}

/** A clock that moves only when the test says so; sleepers wait for it. */
function manualClock(startMs: number) {
  let time = startMs;
  const sleepers: { until: number; wake: () => void }[] = [];
  return {
    now: () => time,
    /** The waits of the sleepers still asleep, in the order they began. */
    get waiting() {
      return sleepers.map((s) => s.until - time);
    },
    sleep(ms: number) {
      return new Promise<void>((wake) => sleepers.push({ until: time + ms, wake }));
    },
    advance(ms: number) {
      time += ms;
      for (const sleeper of sleepers.filter((s) => s.until <= time)) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.wake();
      }
    },
  };
}

describe("rate limits", () => {
  it.each(["absolute", "relative"] as const)(
    "a 429 waits for X-RateLimit-Reset (%s), then succeeds",
    async (resetStyle) => {
      const { clock, emu, api } = await rateLimitedPair({ resetStyle });
      await api.listIntegrations();
      clock.sleeps.length = 0;
      await expect(api.listIntegrations()).resolves.toEqual([]);
      expect(clock.sleeps).toEqual([20_000]);
      expect(emu.log.map((e) => e.status)).toEqual([200, 429, 200]);
    },
  );

  it("takes Retry-After when it asks for longer than the reset", async () => {
    const clock = fakeClock(T0);
    const emu = await emulator();
    emu.faults.next({
      action: { kind: "status", status: 429, headers: { "Retry-After": "9", "X-RateLimit-Reset": "4" } },
    });
    const { api } = h.client(emu, { clock });
    await api.listIntegrations();
    expect(clock.sleeps).toEqual([9_000]);
  });

  it("fails at once, without sleeping, when the wait asked for passes the deadline", async () => {
    const { clock, emu, api } = await rateLimitedPair({
      resetStyle: "absolute",
      retryAfter: true,
      deadlineMs: 10_000,
    });
    await api.listIntegrations();
    const error = await failure(api.listIntegrations());
    expect(clock.sleeps).toEqual([]);
    expect(error).toMatchObject({ kind: "deadline", status: 429, reason: "rate_limited", retryable: true });
    expect(error.code).toBe("SENDGRID_DEADLINE");
    expect(error.message).toBe(
      "GET /v3/sso/integrations -> 429 Too Many Requests: too many requests; the server asks for a 20000 ms wait, " +
        "beyond what is left of the 10000 ms deadline",
    );
    expect(emu.log).toHaveLength(2);
  });

  it("a 429 holds every other call until the reset instead of letting each find the window empty", async () => {
    const clock = manualClock(T0);
    const emu = await emulator({
      now: () => new Date(clock.now()),
      rateLimit: { limit: 3, windowMs: 20_000, resetStyle: "relative" },
    });
    const { api } = h.client(emu, { clock, maxConcurrency: 1, maxRetries: 3, deadlineMs: 120_000 });
    for (let i = 0; i < 3; i++) await api.listIntegrations();
    const calls = Promise.all([api.listIntegrations(), api.listIntegrations(), api.listIntegrations()]);
    // The first call met the 429 and waits; the second waits in its slot, the third behind it.
    while (clock.waiting.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(emu.log.map((e) => e.status)).toEqual([200, 200, 200, 429]);
    expect(clock.waiting).toEqual([20_000, 20_000]);
    clock.advance(20_000);
    await calls;
    expect(emu.log.map((e) => e.status)).toEqual([200, 200, 200, 429, 200, 200, 200]);
  });

  it("a call whose deadline ends before the reset fails as deadline without sending anything", async () => {
    const { emu, api } = await rateLimitedPair({ resetStyle: "absolute", deadlineMs: 10_000 });
    await api.listIntegrations();
    expect((await failure(api.listIntegrations())).status).toBe(429);
    const error = await failure(api.listIntegrations());
    expect(error).toMatchObject({ kind: "deadline", status: 429, reason: "rate_limited", attempts: 0 });
    expect(error.message).toBe(
      "GET /v3/sso/integrations -> 429 Too Many Requests: the rate limit resets in 20000 ms, " +
        "beyond what is left of the 10000 ms deadline",
    );
    expect(emu.log.map((e) => e.status)).toEqual([200, 429]);
  });

  it("retries a POST refused with 429: it was not processed", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    emu.faults.next({ match: { method: "POST" }, action: { kind: "status", status: 429 } });
    const { api } = h.client(emu);
    const created = await api.createCertificate({
      integrationId: DEMO_INTEGRATION_IDS.okta,
      pem: cert.pem,
      enabled: true,
    });
    expect(emu.log.map((e) => [e.method, e.status])).toEqual([
      ["POST", 429],
      ["POST", 200],
    ]);
    expect(emu.state.certificatesOf(DEMO_INTEGRATION_IDS.okta).map((c) => String(c.id))).toContain(
      created.id,
    );
  });
});

describe("retries of idempotent requests", () => {
  it("a 503 then success, after a full-jitter backoff", async () => {
    const emu = await emulator();
    emu.faults.next({ action: { kind: "status", status: 503 } });
    const clock = fakeClock(T0);
    const { api } = h.client(emu, { clock, random: () => 0.5 });
    await expect(api.listIntegrations()).resolves.toEqual([]);
    // Half of the first ceiling (500 ms).
    expect(clock.sleeps).toEqual([250]);
    expect(emu.log.map((e) => e.status)).toEqual([503, 200]);
  });

  it("backs off exponentially under the jitter", async () => {
    const emu = await emulator();
    emu.faults.next({ action: { kind: "status", status: 500 }, times: 3 });
    const clock = fakeClock(T0);
    const { api } = h.client(emu, { clock, random: () => 0.999, maxRetries: 3 });
    await api.listIntegrations();
    expect(clock.sleeps).toEqual([499, 999, 1998]);
  });

  it("a dropped connection then success on GET", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    emu.faults.next({ match: { method: "GET" }, action: { kind: "drop" } });
    const { api } = h.client(emu);
    expect(await api.getIntegration(DEMO_INTEGRATION_IDS.duo)).toMatchObject({ name: "Duo" });
    expect(emu.log.map((e) => e.outcome)).toEqual(["dropped", "answered"]);
  });

  it("a PATCH whose answer is lost is repeated: it sets a state", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    const id = String(emu.state.certificatesOf(DEMO_INTEGRATION_IDS.okta)[0]?.id);
    emu.faults.next({ match: { method: "PATCH" }, action: { kind: "lose" } });
    const { api } = h.client(emu);
    expect((await api.updateCertificate(id, { enabled: false }))?.enabled).toBe(false);
    expect(emu.log.map((e) => e.outcome)).toEqual(["lost", "answered"]);
  });

  it("a connection that drops every time ends as kind connection after maxRetries + 1 attempts", async () => {
    const emu = await emulator();
    emu.faults.next({ action: { kind: "drop" }, times: 5 });
    const { api } = h.client(emu, { maxRetries: 2 });
    const error = await failure(api.listIntegrations());
    expect(error).toMatchObject({
      kind: "connection",
      reason: "connection",
      status: null,
      attempts: 3,
      retryable: true,
    });
    expect(error.message).toMatch(
      /^GET \/v3\/sso\/integrations -> connection failed .*\(after 3 attempts\)$/,
    );
    expect(emu.log).toHaveLength(3);
  });
});

describe("POSTs whose outcome is unknown", () => {
  it("an answer lost after processing throws outcome_unknown after exactly one request", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    emu.faults.next({ match: { method: "POST" }, action: { kind: "lose" } });
    const { api } = h.client(emu, { maxRetries: 5 });
    const error = await failure(
      api.createCertificate({ integrationId: DEMO_INTEGRATION_IDS.okta, pem: cert.pem, enabled: true }),
    );
    expect(error).toMatchObject({
      kind: "outcome_unknown",
      retryable: false,
      attempts: 1,
      reason: "connection",
    });
    expect(error.code).toBe("SENDGRID_OUTCOME_UNKNOWN");
    expect(error.message).toMatch(
      /^POST \/v3\/sso\/certificates -> outcome unknown, the request may have been processed/,
    );
    expect(emu.log).toHaveLength(1);
    expect(emu.log[0]).toMatchObject({ method: "POST", outcome: "lost", status: 200 });
    // It was processed: the caller must list and match by fingerprint, which it can.
    expect(emu.state.certificatesOf(DEMO_INTEGRATION_IDS.okta)).toHaveLength(2);
  });

  it("a 500 on a POST is not retried", async () => {
    const emu = await emulator();
    emu.faults.next({ match: { method: "POST" }, action: { kind: "status", status: 500 } });
    const { api } = h.client(emu);
    const error = await failure(
      api.createIntegration({ name: "x", enabled: true, signinUrl: "a", signoutUrl: "b", entityId: "c" }),
    );
    expect(error).toMatchObject({ kind: "outcome_unknown", status: 500, reason: "http_5xx", attempts: 1 });
    expect(emu.log).toHaveLength(1);
  });

  it("a POST that times out is not retried", async () => {
    const emu = await emulator();
    emu.faults.next({ match: { method: "POST" }, action: { kind: "hang" } });
    const { api } = h.client(emu, { timeoutMs: 300 });
    const error = await failure(
      api.createTeammate({ email: "a@example.test", firstName: "A", lastName: "B" }),
    );
    expect(error).toMatchObject({ kind: "outcome_unknown", reason: "timeout", status: null, attempts: 1 });
    expect(emu.log.map((e) => e.outcome)).toEqual(["hung"]);
  });

  it("a POST refused before sending (connection refused) is retried, then fails as connection", async () => {
    const port = await closedPort();
    const client = new SendGridClient({
      account: "test",
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: () => "SG.unused",
      timeoutMs: 2_000,
      maxRetries: 2,
      maxConcurrency: 1,
      clock: fakeClock(T0),
      random: () => 0,
    });
    try {
      const error = await failure(
        new SsoApi(client).createTeammate({ email: "a@x.test", firstName: "A", lastName: "B" }),
      );
      expect(error).toMatchObject({ kind: "connection", attempts: 3, retryable: true });
      expect(error.message).toContain("ECONNREFUSED");
    } finally {
      await client.close();
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe("timeouts", () => {
  it("cuts off a body that trickles in, although every byte arrives in time for a per-chunk timer", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    emu.faults.next({ action: { kind: "trickle", bytesPerSecond: 20 } });
    const { api } = h.client(emu, { timeoutMs: 400, maxRetries: 0 });
    const error = await failure(api.listIntegrations());
    expect(error).toMatchObject({
      kind: "timeout",
      reason: "timeout",
      status: null,
      retryable: true,
      code: "SENDGRID_TIMEOUT",
    });
    expect(error.message).toBe("GET /v3/sso/integrations -> no complete answer within 400 ms");
    // The server did answer 200: the headers came, the body did not finish.
    expect(emu.log[0]).toMatchObject({ status: 200, outcome: "answered" });
  });

  it("retries a GET that timed out and succeeds", async () => {
    const emu = await emulator();
    emu.faults.next({ action: { kind: "hang" } });
    const { api } = h.client(emu, { timeoutMs: 300 });
    await expect(api.listIntegrations()).resolves.toEqual([]);
    expect(emu.log.map((e) => e.outcome)).toEqual(["hung", "answered"]);
  });
});

describe("concurrency", () => {
  it("never has more than maxConcurrency requests in flight", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    const slowPath = `/v3/sso/integrations/${DEMO_INTEGRATION_IDS.okta}`;
    // The two first requests hang until their timeout; the others would answer at once if let through.
    emu.faults.next({ match: { path: slowPath }, action: { kind: "hang" }, times: 2 });
    const { api } = h.client(emu, { maxConcurrency: 2, maxRetries: 0, timeoutMs: 500 });
    const settled: string[] = [];
    const track = (label: string, promise: Promise<unknown>) =>
      promise.then(
        () => settled.push(`${label}:ok`),
        () => settled.push(`${label}:failed`),
      );
    await Promise.all([
      track("hang1", api.getIntegration(DEMO_INTEGRATION_IDS.okta)),
      track("hang2", api.getIntegration(DEMO_INTEGRATION_IDS.okta)),
      track("fast1", api.listIntegrations()),
      track("fast2", api.getIntegration(DEMO_INTEGRATION_IDS.duo)),
    ]);
    // With the bound, the fast requests could only start once a hung one had timed out.
    expect(settled[0]).toMatch(/^hang\d:failed$/);
    expect(settled.filter((s) => s.startsWith("fast"))).toEqual(["fast1:ok", "fast2:ok"]);
    expect(emu.log.slice(0, 2).map((e) => e.outcome)).toEqual(["hung", "hung"]);
  });
});

describe("what the observer and the server see", () => {
  it("reports every attempt with the templated route and keeps the latest rate-limit remaining per route", async () => {
    const emu = await emulator({ seed: { kind: "demo" }, rateLimit: { limit: 100, windowMs: 60_000 } });
    const { api, client } = h.client(emu, { account: "main" });
    const [first] = await api.listCertificates(DEMO_INTEGRATION_IDS.okta);
    emu.faults.next({ action: { kind: "status", status: 503 } });
    await api.getCertificate(first?.id ?? "");
    await api.getIntegration(DEMO_INTEGRATION_IDS.duo);
    await api.listCertificates(DEMO_INTEGRATION_IDS.duo);

    expect(h.events.map((e) => [e.method, e.route, e.status, e.attempt, e.rateLimitRemaining])).toEqual([
      // SendGrid limits each endpoint on its own.
      ["GET", "/v3/sso/integrations/:id/certificates", 200, 1, 99],
      ["GET", "/v3/sso/certificates/:id", 503, 1, null],
      ["GET", "/v3/sso/certificates/:id", 200, 2, 99],
      ["GET", "/v3/sso/integrations/:id", 200, 1, 99],
      ["GET", "/v3/sso/integrations/:id/certificates", 200, 1, 98],
    ]);
    expect(h.events.every((e) => e.account === "main" && e.durationSeconds >= 0)).toBe(true);
    expect(Object.fromEntries(client.rateLimitRemaining())).toEqual({
      "/v3/sso/integrations/:id/certificates": 98,
      "/v3/sso/certificates/:id": 99,
      "/v3/sso/integrations/:id": 99,
    });
  });

  it("reports status null when no answer came", async () => {
    const emu = await emulator();
    emu.faults.next({ action: { kind: "drop" } });
    const { api } = h.client(emu);
    await api.listIntegrations();
    expect(h.events.map((e) => [e.status, e.attempt])).toEqual([
      [null, 1],
      [200, 2],
    ]);
  });

  it("sends on-behalf-of when set, and not otherwise", async () => {
    const emu = await emulator();
    await h.client(emu, { onBehalfOf: "subuser-eu" }).api.listIntegrations();
    await h.client(emu).api.listIntegrations();
    expect(emu.log.map((e) => e.headers.onBehalfOf)).toEqual(["subuser-eu", undefined]);
  });

  it("reads the key for every attempt, so a rotated key file is picked up", async () => {
    const emu = await emulator();
    const keys = ["SG.old-key", "SG.emulator-test-key"];
    emu.faults.next({ action: { kind: "status", status: 503 } });
    const { api } = h.client(emu, { apiKey: () => keys.shift() ?? "SG.none" });
    await expect(api.listIntegrations()).resolves.toEqual([]);
    expect(keys).toEqual([]);
  });

  it("keeps a base URL path prefix", async () => {
    const emu = await emulator();
    const { api } = h.client(emu, { baseUrl: `${emu.url}/proxy/` });
    await failure(api.listIntegrations());
    expect(emu.log[0]?.path).toBe("/proxy/v3/sso/integrations");
  });
});

describe("the API key", () => {
  const SECRET = "SG.RECOGNISABLE-secret-key.0123456789abcdef";

  function leaks(error: unknown): boolean {
    const seen = new Set<unknown>();
    const walk = (value: unknown): boolean => {
      if (typeof value === "string") return value.includes(SECRET);
      if (typeof value !== "object" || value === null || seen.has(value)) return false;
      seen.add(value);
      const own = Object.getOwnPropertyNames(value).map((k) => (value as Record<string, unknown>)[k]);
      return own.some(walk) || walk((value as { cause?: unknown }).cause);
    };
    return (
      walk(error) ||
      String(error).includes(SECRET) ||
      (error instanceof Error && (error.stack ?? "").includes(SECRET))
    );
  }

  it("appears in no error, even when the server echoes it", async () => {
    const emu = await emulator({ apiKey: SECRET, seed: { kind: "demo" } });
    const { api } = h.client(emu, { apiKey: () => SECRET, maxRetries: 0, timeoutMs: 300 });
    emu.faults.next({
      action: {
        kind: "status",
        status: 400,
        body: [{ message: `key ${SECRET} is not allowed`, field: SECRET, error_id: SECRET }],
      },
    });
    emu.faults.next({ action: { kind: "status", status: 502, body: `<html>Bearer ${SECRET}</html>` } });
    emu.faults.next({ action: { kind: "drop" } });
    emu.faults.next({ action: { kind: "trickle", bytesPerSecond: 10 } });
    emu.faults.next({ match: { method: "POST" }, action: { kind: "lose" } });
    emu.faults.next({ action: { kind: "status", status: 200, body: { [SECRET]: SECRET } } });

    const errors = [
      await failure(api.listIntegrations()),
      await failure(api.listIntegrations()),
      await failure(api.listIntegrations()),
      await failure(api.listIntegrations()),
      await failure(
        api.createCertificate({ integrationId: DEMO_INTEGRATION_IDS.okta, pem: cert.pem, enabled: true }),
      ),
      await failure(api.getIntegration(DEMO_INTEGRATION_IDS.okta)),
      await failure(api.getIntegration("missing")),
    ];
    expect(errors.map((e) => e.kind)).toEqual([
      "http",
      "http",
      "connection",
      "timeout",
      "outcome_unknown",
      "invalid_response",
      "http",
    ]);
    expect(errors[0]?.message).toContain("key [REDACTED] is not allowed (field: [REDACTED])");
    for (const error of errors) expect(leaks(error)).toBe(false);
  });

  it("appears in no error when the key itself is refused", async () => {
    const emu = await emulator();
    const { api } = h.client(emu, { apiKey: () => SECRET });
    const error = await failure(api.listIntegrations());
    expect(error.status).toBe(401);
    expect(leaks(error)).toBe(false);
  });
});

describe("close", () => {
  it("stops a call waiting to retry and refuses new ones", async () => {
    const emu = await emulator();
    const { client, api } = h.client(emu, {
      clock: {
        now: () => T0,
        sleep: (_ms, signal) =>
          new Promise((_resolve, reject) =>
            signal?.addEventListener("abort", () => reject(new Error("aborted"))),
          ),
      },
    });
    emu.faults.next({ action: { kind: "status", status: 503 } });
    const pending = failure(api.listIntegrations());
    while (emu.log.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await client.close();
    const error = await pending;
    expect(error).toMatchObject({ kind: "connection", reason: "connection", retryable: false });
    expect(error.message).toBe("GET /v3/sso/integrations -> client closed");
    expect((await failure(api.listIntegrations())).message).toBe("GET /v3/sso/integrations -> client closed");
  });
});
