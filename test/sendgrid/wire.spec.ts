import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  certificateBody,
  certificateListSchema,
  certificateSchema,
  describeIssues,
  integrationBody,
  integrationListSchema,
  integrationSchema,
  teammateBody,
  teammateSchema,
} from "../../src/sendgrid/wire.js";
import { makeCert } from "../helpers/make-cert.js";

let pem: string;
beforeAll(async () => {
  pem = (await makeCert({ cn: "wire.example.test" })).pem;
});

function problems(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  if (result.success) throw new Error("expected the value to be rejected");
  return describeIssues(result.error);
}

const NOT_BEFORE = new Date("2024-01-02T03:04:05Z");
const NOT_AFTER = new Date("2026-01-02T03:04:05Z");

describe("certificate responses", () => {
  it("maps the real wire shape: numeric id, intergration_id, unix seconds, no enabled", () => {
    const cert = certificateSchema.parse({
      public_certificate: pem,
      id: 1234,
      not_before: NOT_BEFORE.getTime() / 1000,
      not_after: NOT_AFTER.getTime() / 1000,
      intergration_id: "b0b9-int",
    });
    expect(cert).toEqual({
      id: "1234",
      integrationId: "b0b9-int",
      pem,
      enabled: null,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    });
  });

  it.each([
    ["unix seconds", NOT_AFTER.getTime() / 1000],
    ["a numeric string", String(NOT_AFTER.getTime() / 1000)],
    ["a padded numeric string", ` ${NOT_AFTER.getTime() / 1000} `],
    ["an ISO-8601 string", NOT_AFTER.toISOString()],
    ["an ISO-8601 string with an offset", "2026-01-02T05:04:05+02:00"],
  ])("reads not_after given as %s", (_label, notAfter) => {
    const cert = certificateSchema.parse({
      public_certificate: pem,
      id: "c1",
      integration_id: "i1",
      not_after: notAfter,
    });
    expect(cert.notAfter).toEqual(NOT_AFTER);
  });

  it.each([
    ["null", null],
    ["absent", undefined],
    ["empty", ""],
  ])("maps a %s timestamp to null", (_label, value) => {
    const cert = certificateSchema.parse({
      public_certificate: pem,
      id: "c1",
      integration_id: "i1",
      not_before: value,
    });
    expect(cert.notBefore).toBeNull();
  });

  it("accepts the documented integration_id spelling and prefers the real one when both come", () => {
    expect(certificateSchema.parse({ public_certificate: pem, id: 1, integration_id: 7 }).integrationId).toBe(
      "7",
    );
    expect(
      certificateSchema.parse({
        public_certificate: pem,
        id: 1,
        integration_id: "doc",
        intergration_id: "real",
      }).integrationId,
    ).toBe("real");
  });

  it("keeps enabled true or false when the service sends it", () => {
    expect(
      certificateSchema.parse({ public_certificate: pem, id: 1, integration_id: 7, enabled: false }).enabled,
    ).toBe(false);
    expect(
      certificateSchema.parse({ public_certificate: pem, id: 1, integration_id: 7, enabled: true }).enabled,
    ).toBe(true);
  });

  it("drops unknown fields", () => {
    const cert = certificateSchema.parse({
      public_certificate: pem,
      id: 1,
      integration_id: 7,
      surprise: { a: 1 },
    });
    expect(Object.keys(cert).sort()).toEqual([
      "enabled",
      "id",
      "integrationId",
      "notAfter",
      "notBefore",
      "pem",
    ]);
  });

  it("names the field path of what does not fit", () => {
    const good = { public_certificate: pem, id: 1, intergration_id: 2 };
    expect(problems(certificateListSchema, [good, good, good, { ...good, id: null }])).toBe(
      "[3].id: expected number or string",
    );
    expect(problems(certificateListSchema, [good, { ...good, not_after: "next tuesday" }])).toBe(
      "[1].not_after: expected unix seconds, a numeric string or an ISO-8601 date",
    );
    expect(problems(certificateListSchema, [{ ...good, enabled: "yes" }])).toBe(
      "[0].enabled: expected boolean, received string",
    );
    expect(problems(certificateSchema, { public_certificate: pem, id: 1 })).toBe(
      "intergration_id: expected number or string (intergration_id or integration_id)",
    );
    expect(problems(certificateListSchema, { errors: [] })).toBe("expected array, received object");
  });

  it("lists the first three problems and counts the rest", () => {
    const bad = Array.from({ length: 5 }, () => ({ public_certificate: pem, id: true, intergration_id: 1 }));
    expect(problems(certificateListSchema, bad)).toBe(
      "[0].id: expected number or string; [1].id: expected number or string; [2].id: expected number or string (and 2 more)",
    );
  });
});

