// The Okta emulator over real sockets, as the Apps API reference describes it: the app and key shapes,
// SSWS authentication and per-route permission, key generation (2..10 years, not active until the PUT),
// the PUT that replaces the app, SAML metadata, Okta's error object, and the org rate limit with its
// X-Rate-Limit-* headers on every answer. Also: the token is never logged.
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { request } from "undici";
import { parseCertificate } from "../../../src/certs/parse.js";
import type { OktaEmulator, OktaEmulatorOptions } from "../../../src/emulator/okta/server.js";
import { metadataPath } from "../../../src/emulator/okta/wire.js";
import {
  READ_ONLY_OKTA_TOKEN,
  TEST_APP_ID,
  TEST_APP_SETTINGS,
  TEST_OKTA_TOKEN,
  TEST_ORG_NAME,
  startTestOktaEmulator,
} from "../../helpers/start-okta-emulator.js";

interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly json: unknown;
}

type Json = Record<string, unknown> & {
  credentials?: { signing?: { kid?: string }; userNameTemplate?: unknown };
};

const emulators: OktaEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function emulator(options: Partial<OktaEmulatorOptions> = {}): Promise<OktaEmulator> {
  const started = await startTestOktaEmulator(options);
  emulators.push(started);
  return started;
}

async function call(
  emu: OktaEmulator,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; raw?: string } = {},
): Promise<Reply> {
  const token = options.token === undefined ? TEST_OKTA_TOKEN : options.token;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await request(`${emu.url}${path}`, {
    method: method as "GET",
    headers: {
      accept: "application/json",
      ...(token !== null && { authorization: `SSWS ${token}` }),
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body }),
  });
  const text = await response.body.text();
  const headers = Object.fromEntries(
    Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
  );
  const isJson = (headers["content-type"] ?? "").includes("json");
  return { status: response.statusCode, headers, text, json: isJson && text ? JSON.parse(text) : undefined };
}

const appPath = `/api/v1/apps/${TEST_APP_ID}`;
const keysPath = `${appPath}/credentials/keys`;

function expectOktaError(reply: Reply, status: number, code: string): Json {
  expect(reply.status).toBe(status);
  const body = reply.json as Json;
  expect(body).toMatchObject({ errorCode: code, errorLink: code });
  expect(typeof body["errorSummary"]).toBe("string");
  expect(String(body["errorId"])).toMatch(/^oae/);
  expect(Array.isArray(body["errorCauses"])).toBe(true);
  return body;
}

describe("Okta emulator: reads", () => {
  it("serves the app with credentials.signing.kid naming its active key, and its settings", async () => {
    const emu = await emulator();
    const reply = await call(emu, "GET", appPath, { token: READ_ONLY_OKTA_TOKEN });
    expect(reply.status).toBe(200);
    const app = reply.json as Json;
    expect(app).toMatchObject({
      id: TEST_APP_ID,
      name: "sendgrid",
      label: "SendGrid SSO",
      signOnMode: "SAML_2_0",
      status: "ACTIVE",
      settings: TEST_APP_SETTINGS,
    });
    expect(app.credentials?.signing?.kid).toBe(emu.state.app(TEST_APP_ID)?.activeKid);
    expect(app["_links"]).toMatchObject({
      metadata: { href: `${emu.url}${appPath}/sso/saml/metadata`, type: "application/xml" },
    });
  });

  it("lists keys as JWKs whose x5c[0] is a real RSA 2048 certificate of the org, dated as the key", async () => {
    const emu = await emulator();
    const reply = await call(emu, "GET", keysPath);
    expect(reply.status).toBe(200);
    const [key] = reply.json as Json[];
    expect(key).toMatchObject({ kty: "RSA", use: "sig", e: "AQAB" });
    expect(key!["kid"]).toMatch(/^[\w-]{43}$/);
    const der = Buffer.from((key!["x5c"] as string[])[0]!, "base64");
    expect(key!["x5t#S256"]).toBe(createHash("sha256").update(der).digest("base64url"));
    const parsed = parseCertificate(
      `-----BEGIN CERTIFICATE-----\n${der.toString("base64")}\n-----END CERTIFICATE-----\n`,
    );
    if (!parsed.ok) throw new Error(parsed.failure.message);
    expect(parsed.certificate.subjectCn).toBe(TEST_ORG_NAME);
    expect(parsed.certificate.notAfter.toISOString()).toBe(key!["expiresAt"]);
    expect(Buffer.from(key!["n"] as string, "base64url").length).toBe(256);

    const one = await call(emu, "GET", `${keysPath}/${encodeURIComponent(key!["kid"] as string)}`);
    expect(one.json).toEqual(key);
  });

  it("serves SAML metadata for the active key, or the key ?kid= names, and publicly at the app's URL", async () => {
    const emu = await emulator();
    const old = emu.state.app(TEST_APP_ID)!;
    const next = await emu.state.generateKey(TEST_APP_ID, 3);
    const b64 = (der: Uint8Array) => Buffer.from(der).toString("base64");

    const active = await call(emu, "GET", `${appPath}/sso/saml/metadata`);
    expect(active.status).toBe(200);
    expect(active.headers["content-type"]).toContain("application/xml");
    expect(active.text).toContain(b64(old.keys[0]!.der));
    const preview = await call(emu, "GET", `${appPath}/sso/saml/metadata?kid=${next.kid}`);
    expect(preview.text).toContain(b64(next.der));
    expect(preview.text).not.toContain(b64(old.keys[0]!.der));

    const open = await call(emu, "GET", metadataPath(old), { token: null });
    expect(open.status).toBe(200);
    expect(open.text).toContain(`entityID="http://www.okta.com/${old.externalKey}"`);
    expect(open.text).toContain(b64(old.keys[0]!.der));
  });
});

