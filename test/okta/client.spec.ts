// OktaClient against the Okta emulator over real sockets: reads mapped to domain types, generation,
// activation that PUTs back the app as read with only the kid changed, Okta's errors typed with its own
// fields (401/403/404/400), the rate limit honoured on a shared clock, lost answers (a POST is
// outcome_unknown, a GET is retried), and the API token kept out of every error.
import { afterEach, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import type { OktaEmulator, OktaEmulatorOptions } from "../../src/emulator/okta/server.js";
import { ApiError } from "../../src/http/errors.js";
import type { RequestEvent } from "../../src/http/transport.js";
import { OktaClient, ROUTES, type OktaClientOptions } from "../../src/okta/client.js";
import { OktaError } from "../../src/okta/errors.js";
import {
  READ_ONLY_OKTA_TOKEN,
  TEST_APP_ID,
  TEST_APP_SETTINGS,
  TEST_OKTA_TOKEN,
  startTestOktaEmulator,
} from "../helpers/start-okta-emulator.js";
import { fakeClock } from "../sendgrid/fixture.js";

const emulators: OktaEmulator[] = [];
const clients: OktaClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function emulator(options: Partial<OktaEmulatorOptions> = {}): Promise<OktaEmulator> {
  const started = await startTestOktaEmulator(options);
  emulators.push(started);
  return started;
}

function client(emu: OktaEmulator, options: Partial<OktaClientOptions> = {}): OktaClient {
  const made = new OktaClient({
    label: "okta",
    orgUrl: emu.url,
    appId: TEST_APP_ID,
    apiToken: () => TEST_OKTA_TOKEN,
    timeoutMs: 10_000,
    maxRetries: 2,
    maxConcurrency: 2,
    clock: fakeClock(Date.now()),
    random: () => 0.5,
    ...options,
  });
  clients.push(made);
  return made;
}

async function oktaFailure(promise: Promise<unknown>): Promise<OktaError> {
  const error: unknown = await promise.then(
    () => new Error("expected an OktaError, the call succeeded"),
    (e: unknown) => e,
  );
  if (error instanceof OktaError) return error;
  throw error;
}

describe("OktaClient reads", () => {
  it("maps the app and its keys: active kid, PEM certificates, Dates", async () => {
    const emu = await emulator();
    const extra = await emu.state.generateKey(TEST_APP_ID, 5);
    const okta = client(emu);
    const app = await okta.getApp();
    const stored = emu.state.app(TEST_APP_ID)!;
    expect(app).toMatchObject({
      id: TEST_APP_ID,
      name: "sendgrid",
      label: "SendGrid SSO",
      signOnMode: "SAML_2_0",
    });
    expect(app.activeKid).toBe(stored.activeKid);
    expect(app.document["settings"]).toEqual(TEST_APP_SETTINGS);

    const keys = await okta.listKeys();
    expect(keys.map((k) => k.kid)).toEqual(stored.keys.map((k) => k.kid));
    const mapped = keys.find((k) => k.kid === extra.kid)!;
    expect(mapped.createdAt).toEqual(extra.created);
    expect(mapped.expiresAt).toEqual(extra.expiresAt);
    expect(mapped.x5tS256).toBe(extra.x5tS256);
    const parsed = parseCertificate(mapped.pem);
    const original = parseCertificate(extra.pem);
    if (!parsed.ok || !original.ok) throw new Error("certificate did not parse");
    expect(parsed.certificate.fingerprintSha256).toBe(original.certificate.fingerprintSha256);
  });
});

describe("OktaClient writes", () => {
  it("generates a key that is not active", async () => {
    const emu = await emulator();
    const okta = client(emu);
    const before = (await okta.getApp()).activeKid;
    const key = await okta.generateKey(3);
    expect(emu.state.app(TEST_APP_ID)!.keys.map((k) => k.kid)).toContain(key.kid);
    expect((await okta.getApp()).activeKid).toBe(before);
    expect(emu.log.at(-2)).toMatchObject({ method: "POST", query: { validityYears: "3" }, status: 201 });
  });

  it("activates by PUTting back the app as read with only credentials.signing.kid changed", async () => {
    const emu = await emulator();
    const okta = client(emu);
    const key = await okta.generateKey(2);
    const read = await okta.getApp();
    emu.clearLog();

    const updated = await okta.activateKey(key.kid);
    expect(updated.activeKid).toBe(key.kid);
    expect(emu.log.map((e) => e.method)).toEqual(["GET", "PUT"]);
    const sent = emu.log[1]!.body as Record<string, unknown>;
    const expected = structuredClone(read.document) as Record<string, unknown> & {
      credentials: { signing: { kid: string } };
    };
    expected.credentials.signing.kid = key.kid;
    expect(sent).toEqual(expected);
    expect(emu.state.app(TEST_APP_ID)!.settings).toEqual(TEST_APP_SETTINGS);
    expect(emu.state.history.at(-1)).toMatchObject({ kind: "activate", kid: key.kid, origin: "api" });
  });

  it("sends no PUT when the key is already active", async () => {
    const emu = await emulator();
    const okta = client(emu);
    const active = emu.state.app(TEST_APP_ID)!.activeKid!;
    const historyBefore = emu.state.history.length;
    await okta.activateKey(active);
    expect(emu.log.map((e) => e.method)).toEqual(["GET"]);
    expect(emu.state.history).toHaveLength(historyBefore);
  });

  it("retries a PUT that met a 500, as idempotent", async () => {
    const emu = await emulator();
    const okta = client(emu);
    const key = await okta.generateKey(2);
    emu.faults.next({ match: { method: "PUT" }, action: { kind: "status", status: 500 } });
    await okta.activateKey(key.kid);
    expect(emu.log.filter((e) => e.method === "PUT").map((e) => e.status)).toEqual([500, 200]);
    expect(emu.state.app(TEST_APP_ID)!.activeKid).toBe(key.kid);
  });
});

describe("OktaClient errors", () => {
  it("401: an OktaError (an ApiError) with Okta's code and summary, never the token", async () => {
    const emu = await emulator();
    const wrong = "00okta-WRONG-token-value-xyz";
    const error = await oktaFailure(client(emu, { apiToken: () => wrong }).getApp());
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      kind: "http",
      status: 401,
      reason: "http_401",
      code: "OKTA_HTTP_401",
      errorCode: "E0000011",
      errorSummary: "Invalid token provided",
      route: ROUTES.app,
      attempts: 1,
    });
    expect(error.errorId).toMatch(/^oae/);
    expect(error.message).toContain("401 Unauthorized: E0000011 Invalid token provided");
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(wrong);
  });

  it("403: names the permission a write needs (okta.apps.manage) and a read needs (okta.apps.read)", async () => {
    const emu = await emulator();
    const reader = client(emu, { apiToken: () => READ_ONLY_OKTA_TOKEN });
    const write = await oktaFailure(reader.generateKey(2));
    expect(write).toMatchObject({ status: 403, errorCode: "E0000006", reason: "http_403" });
    expect(write.message).toContain("okta.apps.manage");
    emu.faults.next({
      match: { method: "GET" },
      action: { kind: "status", status: 403 },
    });
    const read = await oktaFailure(reader.getApp());
    expect(read.message).toContain("okta.apps.read");
    expect(emu.state.app(TEST_APP_ID)!.keys).toHaveLength(1);
  });

  it("404 and 400: Okta's code, summary and causes", async () => {
    const emu = await emulator();
    const missing = await oktaFailure(client(emu, { appId: "0oamissing" }).listKeys());
    expect(missing).toMatchObject({ status: 404, errorCode: "E0000007", reason: "http_404" });
    expect(missing.errorSummary).toContain("0oamissing");
    const invalid = await oktaFailure(client(emu).generateKey(1));
    expect(invalid).toMatchObject({ status: 400, errorCode: "E0000001", retryable: false });
    expect(invalid.errorCauses).toEqual(["Validity years out of range. It should be 2 - 10 years"]);
    expect(invalid.message).toContain("Validity years out of range");
  });

  it("a token echoed in an error body is redacted", async () => {
    const emu = await emulator();
    emu.faults.next({
      action: {
        kind: "status",
        status: 400,
        body: { errorCode: "E0000001", errorSummary: `bad header SSWS ${TEST_OKTA_TOKEN}`, errorCauses: [] },
      },
    });
    const error = await oktaFailure(client(emu).getApp());
    expect(error.errorSummary).toBe("bad header SSWS [REDACTED]");
    expect(error.message).not.toContain(TEST_OKTA_TOKEN);
  });
});

