import { describe, expect, it } from "vitest";
import { selfSignedCertificateSchema, servicePrincipalSchema, tokenSchema } from "../../src/graph/wire.js";

describe("Graph wire schemas", () => {
  it("maps a service principal: Dates from 7-digit fractions, key bytes, null key, empty preference as null", () => {
    const sp = servicePrincipalSchema.parse({
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity",
      id: "sp",
      appId: "app",
      displayName: "SendGrid",
      preferredTokenSigningKeyThumbprint: "",
      keyCredentials: [
        {
          customKeyIdentifier: "2iD8ppbE+D6Kmu1ZvjM2jtQh88E=",
          displayName: "CN=x",
          endDateTime: "2024-01-25T00:00:00Z",
          key: "AQID",
          keyId: "k1",
          startDateTime: "2021-05-05T18:38:51.8100763Z",
          type: "AsymmetricX509Cert",
          usage: "Verify",
        },
        {
          keyId: "k2",
          type: "AsymmetricX509Cert",
          usage: "Sign",
          key: null,
          startDateTime: null,
          endDateTime: null,
        },
      ],
    });
    expect(sp.preferredTokenSigningKeyThumbprint).toBeNull();
    expect(sp.keyCredentials[0]?.startDateTime?.toISOString()).toBe("2021-05-05T18:38:51.810Z");
    expect([...(sp.keyCredentials[0]?.key ?? [])]).toEqual([1, 2, 3]);
    expect(sp.keyCredentials[1]).toMatchObject({ key: null, customKeyIdentifier: null, endDateTime: null });
  });

  it("refuses a keyCredential with a date that is no date", () => {
    const result = servicePrincipalSchema.safeParse({
      id: "sp",
      appId: "app",
      keyCredentials: [{ keyId: "k", type: "AsymmetricX509Cert", usage: "Verify", endDateTime: "soon" }],
    });
    expect(result.success).toBe(false);
  });

  it("reads a token response, expires_in as a number or a numeric string", () => {
    expect(tokenSchema.parse({ token_type: "Bearer", expires_in: 3599, access_token: "t" })).toEqual({
      accessToken: "t",
      expiresInSeconds: 3599,
    });
    expect(
      tokenSchema.parse({ token_type: "bearer", expires_in: "60", access_token: "t" }).expiresInSeconds,
    ).toBe(60);
    expect(tokenSchema.safeParse({ token_type: "Bearer", expires_in: 60, access_token: "" }).success).toBe(
      false,
    );
  });

  it("requires a selfSignedCertificate's thumbprint, key and dates", () => {
    const valid = {
      customKeyIdentifier: "2iD8ppbE+D6Kmu1ZvjM2jtQh88E=",
      displayName: "CN=customDisplayName",
      endDateTime: "2024-01-25T00:00:00Z",
      key: "AQID",
      keyId: "93bc223f-7235-4b9c-beea-d66847531c49",
      startDateTime: "2021-05-05T18:38:51.8100763Z",
      thumbprint: "DA20FCA696C4F83E8A9AED59BE33368ED421F3C1",
      type: "AsymmetricX509Cert",
      usage: "Verify",
    };
    expect(selfSignedCertificateSchema.parse(valid).endDateTime.toISOString()).toBe(
      "2024-01-25T00:00:00.000Z",
    );
    expect(selfSignedCertificateSchema.safeParse({ ...valid, thumbprint: "abc" }).success).toBe(false);
    expect(selfSignedCertificateSchema.safeParse({ ...valid, key: "" }).success).toBe(false);
  });
});