describe("Okta emulator: authentication and errors", () => {
  it("refuses a missing or wrong token with 401 E0000011, a Bearer token too", async () => {
    const emu = await emulator();
    expectOktaError(await call(emu, "GET", appPath, { token: null }), 401, "E0000011");
    expectOktaError(await call(emu, "GET", appPath, { token: "nope" }), 401, "E0000011");
    const bearer = await request(`${emu.url}${appPath}`, {
      headers: { authorization: `Bearer ${TEST_OKTA_TOKEN}` },
    });
    expect(bearer.statusCode).toBe(401);
    await bearer.body.dump();
  });

  it("refuses writes to a read-only token with 403 E0000006, and changes nothing", async () => {
    const emu = await emulator();
    const before = emu.state.app(TEST_APP_ID);
    expectOktaError(
      await call(emu, "POST", `${keysPath}/generate?validityYears=2`, { token: READ_ONLY_OKTA_TOKEN }),
      403,
      "E0000006",
    );
    const app = (await call(emu, "GET", appPath)).json;
    expectOktaError(
      await call(emu, "PUT", appPath, { token: READ_ONLY_OKTA_TOKEN, body: app }),
      403,
      "E0000006",
    );
    expect(emu.state.app(TEST_APP_ID)).toBe(before);
  });

  it("answers 404 E0000007 for an unknown app, E0000008 for an unknown path, 405 E0000022 for a method", async () => {
    const emu = await emulator();
    const missing = expectOktaError(await call(emu, "GET", "/api/v1/apps/0oanothere"), 404, "E0000007");
    expect(missing.errorSummary).toContain("0oanothere");
    expectOktaError(await call(emu, "GET", "/api/v1/nothing"), 404, "E0000008");
    expectOktaError(await call(emu, "DELETE", appPath), 405, "E0000022");
  });

  it("never logs the token", async () => {
    const emu = await emulator();
    await call(emu, "GET", appPath);
    await call(emu, "POST", `${keysPath}/generate?validityYears=2`);
    expect(emu.log).toHaveLength(2);
    expect(JSON.stringify(emu.log)).not.toContain(TEST_OKTA_TOKEN);
  });
});

