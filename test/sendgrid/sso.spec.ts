// Every endpoint of SsoApi against the emulator over real HTTP: what goes on the wire, what comes back as
// domain types, the quirky wire fields, and every error status of the collection with its message.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { Emulator, EmulatorOptions } from "../../src/emulator/server.js";
import { DEMO_INTEGRATION_IDS } from "../../src/emulator/seeds.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { LENIENT } from "../emulator/lenient.js";
import { failure, harness } from "./fixture.js";

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
let replacement: GeneratedCertificate;
beforeAll(async () => {
  cert = await makeCert({ cn: "idp.sso.example.test", fromDays: -10, toDays: 200 });
  replacement = await makeCert({ cn: "idp.sso.example.test", fromDays: -1, toDays: 400 });
});

const OKTA = {
  name: "Okta",
  enabled: true,
  signinUrl: "https://idp.example.test/signin",
  signoutUrl: "https://idp.example.test/signout",
  entityId: "http://www.okta.com/exk-test",
};

function fingerprintOf(pem: string): string {
  const parsed = parseCertificate(pem);
  if (!parsed.ok) throw new Error(`PEM did not parse: ${parsed.failure.message}`);
  return parsed.certificate.fingerprintSha256;
}

describe("integrations", () => {
  it("create, get, list, update and delete", async () => {
    const emu = await emulator();
    const { api } = h.client(emu);

    const created = await api.createIntegration(OKTA);
    expect(created).toMatchObject({
      name: "Okta",
      enabled: true,
      entityId: OKTA.entityId,
      signinUrl: OKTA.signinUrl,
    });
    expect(created.lastUpdated).toBeInstanceOf(Date);
    expect(emu.log.at(-1)?.body).toEqual({
      name: "Okta",
      enabled: true,
      signin_url: OKTA.signinUrl,
      signout_url: OKTA.signoutUrl,
      entity_id: OKTA.entityId,
    });

    expect(await api.getIntegration(created.id)).toEqual(created);
    expect((await api.getIntegration(created.id, { si: true })).completed).toBe(false);
    expect(emu.log.at(-1)?.query).toEqual({ si: "true" });

    const listed = await api.listIntegrations({ si: true });
    expect(listed.map((i) => [i.id, i.completed])).toEqual([[created.id, false]]);
    expect((await api.listIntegrations())[0]?.completed).toBeNull();

    // The spec requires all five fields on PATCH: the integration is read, then sent whole.
    const updated = await api.updateIntegration(created.id, { enabled: false });
    expect(emu.log.slice(-2).map((e) => [e.method, e.body])).toEqual([
      ["GET", null],
      [
        "PATCH",
        {
          name: "Okta",
          enabled: false,
          signin_url: OKTA.signinUrl,
          signout_url: OKTA.signoutUrl,
          entity_id: OKTA.entityId,
        },
      ],
    ]);
    expect(updated).toMatchObject({ id: created.id, enabled: false, name: "Okta" });

    await api.updateIntegration(created.id, { name: "Okta EU", completedIntegration: true }, { si: true });
    expect(emu.log.at(-1)).toMatchObject({
      query: { si: "true" },
      body: { name: "Okta EU", completed_integration: true },
    });

    await api.deleteIntegration(created.id);
    expect(emu.log.at(-1)).toMatchObject({ method: "DELETE", status: 204 });
    expect(await api.listIntegrations()).toEqual([]);
  });

  it("URL-encodes ids in paths", async () => {
    const emu = await emulator();
    const { api } = h.client(emu);
    const error = await failure(api.getIntegration("a/b c?d"));
    expect(emu.log.at(-1)?.path).toBe("/v3/sso/integrations/a%2Fb%20c%3Fd");
    expect(error.status).toBe(404);
    expect(error.route).toBe("/v3/sso/integrations/:id");
  });
});

