import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCertificate } from "../../../src/certs/parse.js";
import type { GraphEmulator } from "../../../src/emulator/graph/server.js";
import { certificateThumbprint } from "../../../src/graph/thumbprint.js";
import {
  READER,
  TEST_SP_ID,
  WRITER,
  addPortalCertificate,
  startTestGraphEmulator,
} from "../../helpers/start-graph-emulator.js";
import { accessToken, graph, graphErrorOf } from "./call.js";

const DAY = 86_400_000;
const SP = `/v1.0/servicePrincipals/${TEST_SP_ID}`;
const SELECT = "$select=id,appId,displayName,keyCredentials,preferredTokenSigningKeyThumbprint";

interface KeyCredential {
  customKeyIdentifier: string;
  displayName: string;
  endDateTime: string;
  key: string | null;
  keyId: string;
  startDateTime: string;
  type: string;
  usage: string;
}

let emulator: GraphEmulator;
let writer: string;
let reader: string;

beforeEach(async () => {
  emulator = await startTestGraphEmulator();
  writer = await accessToken(emulator, WRITER);
  reader = await accessToken(emulator, READER);
});
afterEach(() => emulator.close());

function credentials(body: unknown): KeyCredential[] {
  return (body as { keyCredentials: KeyCredential[] }).keyCredentials;
}

describe("authentication and errors", () => {
  it("answers 401 InvalidAuthenticationToken without a token or with an unknown one, in Graph's error shape", async () => {
    for (const token of [null, "not-a-token"]) {
      const reply = await graph(emulator, "GET", SP, token);
      expect(reply.status).toBe(401);
      const error = graphErrorOf(reply);
      expect(error.code).toBe("InvalidAuthenticationToken");
      expect(error.innerError["request-id"]).toBe(reply.headers["request-id"]);
      expect(error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    }
  });

  it("answers 404 Request_ResourceNotFound for an unknown service principal", async () => {
    const reply = await graph(
      emulator,
      "GET",
      "/v1.0/servicePrincipals/33333333-0000-4000-8000-000000000000",
      writer,
    );
    expect(reply.status).toBe(404);
    expect(graphErrorOf(reply).code).toBe("Request_ResourceNotFound");
  });

  it("refuses unknown $select properties and other methods", async () => {
    const select = await graph(emulator, "GET", `${SP}?$select=keyCredentials,noSuchProperty`, writer);
    expect(select.status).toBe(400);
    expect(graphErrorOf(select).message).toContain("noSuchProperty");
    expect((await graph(emulator, "DELETE", SP, writer)).status).toBe(405);
  });

  it("echoes client-request-id in the innerError when the caller sends one", async () => {
    const { request } = await import("undici");
    const response = await request(`${emulator.url}/v1.0/servicePrincipals/nope`, {
      headers: { authorization: `Bearer ${writer}`, "client-request-id": "abc-123" },
    });
    const body = (await response.body.json()) as { error: { innerError: Record<string, string> } };
    expect(response.headers["client-request-id"]).toBe("abc-123");
    expect(body.error.innerError["client-request-id"]).toBe("abc-123");
  });

  it("renders injected faults in Graph's error shape, Retry-After as the rule sets it", async () => {
    emulator.faults.next({ action: { kind: "status", status: 429, headers: { "Retry-After": "2" } } });
    const reply = await graph(emulator, "GET", SP, writer);
    expect(reply.status).toBe(429);
    expect(reply.headers["retry-after"]).toBe("2");
    expect(graphErrorOf(reply).code).toBe("TooManyRequests");
  });
});

describe("GET servicePrincipal", () => {
  it("returns `key` only when keyCredentials is $select-ed on a single object", async () => {
    const { thumbprint } = await addPortalCertificate(emulator, { activate: true });

    const selected = await graph(emulator, "GET", `${SP}?${SELECT}`, reader);
    expect(selected.status).toBe(200);
    const body = selected.json as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      [
        "@odata.context",
        "appId",
        "displayName",
        "id",
        "keyCredentials",
        "preferredTokenSigningKeyThumbprint",
      ].sort(),
    );
    expect(body.preferredTokenSigningKeyThumbprint).toBe(thumbprint);
    const verify = credentials(body).find((c) => c.usage === "Verify");
    const sign = credentials(body).find((c) => c.usage === "Sign");
    expect(verify?.type).toBe("AsymmetricX509Cert");
    expect(certificateThumbprint(Buffer.from(verify?.key ?? "", "base64"))).toBe(thumbprint);
    expect(sign?.key).toBeNull();
    expect(sign?.customKeyIdentifier).toBe(verify?.customKeyIdentifier);

    const plain = await graph(emulator, "GET", SP, reader);
    expect(credentials(plain.json).length).toBe(2);
    expect(credentials(plain.json).every((c) => c.key === null)).toBe(true);

    const list = await graph(emulator, "GET", "/v1.0/servicePrincipals?$select=id,keyCredentials", reader);
    const value = (list.json as { value: unknown[] }).value;
    expect(value).toHaveLength(1);
    expect(credentials(value[0]).every((c) => c.key === null)).toBe(true);
  });

  it("addresses a service principal by appId too", async () => {
    const appId = emulator.state.servicePrincipal(TEST_SP_ID)?.appId ?? "";
    const reply = await graph(
      emulator,
      "GET",
      `/v1.0/servicePrincipals(appId='${appId}')?$select=id`,
      reader,
    );
    expect(reply.json).toMatchObject({ id: TEST_SP_ID });
  });
});