describe("Okta emulator: generate and activate", () => {
  it("generates a key (201) that the app does not sign with until the PUT", async () => {
    const emu = await emulator();
    const activeBefore = emu.state.app(TEST_APP_ID)!.activeKid;
    const reply = await call(emu, "POST", `${keysPath}/generate?validityYears=3`);
    expect(reply.status).toBe(201);
    const key = reply.json as Json;
    expect(emu.state.app(TEST_APP_ID)!.activeKid).toBe(activeBefore);
    expect((await call(emu, "GET", keysPath)).json).toHaveLength(2);
    const years =
      (Date.parse(key["expiresAt"] as string) - Date.parse(key["created"] as string)) / 31_557_600_000;
    expect(Math.round(years)).toBe(3);
    expect(emu.state.history.at(-1)).toMatchObject({ kind: "generate", kid: key["kid"], origin: "api" });
  });

  it.each(["1", "11", "", "two"])(
    "refuses validityYears=%j with 400 E0000001 and Okta's cause",
    async (years) => {
      const emu = await emulator();
      const error = expectOktaError(
        await call(emu, "POST", `${keysPath}/generate?validityYears=${years}`),
        400,
        "E0000001",
      );
      expect(error.errorCauses).toEqual([
        { errorSummary: "Validity years out of range. It should be 2 - 10 years" },
      ]);
      expect(emu.state.app(TEST_APP_ID)!.keys).toHaveLength(1);
    },
  );

  it("a PUT of the app as read with a new kid activates it and keeps every other field", async () => {
    const emu = await emulator();
    const next = await emu.state.generateKey(TEST_APP_ID, 2);
    const app = (await call(emu, "GET", appPath)).json as Json;
    const reply = await call(emu, "PUT", appPath, {
      body: { ...app, credentials: { ...app.credentials, signing: { kid: next.kid } } },
    });
    expect(reply.status).toBe(200);
    const after = (await call(emu, "GET", appPath)).json as Json;
    expect(after.credentials?.signing?.kid).toBe(next.kid);
    const { lastUpdated: _a, credentials: _c, ...restAfter } = after;
    const { lastUpdated: _b, credentials: _d, ...restBefore } = app;
    expect(restAfter).toEqual(restBefore);
    expect(after.credentials?.userNameTemplate).toEqual(app.credentials?.userNameTemplate);
    expect(emu.state.history.at(-1)).toMatchObject({ kind: "activate", kid: next.kid, origin: "api" });
  });

  it("a PUT replaces: settings it omits are gone (the lenient quirk keeps them)", async () => {
    const minimal = (kid: string) => ({
      name: "sendgrid",
      label: "SendGrid SSO",
      signOnMode: "SAML_2_0",
      credentials: { signing: { kid } },
    });
    const strict = await emulator();
    const kid = strict.state.app(TEST_APP_ID)!.activeKid!;
    expect((await call(strict, "PUT", appPath, { body: minimal(kid) })).status).toBe(200);
    expect(strict.state.app(TEST_APP_ID)!.settings).toEqual({});

    const lenient = await emulator({ quirks: { putKeepsOmittedFields: true } });
    const lenientKid = lenient.state.app(TEST_APP_ID)!.activeKid!;
    expect((await call(lenient, "PUT", appPath, { body: minimal(lenientKid) })).status).toBe(200);
    expect(lenient.state.app(TEST_APP_ID)!.settings).toEqual(TEST_APP_SETTINGS);
  });

  it("refuses a PUT without name, label or signOnMode, with an unknown kid, or not JSON; changes nothing", async () => {
    const emu = await emulator();
    const app = (await call(emu, "GET", appPath)).json as Json;
    const before = emu.state.app(TEST_APP_ID);
    const { label: _label, ...noLabel } = app;
    const missing = expectOktaError(await call(emu, "PUT", appPath, { body: noLabel }), 400, "E0000001");
    expect(JSON.stringify(missing.errorCauses)).toContain("label");
    const unknown = { ...app, credentials: { signing: { kid: "no-such-kid" } } };
    const bad = expectOktaError(await call(emu, "PUT", appPath, { body: unknown }), 400, "E0000001");
    expect(JSON.stringify(bad.errorCauses)).toContain("credentials.signing.kid");
    expectOktaError(await call(emu, "PUT", appPath, { raw: "{not json" }), 400, "E0000003");
    expect(emu.state.app(TEST_APP_ID)).toBe(before);
  });
});

describe("Okta emulator: rate limit", () => {
  it("sends X-Rate-Limit-* on every answer and 429 E0000047 past the org limit, reset in epoch seconds", async () => {
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    const emu = await emulator({ now: () => new Date(t0), rateLimit: { limit: 2, windowMs: 60_000 } });
    const first = await call(emu, "GET", appPath);
    expect(first.headers).toMatchObject({
      "x-rate-limit-limit": "2",
      "x-rate-limit-remaining": "1",
      "x-rate-limit-reset": String(t0 / 1000 + 60),
    });
    const denied = await call(emu, "GET", keysPath, { token: "wrong" });
    expect(denied.status).toBe(401);
    expect(denied.headers["x-rate-limit-remaining"]).toBe("0");
    const limited = await call(emu, "GET", appPath);
    expectOktaError(limited, 429, "E0000047");
    expect(limited.headers["x-rate-limit-reset"]).toBe(String(t0 / 1000 + 60));
    expect(emu.log.at(-1)?.outcome).toBe("rate_limited");
  });
});
