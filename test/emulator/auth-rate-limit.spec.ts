import { afterEach, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions } from "../../src/emulator/server.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { call } from "./call.js";

const T0 = new Date("2030-03-01T00:00:00Z");
const T0_SECONDS = T0.getTime() / 1000;

let emulator: Emulator | undefined;
let clock = T0;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  clock = T0;
});

async function start(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  emulator = await startTestEmulator({ now: () => clock, ...options });
  return emulator;
}

describe("authentication", () => {
  const unauthorized = { errors: [{ field: null, message: "authorization required" }] };

  it.each([
    ["no Authorization header", { key: null }],
    ["a wrong key", { key: "SG.wrong" }],
    ["a key that only starts like the right one", { key: `${TEST_API_KEY}x` }],
    ["another scheme", { key: null, headers: { authorization: `Basic ${TEST_API_KEY}` } }],
  ])("answers 401 to %s", async (_name, options) => {
    const emu = await start();
    const reply = await call(emu, "GET", "/v3/sso/integrations", options);
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(unauthorized);
  });

  it("accepts the right key, whatever the case of the scheme", async () => {
    const emu = await start();
    const reply = await call(emu, "GET", "/v3/sso/integrations", {
      key: null,
      headers: { authorization: `bearer ${TEST_API_KEY}` },
    });
    expect(reply.status).toBe(200);
  });

  it("never writes the key into the log", async () => {
    const emu = await start();
    await call(emu, "GET", "/v3/sso/integrations");
    await call(emu, "GET", "/v3/sso/integrations", { key: "SG.wrong-key" });
    expect(emu.log).toHaveLength(2);
    expect(JSON.stringify(emu.log)).not.toContain(TEST_API_KEY);
    expect(JSON.stringify(emu.log)).not.toContain("SG.wrong-key");
    expect(emu.log.map((entry) => entry.status)).toEqual([200, 401]);
  });

  it("answers 403 while the key is forbidden, and 200 again after", async () => {
    const emu = await start();
    emu.state.forbidden = true;
    const forbidden = await call(emu, "GET", "/v3/sso/integrations");
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toEqual({ errors: [{ field: null, message: "access forbidden" }] });
    expect((await call(emu, "POST", "/v3/sso/integrations", { body: {} })).status).toBe(403);
    expect(await call(emu, "GET", "/v3/sso/integrations", { key: "SG.wrong" })).toMatchObject({
      status: 401,
    });
    emu.state.forbidden = false;
    expect((await call(emu, "GET", "/v3/sso/integrations")).status).toBe(200);
  });

  it("records on-behalf-of in the log and answers normally", async () => {
    const emu = await start();
    const reply = await call(emu, "GET", "/v3/sso/integrations?si=true", {
      headers: { "on-behalf-of": "subuser-eu" },
    });
    expect(reply.status).toBe(200);
    await call(emu, "GET", "/v3/sso/integrations");
    expect(emu.log.map((entry) => entry.headers)).toEqual([{ onBehalfOf: "subuser-eu" }, {}]);
    expect(emu.log[0]?.query).toEqual({ si: "true" });
  });
});

describe("rate limiting", () => {
  it("counts down X-RateLimit-Remaining with an absolute reset, then answers 429", async () => {
    const emu = await start({ rateLimit: { limit: 3, windowMs: 60_000 } });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await call(emu, "GET", "/v3/sso/integrations"));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(replies.map((r) => r.headers["x-ratelimit-remaining"])).toEqual(["2", "1", "0", "0"]);
    for (const reply of replies) {
      expect(reply.headers["x-ratelimit-limit"]).toBe("3");
      expect(reply.headers["x-ratelimit-reset"]).toBe(String(T0_SECONDS + 60));
    }
    const refused = replies[3];
    expect(refused?.headers["retry-after"]).toBeUndefined();
    // SendGrid's 429 body, whatever shape its other errors take.
    expect(refused?.json).toEqual({ errors: [{ field: null, message: "too many requests" }] });
    expect(emu.log.map((entry) => entry.outcome)).toEqual([
      "answered",
      "answered",
      "answered",
      "rate_limited",
    ]);
    expect(emu.log[3]?.status).toBe(429);
  });

  it("opens a new window once the old one has passed", async () => {
    const emu = await start({ rateLimit: { limit: 1, windowMs: 10_000 } });
    expect((await call(emu, "GET", "/v3/sso/integrations")).status).toBe(200);
    clock = new Date(T0.getTime() + 9_999);
    expect((await call(emu, "GET", "/v3/sso/integrations")).status).toBe(429);
    clock = new Date(T0.getTime() + 10_000);
    const reopened = await call(emu, "GET", "/v3/sso/integrations");
    expect(reopened.status).toBe(200);
    expect(reopened.headers["x-ratelimit-reset"]).toBe(String(T0_SECONDS + 20));
  });

  it("sends seconds-until-reset and Retry-After when asked to", async () => {
    const emu = await start({
      rateLimit: { limit: 1, windowMs: 60_000, resetStyle: "relative", retryAfter: true },
    });
    const first = await call(emu, "GET", "/v3/sso/integrations");
    expect(first.headers["x-ratelimit-reset"]).toBe("60");
    expect(first.headers["retry-after"]).toBeUndefined();
    clock = new Date(T0.getTime() + 20_500);
    const refused = await call(emu, "GET", "/v3/sso/integrations");
    expect(refused.status).toBe(429);
    expect(refused.headers["x-ratelimit-reset"]).toBe("40");
    expect(refused.headers["retry-after"]).toBe("40");
  });

  it("counts each endpoint on its own: another endpoint is answered while one is spent", async () => {
    const emu = await start({ rateLimit: { limit: 1, windowMs: 60_000 } });
    expect((await call(emu, "GET", "/v3/sso/integrations")).status).toBe(200);
    expect((await call(emu, "GET", "/v3/sso/integrations")).status).toBe(429);
    const other = await call(emu, "GET", "/v3/sso/integrations/nope/certificates");
    expect(other.status).toBe(400);
    expect(other.headers["x-ratelimit-remaining"]).toBe("0");
    // Ids do not make new endpoints: the template is the bucket.
    expect((await call(emu, "GET", "/v3/sso/integrations/other/certificates")).status).toBe(429);
  });

  it('with per "account": one bucket for every request of the key', async () => {
    const emu = await start({ rateLimit: { limit: 1, windowMs: 60_000, per: "account" } });
    expect((await call(emu, "GET", "/v3/sso/integrations")).status).toBe(200);
    expect((await call(emu, "GET", "/v3/sso/integrations/nope/certificates")).status).toBe(429);
  });

  it("counts refused and unknown-route requests of the key, not unauthenticated ones", async () => {
    const emu = await start({ rateLimit: { limit: 5, windowMs: 60_000, per: "account" } });
    await call(emu, "GET", "/v3/sso/integrations", { key: "SG.wrong" });
    const notFound = await call(emu, "GET", "/v3/sso/nowhere");
    expect(notFound.status).toBe(404);
    expect(notFound.headers["x-ratelimit-remaining"]).toBe("4");
    const badBody = await call(emu, "POST", "/v3/sso/integrations", { body: {} });
    expect(badBody.status).toBe(400);
    expect(badBody.headers["x-ratelimit-remaining"]).toBe("3");
  });

  it("refuses nonsense limits at start", async () => {
    await expect(startTestEmulator({ rateLimit: { limit: -1, windowMs: 1000 } })).rejects.toThrow(RangeError);
    await expect(startTestEmulator({ rateLimit: { limit: 1, windowMs: 0 } })).rejects.toThrow(RangeError);
  });
});
