import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateCsr } from "../../src/certs/generate.js";
import type { Emulator } from "../../src/emulator/server.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { call, list } from "./call.js";

let emulator: Emulator;
let integrationId: string;
let certificateId: number;
let pem: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  pem = (await makeCert()).pem;
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  for (const integration of emulator.state.listIntegrations())
    emulator.state.removeIntegration(integration.id);
  integrationId = emulator.state.addIntegration({ name: "Okta" }).id;
  certificateId = emulator.state.addCertificate({ integrationId, pem, enabled: true }).id;
});

/** Sends the request and returns the fields named by the 400's errors, checking the array shape on the way. */
async function refusedFields(
  method: string,
  path: string,
  options: Parameters<typeof call>[3],
): Promise<(string | null)[]> {
  const reply = await call(emulator, method, path, options);
  expect(reply.status, reply.text).toBe(400);
  const errors = list(reply);
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(Object.keys(error).sort()).toEqual(["error_id", "field", "message"]);
    expect(typeof error.message).toBe("string");
    expect(typeof error.error_id).toBe("string");
  }
  return errors.map((error) => error.field as string | null);
}

describe("certificate bodies", () => {
  it("refuses a POST without public_certificate", async () => {
    expect(
      await refusedFields("POST", "/v3/sso/certificates", { body: { integration_id: integrationId } }),
    ).toEqual(["public_certificate"]);
  });

  it("refuses a POST without integration_id", async () => {
    expect(
      await refusedFields("POST", "/v3/sso/certificates", { body: { public_certificate: pem } }),
    ).toEqual(["integration_id"]);
  });

  it.each([
    ["garbage text", "hello"],
    ["a private key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
    ["an empty string", ""],
  ])("refuses %s as public_certificate on POST and PATCH", async (_name, text) => {
    expect(
      await refusedFields("POST", "/v3/sso/certificates", {
        body: { public_certificate: text, integration_id: integrationId },
      }),
    ).toEqual(["public_certificate"]);
    expect(
      await refusedFields("PATCH", `/v3/sso/certificates/${certificateId}`, {
        body: { public_certificate: text },
      }),
    ).toEqual(["public_certificate"]);
  });

  it("refuses a certificate signing request: it is not a certificate", async () => {
    const csr = await generateCsr("idp.example.test");
    expect(
      await refusedFields("POST", "/v3/sso/certificates", {
        body: { public_certificate: csr, integration_id: integrationId },
      }),
    ).toEqual(["public_certificate"]);
  });

  it("refuses an unknown integration_id on POST and PATCH", async () => {
    expect(
      await refusedFields("POST", "/v3/sso/certificates", {
        body: { public_certificate: pem, integration_id: "nope" },
      }),
    ).toEqual(["integration_id"]);
    expect(
      await refusedFields("PATCH", `/v3/sso/certificates/${certificateId}`, {
        body: { integration_id: "nope" },
      }),
    ).toEqual(["integration_id"]);
  });

  it.each([
    ["enabled as a string", { enabled: "true" }, "enabled"],
    ["enabled as null", { enabled: null }, "enabled"],
    ["public_certificate as a number", { public_certificate: 42 }, "public_certificate"],
    ["integration_id as a number", { integration_id: 42 }, "integration_id"],
  ])("refuses %s", async (_name, patch, field) => {
    expect(await refusedFields("PATCH", `/v3/sso/certificates/${certificateId}`, { body: patch })).toEqual([
      field,
    ]);
    expect(
      await refusedFields("POST", "/v3/sso/certificates", {
        body: { public_certificate: pem, integration_id: integrationId, ...patch },
      }),
    ).toEqual([field]);
  });

  it("leaves the state alone when it refuses", async () => {
    await refusedFields("PATCH", `/v3/sso/certificates/${certificateId}`, { body: { enabled: "no" } });
    await refusedFields("POST", "/v3/sso/certificates", {
      body: { public_certificate: "x", integration_id: integrationId },
    });
    expect(emulator.state.certificatesOf(integrationId).map((c) => [c.id, c.enabled])).toEqual([
      [certificateId, true],
    ]);
  });
});

describe("malformed bodies", () => {
  it.each([
    ["POST", "/v3/sso/certificates"],
    ["POST", "/v3/sso/integrations"],
    ["POST", "/v3/sso/teammates"],
  ])("%s %s refuses invalid JSON, a missing body and a body that is not an object", async (method, path) => {
    expect(await refusedFields(method, path, { rawBody: '{"public_certificate": ' })).toEqual([null]);
    expect(await refusedFields(method, path, {})).toEqual([null]);
    expect(await refusedFields(method, path, { body: [1, 2] })).toEqual([null]);
    expect(await refusedFields(method, path, { body: "text" })).toEqual([null]);
  });

  it("says which JSON it could not read", async () => {
    const reply = await call(emulator, "PATCH", `/v3/sso/certificates/${certificateId}`, {
      rawBody: "{nope",
    });
    expect(list(reply)[0]).toMatchObject({ error_id: "invalid_json" });
  });
});

describe("integration bodies", () => {
  const complete = {
    name: "Okta",
    entity_id: "http://www.okta.com/x",
    signin_url: "https://idp/sso",
    signout_url: "https://idp/slo",
  };

  it.each(Object.keys(complete))("refuses a POST without %s", async (field) => {
    const body: Record<string, unknown> = { ...complete };
    delete body[field];
    expect(await refusedFields("POST", "/v3/sso/integrations", { body })).toEqual([field]);
  });

  it("names every missing field at once", async () => {
    const fields = await refusedFields("POST", "/v3/sso/integrations", { body: {} });
    expect(fields.sort()).toEqual(["entity_id", "name", "signin_url", "signout_url"]);
  });

  it("refuses wrong types and empty names on POST and PATCH", async () => {
    expect(
      await refusedFields("POST", "/v3/sso/integrations", { body: { ...complete, enabled: "yes" } }),
    ).toEqual(["enabled"]);
    expect(
      await refusedFields("PATCH", `/v3/sso/integrations/${integrationId}`, {
        body: { ...complete, enabled: true, name: "" },
      }),
    ).toEqual(["name"]);
    expect(
      await refusedFields("PATCH", `/v3/sso/integrations/${integrationId}`, {
        body: { ...complete, enabled: true, completed_integration: 1 },
      }),
    ).toEqual(["completed_integration"]);
  });

  it("refuses a PATCH without the five fields the spec requires; partialIntegrationPatch accepts it", async () => {
    const path = `/v3/sso/integrations/${integrationId}`;
    expect((await refusedFields("PATCH", path, { body: { enabled: false } })).sort()).toEqual([
      "entity_id",
      "name",
      "signin_url",
      "signout_url",
    ]);
    expect(emulator.state.getIntegration(integrationId)?.enabled).toBe(true);
    const lenient = await startTestEmulator({ behaviour: { partialIntegrationPatch: true } });
    try {
      const id = lenient.state.addIntegration({ name: "Okta" }).id;
      const reply = await call(lenient, "PATCH", `/v3/sso/integrations/${id}`, { body: { enabled: false } });
      expect(reply.status).toBe(200);
      expect(lenient.state.getIntegration(id)).toMatchObject({ name: "Okta", enabled: false });
    } finally {
      await lenient.close();
    }
  });
});

describe("teammate bodies", () => {
  it("refuses a POST without email, or with one that is no address", async () => {
    expect(
      await refusedFields("POST", "/v3/sso/teammates", { body: { first_name: "A", last_name: "B" } }),
    ).toEqual(["email"]);
    expect(
      await refusedFields("POST", "/v3/sso/teammates", {
        body: { email: "nobody", first_name: "A", last_name: "B" },
      }),
    ).toEqual(["email"]);
  });

  it("refuses a POST without the names the API requires, a bad persona and a duplicate", async () => {
    expect(
      (await refusedFields("POST", "/v3/sso/teammates", { body: { email: "a@example.test" } })).sort(),
    ).toEqual(["first_name", "last_name"]);
    const teammate = { email: "a@example.test", first_name: "A", last_name: "B" };
    expect(
      await refusedFields("POST", "/v3/sso/teammates", { body: { ...teammate, persona: "boss" } }),
    ).toEqual(["persona"]);
    expect((await call(emulator, "POST", "/v3/sso/teammates", { body: teammate })).status).toBe(201);
    expect(await refusedFields("POST", "/v3/sso/teammates", { body: teammate })).toEqual(["email"]);
    expect(
      await refusedFields("PATCH", "/v3/sso/teammates/a@example.test", {
        body: { first_name: "A", last_name: "B", subuser_access: [{ id: "one", permission_type: "admin" }] },
      }),
    ).toEqual(["subuser_access.0.id"]);
  });

  it("refuses a PATCH without first_name and last_name; partialTeammatePatch accepts it", async () => {
    const teammate = { email: "patch@example.test", first_name: "A", last_name: "B" };
    expect((await call(emulator, "POST", "/v3/sso/teammates", { body: teammate })).status).toBe(201);
    expect(
      (
        await refusedFields("PATCH", "/v3/sso/teammates/patch@example.test", { body: { is_admin: true } })
      ).sort(),
    ).toEqual(["first_name", "last_name"]);
    const lenient = await startTestEmulator({ behaviour: { partialTeammatePatch: true } });
    try {
      await call(lenient, "POST", "/v3/sso/teammates", { body: teammate });
      const reply = await call(lenient, "PATCH", "/v3/sso/teammates/patch@example.test", {
        body: { is_admin: true },
      });
      expect(reply.status).toBe(200);
      expect(lenient.state.teammates.get("patch@example.test")).toMatchObject({
        firstName: "A",
        isAdmin: true,
      });
    } finally {
      await lenient.close();
    }
  });
});

describe("teammate permission rules (SsoTeammatesBaseRequestProps)", () => {
  const names = { first_name: "A", last_name: "B" };
  let count = 0;
  const fresh = () => `rules-${++count}@example.test`;
  const create = (email: string, extra: Record<string, unknown>) =>
    refusedFields("POST", "/v3/sso/teammates", { body: { email, ...names, ...extra } });

  it.each([
    ["is_admin with scopes", { is_admin: true, scopes: ["mail.send"] }, ["is_admin"]],
    ["is_admin with persona", { is_admin: true, persona: "developer" }, ["is_admin"]],
    ["persona with scopes", { persona: "developer", scopes: ["mail.send"] }, ["persona"]],
    [
      "subuser_access without has_restricted_subuser_access",
      { subuser_access: [{ id: 1, permission_type: "admin" }] },
      ["has_restricted_subuser_access"],
    ],
    [
      "has_restricted_subuser_access without subusers",
      { has_restricted_subuser_access: true },
      ["subuser_access"],
    ],
    [
      "restricted subuser access with parent scopes",
      {
        has_restricted_subuser_access: true,
        subuser_access: [{ id: 1, permission_type: "admin" }],
        scopes: ["mail.send"],
      },
      ["has_restricted_subuser_access"],
    ],
    [
      "an admin subuser grant with scopes",
      {
        has_restricted_subuser_access: true,
        subuser_access: [{ id: 1, permission_type: "admin", scopes: ["mail.send"] }],
      },
      ["subuser_access.0.scopes"],
    ],
  ])("refuses %s, on POST and on PATCH", async (_what, extra, fields) => {
    const refused = fresh();
    expect(await create(refused, extra)).toEqual(fields);
    expect(emulator.state.teammates.has(refused)).toBe(false);
    const existing = fresh();
    expect(
      (await call(emulator, "POST", "/v3/sso/teammates", { body: { email: existing, ...names } })).status,
    ).toBe(201);
    expect(
      await refusedFields("PATCH", `/v3/sso/teammates/${existing}`, { body: { ...names, ...extra } }),
    ).toEqual(fields);
  });

  it("accepts restricted subuser access alone, and a restricted grant with its scopes", async () => {
    const reply = await call(emulator, "POST", "/v3/sso/teammates", {
      body: {
        email: fresh(),
        ...names,
        has_restricted_subuser_access: true,
        subuser_access: [{ id: 7, permission_type: "restricted", scopes: ["mail.send"] }],
      },
    });
    expect(reply.status, reply.text).toBe(201);
  });

  it("drops the scopes SendGrid sets itself and adds its own; teammateRules false stores them as sent", async () => {
    const scopes = ["mail.send", "2fa_required", "sender_verification_exempt"];
    const reply = await call(emulator, "POST", "/v3/sso/teammates", {
      body: { email: fresh(), ...names, scopes },
    });
    expect(reply.status).toBe(201);
    expect((reply.json as { scopes: string[] }).scopes).toEqual([
      "mail.send",
      "2fa_exempt",
      "sender_verification_eligible",
    ]);
    const lenient = await startTestEmulator({ behaviour: { teammateRules: false } });
    try {
      const as = await call(lenient, "POST", "/v3/sso/teammates", {
        body: { email: fresh(), ...names, scopes, is_admin: true },
      });
      expect(as.status).toBe(201);
      expect((as.json as { scopes: string[] }).scopes).toEqual(scopes);
    } finally {
      await lenient.close();
    }
  });
});

describe("error shape quirk", () => {
  it('answers {"errors":[{message, field, help}]} when errorShape is "object"', async () => {
    const objectShaped = await startTestEmulator({ quirks: { errorShape: "object" } });
    try {
      const reply = await call(objectShaped, "POST", "/v3/sso/certificates", {
        body: { integration_id: "x" },
      });
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({
        errors: [{ message: "public_certificate is required", field: "public_certificate", help: null }],
      });
      const missing = await call(objectShaped, "GET", "/v3/sso/certificates/1");
      expect(missing.status).toBe(400);
      expect(missing.json).toHaveProperty("errors");
    } finally {
      await objectShaped.close();
    }
  });
});