describe("certificates", () => {
  it("create, get, list, update and delete", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    const { api } = h.client(emu);
    const integrationId = DEMO_INTEGRATION_IDS.okta;

    const [seeded, ...others] = await api.listCertificates(integrationId);
    expect(others).toEqual([]);
    expect(seeded?.integrationId).toBe(integrationId);

    const created = await api.createCertificate({ integrationId, pem: replacement.pem, enabled: true });
    expect(emu.log.at(-1)?.body).toEqual({
      public_certificate: replacement.pem,
      integration_id: integrationId,
      enabled: true,
    });
    expect(created).toMatchObject({ integrationId, enabled: true });
    expect(created.id).toMatch(/^\d+$/);
    expect(fingerprintOf(created.pem)).toBe(replacement.fingerprintSha256);

    expect(await api.getCertificate(created.id)).toEqual(created);
    expect((await api.listCertificates(integrationId)).map((c) => c.id)).toEqual([seeded?.id, created.id]);

    const disabled = await api.updateCertificate(created.id, { enabled: false });
    expect(JSON.stringify(emu.log.at(-1)?.body)).toBe('{"enabled":false}');
    expect(disabled?.enabled).toBe(false);

    const repemmed = await api.updateCertificate(created.id, { pem: cert.pem });
    expect(emu.log.at(-1)?.body).toEqual({ public_certificate: cert.pem });
    expect(fingerprintOf(repemmed!.pem)).toBe(cert.fingerprintSha256);

    const moved = await api.updateCertificate(created.id, { integrationId: DEMO_INTEGRATION_IDS.duo });
    expect(emu.log.at(-1)?.body).toEqual({ integration_id: DEMO_INTEGRATION_IDS.duo });
    expect(moved?.integrationId).toBe(DEMO_INTEGRATION_IDS.duo);

    await api.deleteCertificate(created.id);
    expect(emu.log.at(-1)).toMatchObject({
      method: "DELETE",
      path: `/v3/sso/certificates/${created.id}`,
      status: 200,
    });
    expect((await api.listCertificates(DEMO_INTEGRATION_IDS.duo)).map((c) => c.id)).not.toContain(created.id);
  });

  it("reads dates from the API as Dates and ids as strings", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    const { api } = h.client(emu);
    const created = await api.createCertificate({
      integrationId: DEMO_INTEGRATION_IDS.entra,
      pem: replacement.pem,
      enabled: false,
    });
    const parsed = parseCertificate(replacement.pem);
    if (!parsed.ok) throw new Error("generated certificate did not parse");
    // The wire carries whole seconds.
    expect(created.notAfter?.getTime()).toBe(Math.floor(parsed.certificate.notAfter.getTime() / 1000) * 1000);
    expect(created.notBefore?.getTime()).toBe(
      Math.floor(parsed.certificate.notBefore.getTime() / 1000) * 1000,
    );
    expect(typeof created.id).toBe("string");
    expect(created.enabled).toBe(false);
  });
});

describe("teammates", () => {
  it("create and update", async () => {
    const emu = await emulator();
    const { api } = h.client(emu);
    const created = await api.createTeammate({
      email: "ada@example.test",
      firstName: "Ada",
      lastName: "Lovelace",
      persona: "developer",
      hasRestrictedSubuserAccess: true,
      subuserAccess: [{ id: "77", permissionType: "restricted", scopes: ["stats.read"] }],
    });
    expect(emu.log.at(-1)).toMatchObject({
      status: 201,
      body: {
        email: "ada@example.test",
        first_name: "Ada",
        last_name: "Lovelace",
        persona: "developer",
        has_restricted_subuser_access: true,
        subuser_access: [{ id: 77, permission_type: "restricted", scopes: ["stats.read"] }],
      },
    });
    expect(created).toMatchObject({
      email: "ada@example.test",
      firstName: "Ada",
      isSso: true,
      hasRestrictedSubuserAccess: true,
      subuserAccess: [{ id: "77", permissionType: "restricted", scopes: ["stats.read"] }],
    });

    // The spec requires first_name and last_name on PATCH: read through the Teammates API first.
    const updated = await api.updateTeammate("ada@example.test", { isAdmin: true });
    expect(emu.log.slice(-2).map((e) => [e.method, e.path])).toEqual([
      ["GET", "/v3/teammates/ada%40example.test"],
      ["PATCH", "/v3/sso/teammates/ada%40example.test"],
    ]);
    expect(JSON.stringify(emu.log.at(-1)?.body)).toBe(
      '{"first_name":"Ada","last_name":"Lovelace","is_admin":true}',
    );
    expect(await api.getTeammate("ada@example.test")).toMatchObject({ firstName: "Ada", isAdmin: true });
    expect(updated).toMatchObject({ username: "ada@example.test", isAdmin: true, userType: "admin" });
    expect(Object.keys(updated.profile)).toContain("city");
  });
});