describe("POST addTokenSigningCertificate", () => {
  it("creates a self-signed certificate, adds Sign, Verify and password credentials, and activates nothing", async () => {
    const { thumbprint: active } = await addPortalCertificate(emulator, { activate: true });
    const end = new Date(Date.now() + 2 * 365 * DAY);
    end.setUTCMilliseconds(0);
    const reply = await graph(emulator, "POST", `${SP}/addTokenSigningCertificate`, writer, {
      displayName: "CN=SendGrid SSO rollover",
      endDateTime: end.toISOString(),
    });
    expect(reply.status).toBe(200);
    const created = reply.json as Record<string, string>;
    expect(created).toMatchObject({
      displayName: "CN=SendGrid SSO rollover",
      type: "AsymmetricX509Cert",
      usage: "Verify",
    });
    expect(new Date(created.endDateTime ?? "").getTime()).toBe(end.getTime());
    const der = Buffer.from(created.key ?? "", "base64");
    expect(created.thumbprint).toBe(certificateThumbprint(der));
    expect(
      Buffer.from(created.customKeyIdentifier ?? "", "base64")
        .toString("hex")
        .toUpperCase(),
    ).toBe(created.thumbprint);
    const pem = `-----BEGIN CERTIFICATE-----\n${created.key}\n-----END CERTIFICATE-----\n`;
    const parsed = parseCertificate(pem);
    expect(parsed.ok && parsed.certificate.subjectCn).toBe("SendGrid SSO rollover");
    expect(parsed.ok && parsed.certificate.notAfter.getTime()).toBe(end.getTime());

    const sp = emulator.state.servicePrincipal(TEST_SP_ID);
    const trio =
      sp?.keyCredentials.filter((c) => c.customKeyIdentifier === created.customKeyIdentifier) ?? [];
    expect(trio.map((c) => c.usage).sort()).toEqual(["Sign", "Verify"]);
    expect(sp?.passwordCredentials.some((p) => p.customKeyIdentifier === created.customKeyIdentifier)).toBe(
      true,
    );
    expect(sp?.preferredTokenSigningKeyThumbprint).toBe(active);
    expect(emulator.state.history.at(-1)).toMatchObject({
      kind: "certificate_added",
      origin: "api",
      thumbprint: created.thumbprint,
    });
  });

  it("defaults endDateTime to three years and refuses more than three years", async () => {
    const defaulted = await graph(emulator, "POST", `${SP}/addTokenSigningCertificate`, writer, {
      displayName: "CN=a",
    });
    expect(defaulted.status).toBe(200);
    const end = new Date((defaulted.json as { endDateTime: string }).endDateTime);
    expect(Math.abs(end.getTime() - (Date.now() + 3 * 365.25 * DAY))).toBeLessThan(3 * DAY);

    const tooLong = await graph(emulator, "POST", `${SP}/addTokenSigningCertificate`, writer, {
      displayName: "CN=a",
      endDateTime: new Date(Date.now() + 3 * 366 * DAY).toISOString(),
    });
    expect(tooLong.status).toBe(400);
    expect(graphErrorOf(tooLong).message).toMatch(/3 years/);
  });

  it.each([
    ["a displayName without CN=", { displayName: "SendGrid" }],
    ["a missing displayName", { endDateTime: "2031-01-01T00:00:00Z" }],
    ["an endDateTime that is no date", { displayName: "CN=a", endDateTime: "soon" }],
    ["an unknown property", { displayName: "CN=a", usage: "Sign" }],
    ["a body that is not JSON", "{not json"],
  ])("refuses %s with 400", async (_name, body) => {
    const reply = await graph(emulator, "POST", `${SP}/addTokenSigningCertificate`, writer, body);
    expect(reply.status).toBe(400);
    expect(graphErrorOf(reply).code).toBe("Request_BadRequest");
  });
});