describe("OktaClient and the rate limit", () => {
  it("waits for X-Rate-Limit-Reset after a 429, then succeeds; remaining is tracked per route", async () => {
    const clock = fakeClock(Date.parse("2026-02-01T00:00:00Z"));
    const emu = await emulator({
      now: () => new Date(clock.now()),
      rateLimit: { limit: 2, windowMs: 30_000 },
    });
    const events: RequestEvent[] = [];
    const okta = client(emu, { clock, observer: { onRequest: (e) => events.push(e) } });
    await okta.getApp();
    await okta.listKeys();
    const keys = await okta.listKeys();
    expect(keys).toHaveLength(1);
    expect(clock.sleeps).toEqual([30_000]);
    expect(events.map((e) => [e.account, e.route, e.status, e.rateLimitRemaining])).toEqual([
      ["okta", ROUTES.app, 200, 1],
      ["okta", ROUTES.keys, 200, 0],
      ["okta", ROUTES.keys, 429, 0],
      ["okta", ROUTES.keys, 200, 1],
    ]);
    expect(okta.rateLimitRemaining().get(ROUTES.keys)).toBe(1);
  });
});

describe("OktaClient and lost answers", () => {
  it("a generate whose answer is lost is outcome_unknown, not repeated; the key exists at Okta", async () => {
    const emu = await emulator();
    emu.faults.next({ match: { method: "POST" }, action: { kind: "lose" } });
    const error = await oktaFailure(client(emu).generateKey(2));
    expect(error).toMatchObject({ kind: "outcome_unknown", code: "OKTA_OUTCOME_UNKNOWN", retryable: false });
    expect(emu.log.map((e) => e.outcome)).toEqual(["lost"]);
    expect(emu.state.app(TEST_APP_ID)!.keys).toHaveLength(2);
  });

  it("a read whose answer is lost is retried", async () => {
    const emu = await emulator();
    emu.faults.next({ match: { method: "GET" }, action: { kind: "lose" } });
    const app = await client(emu).getApp();
    expect(app.id).toBe(TEST_APP_ID);
    expect(emu.log.map((e) => e.outcome)).toEqual(["lost", "answered"]);
  });
});
