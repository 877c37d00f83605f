import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import type { Emulator } from "../../src/emulator/server.js";
import { FIRST_CERTIFICATE_ID } from "../../src/emulator/state.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { LENIENT } from "./lenient.js";
import { call, list, obj } from "./call.js";

const NOW = new Date("2030-01-15T12:00:00Z");
const NOW_SECONDS = NOW.getTime() / 1000;

const newIntegration = {
  name: "Okta",
  enabled: true,
  entity_id: "http://www.okta.com/exk1",
  signin_url: "https://example.okta.com/app/sso/saml",
  signout_url: "https://example.okta.com/login/signout",
};

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startTestEmulator({ ...LENIENT, now: () => NOW });
});

afterEach(async () => {
  await emulator.close();
});

async function createIntegration(): Promise<string> {
  const reply = await call(emulator, "POST", "/v3/sso/integrations", { body: newIntegration });
  expect(reply.status).toBe(200);
  return obj(reply).id as string;
}

describe("integrations", () => {
  it("creates an integration with SendGrid's generated URLs and lists it", async () => {
    const created = await call(emulator, "POST", "/v3/sso/integrations", { body: newIntegration });
    expect(created.status).toBe(200);
    const body = obj(created);
    const id = body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toEqual({
      ...newIntegration,
      id,
      single_signon_url: `https://api.sendgrid.com/v3/public/sso/saml/response/id/${id}`,
      audience_url: `https://api.sendgrid.com/v3/public/sso/saml/response/id/${id}`,
      last_updated: NOW_SECONDS,
    });

    const listed = await call(emulator, "GET", "/v3/sso/integrations");
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual([body]);
  });

  it("includes completed_integration only with si=true", async () => {
    const id = await createIntegration();
    const plain = await call(emulator, "GET", "/v3/sso/integrations");
    expect(list(plain)[0]).not.toHaveProperty("completed_integration");
    const falsy = await call(emulator, "GET", "/v3/sso/integrations?si=false");
    expect(list(falsy)[0]).not.toHaveProperty("completed_integration");
    const withSi = await call(emulator, "GET", "/v3/sso/integrations?si=true");
    expect(list(withSi)[0]).toHaveProperty("completed_integration", false);

    expect(obj(await call(emulator, "GET", `/v3/sso/integrations/${id}`))).not.toHaveProperty(
      "completed_integration",
    );
    expect(obj(await call(emulator, "GET", `/v3/sso/integrations/${id}?si=true`)).completed_integration).toBe(
      false,
    );
    const patched = await call(emulator, "PATCH", `/v3/sso/integrations/${id}?si=true`, {
      body: { completed_integration: true },
    });
    expect(obj(patched).completed_integration).toBe(true);
  });

  it("PATCH changes only the fields present and bumps last_updated", async () => {
    let now = NOW;
    await emulator.close();
    emulator = await startTestEmulator({ ...LENIENT, now: () => now });
    const id = await createIntegration();
    now = new Date(NOW.getTime() + 60_000);
    const patched = await call(emulator, "PATCH", `/v3/sso/integrations/${id}`, {
      body: { name: "Okta prod" },
    });
    expect(patched.status).toBe(200);
    expect(obj(patched)).toMatchObject({
      ...newIntegration,
      name: "Okta prod",
      last_updated: NOW_SECONDS + 60,
    });
    expect(emulator.state.getIntegration(id)?.name).toBe("Okta prod");
  });

  it("DELETE answers 204 with no body and takes the integration's certificates along", async () => {
    const id = await createIntegration();
    const cert = emulator.state.addCertificate({
      integrationId: id,
      pem: (await makeCert({ now: NOW })).pem,
      enabled: true,
    });
    const deleted = await call(emulator, "DELETE", `/v3/sso/integrations/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect(emulator.state.getIntegration(id)).toBeUndefined();
    expect(emulator.state.getCertificate(cert.id)).toBeUndefined();
    expect((await call(emulator, "GET", `/v3/sso/certificates/${cert.id}`)).status).toBe(404);
    expect(list(await call(emulator, "GET", "/v3/sso/integrations"))).toEqual([]);
  });
});

describe("certificates", () => {
  it("creates a certificate: numeric incrementing id, dates in seconds from the PEM, misspelt intergration_id", async () => {
    const id = await createIntegration();
    const cert = await makeCert({ now: NOW, fromDays: -10, toDays: 200 });
    const parsed = parseCertificate(cert.pem);
    if (!parsed.ok) throw new Error("test certificate does not parse");

    const first = await call(emulator, "POST", "/v3/sso/certificates", {
      body: { public_certificate: cert.pem, integration_id: id, enabled: true },
    });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      public_certificate: cert.pem,
      id: FIRST_CERTIFICATE_ID,
      not_before: parsed.certificate.notBefore.getTime() / 1000,
      not_after: parsed.certificate.notAfter.getTime() / 1000,
      intergration_id: id,
      enabled: true,
    });
    const second = await call(emulator, "POST", "/v3/sso/certificates", {
      body: { public_certificate: cert.pem, integration_id: id },
    });
    expect(obj(second).id).toBe(FIRST_CERTIFICATE_ID + 1);
    expect(obj(second).enabled).toBe(false);
  });

  it("lists an integration's certificates, gets one, patches one partially and deletes one with its body", async () => {
    const id = await createIntegration();
    const other = await createIntegration();
    const pems = [(await makeCert({ now: NOW, cn: "a" })).pem, (await makeCert({ now: NOW, cn: "b" })).pem];
    const [a, b] = pems.map((pem) =>
      emulator.state.addCertificate({ integrationId: id, pem, enabled: true }),
    );
    emulator.state.addCertificate({ integrationId: other, pem: pems[0] as string, enabled: true });
    if (!a || !b) throw new Error("setup");

    const listed = await call(emulator, "GET", `/v3/sso/integrations/${id}/certificates`);
    expect(listed.status).toBe(200);
    expect(list(listed).map((c) => c.id)).toEqual([a.id, b.id]);

    const got = await call(emulator, "GET", `/v3/sso/certificates/${b.id}`);
    expect(obj(got)).toMatchObject({
      id: b.id,
      public_certificate: pems[1],
      intergration_id: id,
      enabled: true,
    });

    const patched = await call(emulator, "PATCH", `/v3/sso/certificates/${a.id}`, {
      body: { enabled: false },
    });
    expect(patched.status).toBe(200);
    expect(obj(patched)).toMatchObject({
      id: a.id,
      enabled: false,
      public_certificate: pems[0],
      intergration_id: id,
    });

    const deleted = await call(emulator, "DELETE", `/v3/sso/certificates/${b.id}`);
    expect(deleted.status).toBe(200);
    expect(obj(deleted)).toMatchObject({ id: b.id, public_certificate: pems[1] });
    expect(
      list(await call(emulator, "GET", `/v3/sso/integrations/${id}/certificates`)).map((c) => c.id),
    ).toEqual([a.id]);
  });

  it("PATCH with a new PEM re-reads the dates, and integration_id moves the certificate", async () => {
    const id = await createIntegration();
    const other = await createIntegration();
    const cert = emulator.state.addCertificate({
      integrationId: id,
      pem: (await makeCert({ now: NOW, toDays: 10 })).pem,
      enabled: true,
    });
    const longer = await makeCert({ now: NOW, toDays: 400 });
    const patched = await call(emulator, "PATCH", `/v3/sso/certificates/${cert.id}`, {
      body: { public_certificate: longer.pem, integration_id: other },
    });
    expect(patched.status).toBe(200);
    expect(obj(patched).not_after).toBeGreaterThan(NOW_SECONDS + 399 * 86_400);
    expect(obj(patched).intergration_id).toBe(other);
    expect(emulator.state.certificatesOf(id)).toEqual([]);
    expect(emulator.state.certificatesOf(other).map((c) => c.id)).toEqual([cert.id]);
  });
});

describe("teammates", () => {
  it("creates a teammate with 201 and patches it with 200 and the full profile", async () => {
    const created = await call(emulator, "POST", "/v3/sso/teammates", {
      body: { email: "jane@example.test", first_name: "Jane", last_name: "Doe", persona: "developer" },
    });
    expect(created.status).toBe(201);
    expect(obj(created)).toMatchObject({
      email: "jane@example.test",
      first_name: "Jane",
      is_sso: true,
      is_admin: false,
    });

    const patched = await call(
      emulator,
      "PATCH",
      `/v3/sso/teammates/${encodeURIComponent("jane@example.test")}`,
      {
        body: {
          is_admin: true,
          subuser_access: [{ id: 7, permission_type: "restricted", scopes: ["mail.send"] }],
        },
      },
    );
    expect(patched.status).toBe(200);
    expect(obj(patched)).toMatchObject({
      username: "jane@example.test",
      first_name: "Jane",
      is_admin: true,
      user_type: "admin",
      subuser_access: [{ id: 7, permission_type: "restricted", scopes: ["mail.send"] }],
    });
    expect(emulator.state.teammates.get("jane@example.test")?.isAdmin).toBe(true);
  });
});

describe("unknown things", () => {
  it.each([
    ["GET", "/v3/sso/integrations/nope"],
    ["PATCH", "/v3/sso/integrations/nope"],
    ["DELETE", "/v3/sso/integrations/nope"],
    ["GET", "/v3/sso/integrations/nope/certificates"],
    ["GET", "/v3/sso/certificates/12345"],
    ["PATCH", "/v3/sso/certificates/12345"],
    ["DELETE", "/v3/sso/certificates/12345"],
    ["GET", "/v3/sso/certificates/not-a-number"],
    ["PATCH", "/v3/sso/teammates/nobody@example.test"],
    ["GET", "/v3/sso/nothing-here"],
    ["GET", "/v3/mail/send"],
  ])("%s %s answers 404 in the array shape", async (method, path) => {
    const reply = await call(emulator, method, path, method === "PATCH" ? { body: { enabled: true } } : {});
    expect(reply.status).toBe(404);
    const errors = list(reply);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ error_id: "not_found" });
    expect(typeof errors[0]?.message).toBe("string");
  });

  it.each([
    ["PUT", "/v3/sso/integrations", "GET, POST"],
    ["POST", "/v3/sso/integrations/abc", "GET, PATCH, DELETE"],
    ["GET", "/v3/sso/certificates", "POST"],
    ["DELETE", "/v3/sso/teammates/someone", "PATCH"],
  ])("%s %s answers 405 and says what is allowed", async (method, path, allow) => {
    const reply = await call(emulator, method, path);
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe(allow);
  });

  it("treats a trailing slash as the same route", async () => {
    await createIntegration();
    const reply = await call(emulator, "GET", "/v3/sso/integrations/");
    expect(reply.status).toBe(200);
    expect(list(reply)).toHaveLength(1);
  });
});

describe("by default, as strict as the spec", () => {
  let strict: Emulator;

  beforeEach(async () => {
    strict = await startTestEmulator({ now: () => NOW });
  });

  afterEach(async () => {
    await strict.close();
  });

  it.each([
    ["GET", "/v3/sso/integrations/nope"],
    ["PATCH", "/v3/sso/integrations/nope"],
    ["GET", "/v3/sso/integrations/nope/certificates"],
    ["GET", "/v3/sso/certificates/12345"],
    ["PATCH", "/v3/sso/certificates/12345"],
    ["DELETE", "/v3/sso/certificates/12345"],
    ["PATCH", "/v3/sso/teammates/nobody@example.test"],
    ["GET", "/v3/teammates/nobody@example.test"],
  ])("%s %s: an unknown id answers 400 (the spec documents no 404)", async (method, path) => {
    const reply = await call(strict, method, path, method === "PATCH" ? { body: { enabled: true } } : {});
    expect(reply.status).toBe(400);
    expect(list(reply)[0]).toMatchObject({ error_id: "not_found" });
  });

  it("an unknown route is still a 404", async () => {
    expect((await call(strict, "GET", "/v3/sso/nothing-here")).status).toBe(404);
  });

  it("POST /v3/sso/integrations answers as the spec's example: no id; the integration is listed", async () => {
    const reply = await call(strict, "POST", "/v3/sso/integrations", { body: newIntegration });
    expect(reply.status).toBe(200);
    expect(obj(reply)).not.toHaveProperty("id");
    expect(obj(reply)).toMatchObject({ name: "Okta", entity_id: newIntegration.entity_id });
    expect(list(await call(strict, "GET", "/v3/sso/integrations")).map((i) => i.name)).toEqual(["Okta"]);
  });

  it('PATCH /v3/sso/certificates/{id} answers the certificate; certificatePatchAnswer "empty" a bare 200', async () => {
    const { pem } = await makeCert({ now: NOW });
    const integrationId = strict.state.addIntegration({ name: "Okta" }).id;
    const id = strict.state.addCertificate({ integrationId, pem, enabled: true }).id;
    const answered = await call(strict, "PATCH", `/v3/sso/certificates/${id}`, { body: { enabled: false } });
    expect(obj(answered)).toMatchObject({ id, intergration_id: integrationId });

    const older = await startTestEmulator({ quirks: { certificatePatchAnswer: "empty" } });
    try {
      const otherIntegration = older.state.addIntegration({ name: "Okta" }).id;
      const otherId = older.state.addCertificate({ integrationId: otherIntegration, pem, enabled: true }).id;
      const empty = await call(older, "PATCH", `/v3/sso/certificates/${otherId}`, {
        body: { enabled: false },
      });
      expect([empty.status, empty.text]).toEqual([200, ""]);
      expect(older.state.getCertificate(otherId)?.enabled).toBe(false);
    } finally {
      await older.close();
    }
  });

  it("GET /v3/teammates/{username} (the Teammates API) reads one SSO teammate", async () => {
    const body = { email: "ada@example.test", first_name: "Ada", last_name: "Lovelace" };
    expect((await call(strict, "POST", "/v3/sso/teammates", { body })).status).toBe(201);
    const reply = await call(strict, "GET", "/v3/teammates/ada@example.test");
    expect(reply.status).toBe(200);
    expect(obj(reply)).toMatchObject({
      username: "ada@example.test",
      first_name: "Ada",
      last_name: "Lovelace",
    });
  });
});