describe("integration responses", () => {
  const wire = {
    enabled: true,
    entity_id: "https://idp.example/entity",
    last_updated: 1_700_000_000,
    name: "Okta",
    signin_url: "https://idp.example/signin",
    signout_url: "https://idp.example/signout",
    completed_integration: true,
    id: "5b9f-int",
    single_signon_url: "https://api.sendgrid.com/sso/saml/acs",
    audience_url: "https://api.sendgrid.com/sso/saml/audience",
  };

  it("maps every field", () => {
    expect(integrationSchema.parse(wire)).toEqual({
      id: "5b9f-int",
      name: "Okta",
      enabled: true,
      completed: true,
      entityId: "https://idp.example/entity",
      signinUrl: "https://idp.example/signin",
      signoutUrl: "https://idp.example/signout",
      singleSignonUrl: "https://api.sendgrid.com/sso/saml/acs",
      audienceUrl: "https://api.sendgrid.com/sso/saml/audience",
      lastUpdated: new Date(1_700_000_000_000),
    });
  });

  it("maps the optional fields to null when absent (completed_integration comes only with si=true)", () => {
    const integration = integrationSchema.parse({ id: 42, name: "Entra", enabled: false });
    expect(integration).toMatchObject({
      id: "42",
      enabled: false,
      completed: null,
      entityId: null,
      lastUpdated: null,
      audienceUrl: null,
    });
  });

  it("reads last_updated as an ISO-8601 string", () => {
    expect(integrationSchema.parse({ ...wire, last_updated: "2023-11-14T22:13:20Z" }).lastUpdated).toEqual(
      new Date(1_700_000_000_000),
    );
  });

  it("names the path of a missing name", () => {
    expect(problems(integrationListSchema, [wire, { ...wire, name: undefined }])).toBe(
      "[1].name: expected string, received undefined",
    );
  });
});

describe("teammate responses", () => {
  it("maps the create answer (no username, no profile) and the update answer", () => {
    const created = teammateSchema.parse({
      first_name: "Ada",
      last_name: "Lovelace",
      email: "ada@example.test",
      is_admin: false,
      is_sso: true,
      scopes: ["mail.send"],
      has_restricted_subuser_access: true,
      subuser_access: [
        {
          id: 99,
          username: "sub",
          email: "sub@example.test",
          disabled: false,
          permission_type: "restricted",
          scopes: [],
        },
      ],
    });
    expect(created).toEqual({
      username: null,
      email: "ada@example.test",
      firstName: "Ada",
      lastName: "Lovelace",
      isAdmin: false,
      isSso: true,
      userType: null,
      scopes: ["mail.send"],
      hasRestrictedSubuserAccess: true,
      subuserAccess: [
        {
          id: "99",
          username: "sub",
          email: "sub@example.test",
          disabled: false,
          permissionType: "restricted",
          scopes: [],
        },
      ],
      profile: {},
    });
    const updated = teammateSchema.parse({
      username: "ada@example.test",
      email: "ada@example.test",
      user_type: "teammate",
      city: "London",
      zip: "",
      address2: null,
    });
    expect(updated).toMatchObject({
      username: "ada@example.test",
      userType: "teammate",
      scopes: [],
      subuserAccess: [],
    });
    expect(updated.profile).toEqual({ city: "London", zip: "" });
  });
});

describe("request bodies", () => {
  it("a certificate patch that disables is exactly {enabled:false}", () => {
    expect(JSON.stringify(certificateBody({ enabled: false }))).toBe('{"enabled":false}');
  });

  it("a certificate create carries the documented field names", () => {
    expect(certificateBody({ integrationId: "i1", pem, enabled: true })).toEqual({
      public_certificate: pem,
      integration_id: "i1",
      enabled: true,
    });
  });

  it("an integration body sends only the fields given", () => {
    expect(integrationBody({ name: "New name" })).toEqual({ name: "New name" });
    expect(
      integrationBody({
        name: "Okta",
        enabled: true,
        signinUrl: "https://in",
        signoutUrl: "https://out",
        entityId: "urn:e",
        completedIntegration: false,
      }),
    ).toEqual({
      name: "Okta",
      enabled: true,
      signin_url: "https://in",
      signout_url: "https://out",
      entity_id: "urn:e",
      completed_integration: false,
    });
  });

  it("a teammate body maps names, sends numeric subuser ids as numbers and leaves out what is unset", () => {
    expect(
      teammateBody({
        email: "ada@example.test",
        firstName: "Ada",
        lastName: "Lovelace",
        persona: "observer",
        subuserAccess: [
          { id: "12", permissionType: "admin", scopes: [] },
          { id: "opaque", permissionType: "restricted", scopes: ["stats.read"] },
        ],
      }),
    ).toEqual({
      email: "ada@example.test",
      first_name: "Ada",
      last_name: "Lovelace",
      persona: "observer",
      subuser_access: [
        { id: 12, permission_type: "admin", scopes: [] },
        { id: "opaque", permission_type: "restricted", scopes: ["stats.read"] },
      ],
    });
    expect(teammateBody({ isAdmin: true })).toEqual({ is_admin: true });
  });
});