describe("quirky wire fields", () => {
  it.each(["number", "numeric-string", "iso"] as const)("timestamps as %s", async (timestamps) => {
    const emu = await emulator({ seed: { kind: "demo" }, quirks: { timestamps } });
    const { api } = h.client(emu);
    const created = await api.createCertificate({
      integrationId: DEMO_INTEGRATION_IDS.okta,
      pem: cert.pem,
      enabled: true,
    });
    const parsed = parseCertificate(cert.pem);
    if (!parsed.ok) throw new Error("generated certificate did not parse");
    const seconds = (d: Date | null) => (d === null ? null : Math.floor(d.getTime() / 1000));
    expect(seconds(created.notAfter)).toBe(seconds(parsed.certificate.notAfter));
    expect(seconds(created.notBefore)).toBe(seconds(parsed.certificate.notBefore));
  });

  it("a missing enabled is null (unknown), not false", async () => {
    const emu = await emulator({ seed: { kind: "demo" }, quirks: { omitEnabled: true } });
    const { api } = h.client(emu);
    const certificates = await api.listCertificates(DEMO_INTEGRATION_IDS.duo);
    expect(certificates.length).toBeGreaterThan(0);
    expect(certificates.every((c) => c.enabled === null)).toBe(true);
  });

  it.each(["bare", "crlf"] as const)(
    "%s PEMs come through as sent and still parse to the same certificate",
    async (pem) => {
      const emu = await emulator({ seed: { kind: "demo" }, quirks: { pem } });
      const { api } = h.client(emu);
      const created = await api.createCertificate({
        integrationId: DEMO_INTEGRATION_IDS.okta,
        pem: cert.pem,
        enabled: true,
      });
      if (pem === "bare") expect(created.pem).not.toContain("BEGIN");
      else expect(created.pem).toContain("\r\n");
      expect(fingerprintOf(created.pem)).toBe(cert.fingerprintSha256);
    },
  );

  it("numeric ids and the intergration_id spelling from the emulator map to strings", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    const { api } = h.client(emu);
    const [first] = await api.listCertificates(DEMO_INTEGRATION_IDS.okta);
    const raw = emu.state.certificatesOf(DEMO_INTEGRATION_IDS.okta)[0];
    expect(typeof raw?.id).toBe("number");
    expect(first).toMatchObject({ id: String(raw?.id), integrationId: DEMO_INTEGRATION_IDS.okta });
  });
});