describe("PATCH servicePrincipal", () => {
  it("sets preferredTokenSigningKeyThumbprint with 204 and records an API activation", async () => {
    const { thumbprint } = await addPortalCertificate(emulator);
    expect(emulator.state.signingThumbprint(TEST_SP_ID)).toBeNull();
    const reply = await graph(emulator, "PATCH", SP, writer, {
      preferredTokenSigningKeyThumbprint: thumbprint.toLowerCase(),
    });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe("");
    expect(emulator.state.signingThumbprint(TEST_SP_ID)).toBe(thumbprint);
    expect(emulator.state.history.at(-1)).toMatchObject({ kind: "activated", origin: "api" });
  });

  it("refuses read-only and unknown properties", async () => {
    expect((await graph(emulator, "PATCH", SP, writer, { id: "x" })).status).toBe(400);
    expect((await graph(emulator, "PATCH", SP, writer, { tokenEncryptionKeyId: "x" })).status).toBe(400);
  });
});

describe("permissions", () => {
  it("a read-only client reads but gets 403 Authorization_RequestDenied on writes", async () => {
    expect((await graph(emulator, "GET", SP, reader)).status).toBe(200);
    const patch = await graph(emulator, "PATCH", SP, reader, { preferredTokenSigningKeyThumbprint: null });
    const post = await graph(emulator, "POST", `${SP}/addTokenSigningCertificate`, reader, {
      displayName: "CN=a",
    });
    for (const reply of [patch, post]) {
      expect(reply.status).toBe(403);
      expect(graphErrorOf(reply).code).toBe("Authorization_RequestDenied");
    }
    expect(emulator.state.servicePrincipal(TEST_SP_ID)?.keyCredentials).toHaveLength(0);
  });

  it("Application.ReadWrite.OwnedBy writes only service principals the client owns", async () => {
    const owner = { clientId: "11111111-0000-4000-8000-000000000003", clientSecret: "owner-secret" };
    emulator.state.addClient({ ...owner, roles: ["Application.ReadWrite.OwnedBy"] });
    const owned = emulator.state.addServicePrincipal({ displayName: "owned", owners: [owner.clientId] });
    const token = await accessToken(emulator, owner);
    const mine = await graph(emulator, "PATCH", `/v1.0/servicePrincipals/${owned.id}`, token, {
      displayName: "renamed",
    });
    expect(mine.status).toBe(204);
    expect((await graph(emulator, "PATCH", SP, token, { displayName: "renamed" })).status).toBe(403);
  });

  it("a token carries the roles its client held when it was issued", async () => {
    emulator.state.setClientRoles(READER.clientId, ["Application.ReadWrite.All"]);
    expect((await graph(emulator, "PATCH", SP, reader, { displayName: "x" })).status).toBe(403);
    const fresh = await accessToken(emulator, READER);
    expect((await graph(emulator, "PATCH", SP, fresh, { displayName: "x" })).status).toBe(204);
  });
});