describe("error statuses of the collection", () => {
  it("400 with its messages", async () => {
    const emu = await emulator();
    const { api } = h.client(emu);
    const error = await failure(
      api.createCertificate({ integrationId: "missing", pem: cert.pem, enabled: true }),
    );
    expect(error).toMatchObject({
      kind: "http",
      status: 400,
      reason: "http_4xx",
      code: "SENDGRID_HTTP_400",
      retryable: false,
    });
    expect(error.message).toBe(
      "POST /v3/sso/certificates -> 400 Bad Request: integration missing does not exist (field: integration_id)",
    );
    expect(error.messages).toEqual([
      {
        message: "integration missing does not exist",
        field: "integration_id",
        errorId: "invalid_integration",
        help: null,
      },
    ]);
  });

  it("400 naming every field of a refused body", async () => {
    const emu = await emulator();
    const { api } = h.client(emu);
    const error = await failure(api.createIntegration({ ...OKTA, name: "", entityId: "" }));
    expect(error.messages.map((m) => m.field)).toEqual(["name", "entity_id"]);
    expect(error.message).toContain("(field: name); ");
  });

  it("401 for a wrong key (SendGrid's object shape)", async () => {
    const emu = await emulator();
    const { api } = h.client(emu, { apiKey: () => "SG.wrong" });
    const error = await failure(api.listIntegrations());
    expect(error).toMatchObject({ status: 401, reason: "http_401", code: "SENDGRID_HTTP_401", attempts: 1 });
    expect(error.message).toBe("GET /v3/sso/integrations -> 401 Unauthorized: authorization required");
  });

  it("403 for a key without the SSO scopes", async () => {
    const emu = await emulator();
    emu.state.forbidden = true;
    const { api } = h.client(emu);
    const error = await failure(api.listIntegrations());
    expect(error).toMatchObject({ status: 403, reason: "http_403", retryable: false });
    expect(error.message).toBe("GET /v3/sso/integrations -> 403 Forbidden: access forbidden");
  });

  it.each(["array", "object"] as const)("404 in the %s error shape", async (errorShape) => {
    const emu = await emulator({ quirks: { errorShape } });
    const { api } = h.client(emu);
    const error = await failure(api.getIntegration("nope"));
    expect(error.message).toBe(
      "GET /v3/sso/integrations/:id -> 404 Not Found: integration not found (field: id)",
    );
    expect(error).toMatchObject({
      status: 404,
      reason: "http_404",
      code: "SENDGRID_HTTP_404",
      retryable: false,
    });
    expect(error.messages[0]).toEqual({
      message: "integration not found",
      field: "id",
      errorId: errorShape === "array" ? "not_found" : null,
      help: null,
    });
  });

  it("429 once retries are spent", async () => {
    const emu = await emulator({ rateLimit: { limit: 1, windowMs: 60_000 } });
    const { api } = h.client(emu, { maxRetries: 0 });
    await api.listIntegrations();
    const error = await failure(api.listIntegrations());
    expect(error).toMatchObject({ kind: "http", status: 429, reason: "rate_limited", retryable: true });
    expect(error.message).toBe("GET /v3/sso/integrations -> 429 Too Many Requests: too many requests");
  });

  it("500 once retries are spent", async () => {
    const emu = await emulator();
    emu.faults.next({ match: { method: "GET" }, action: { kind: "status", status: 500 }, times: 3 });
    const { api } = h.client(emu, { maxRetries: 2 });
    const error = await failure(api.listIntegrations());
    expect(error).toMatchObject({
      kind: "http",
      status: 500,
      reason: "http_5xx",
      retryable: true,
      attempts: 3,
    });
    expect(error.message).toBe(
      "GET /v3/sso/integrations -> 500 Internal Server Error: injected fault: HTTP 500 (after 3 attempts)",
    );
    expect(emu.log).toHaveLength(3);
  });

  it("an HTML error body gives a clean error", async () => {
    const emu = await emulator();
    emu.faults.next({
      action: {
        kind: "status",
        status: 502,
        body: "<html><head><title>502</title></head><body><h1>Bad Gateway</h1></body></html>",
        headers: { "Content-Type": "text/html; charset=utf-8" },
      },
      times: 3,
    });
    const { api } = h.client(emu, { maxRetries: 0 });
    const error = await failure(api.listIntegrations());
    expect(error.message).toBe(
      "GET /v3/sso/integrations -> 502 Bad Gateway: non-JSON response body (text/html)",
    );
    expect(error.messages).toEqual([]);
  });

  it("a 200 that does not fit the schema fails as invalid_response naming the field", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    const good = { public_certificate: cert.pem, id: 1, intergration_id: "x", not_before: 0, not_after: 1 };
    emu.faults.next({
      match: { path: `/v3/sso/integrations/${DEMO_INTEGRATION_IDS.okta}/certificates` },
      action: { kind: "status", status: 200, body: [good, good, good, { ...good, id: { nested: true } }] },
    });
    const { api } = h.client(emu);
    const error = await failure(api.listCertificates(DEMO_INTEGRATION_IDS.okta));
    expect(error).toMatchObject({
      kind: "invalid_response",
      reason: "invalid_response",
      status: 200,
      retryable: false,
    });
    expect(error.code).toBe("SENDGRID_INVALID_RESPONSE");
    expect(error.message).toBe(
      "GET /v3/sso/integrations/:id/certificates -> 200 OK: invalid response: [3].id: expected number or string",
    );
  });

  it("a 200 that is not JSON fails as invalid_response", async () => {
    const emu = await emulator();
    emu.faults.next({ action: { kind: "status", status: 200, body: "<html>maintenance</html>" } });
    const { api } = h.client(emu);
    const error = await failure(api.listIntegrations());
    expect(error.message).toBe("GET /v3/sso/integrations -> 200 OK: invalid response: body is not JSON");
  });

  it("a body over maxBodyBytes fails as invalid_response", async () => {
    const emu = await emulator({ seed: { kind: "demo" } });
    const { api } = h.client(emu, { maxBodyBytes: 512 });
    const error = await failure(api.listCertificates(DEMO_INTEGRATION_IDS.okta));
    expect(error).toMatchObject({ kind: "invalid_response", status: 200 });
    expect(error.message).toContain("response body larger than 512 bytes");
  });
});
