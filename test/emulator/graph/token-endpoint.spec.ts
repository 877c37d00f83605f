import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../../src/emulator/graph/server.js";
import { READER, TEST_SP_ID, WRITER, startTestGraphEmulator } from "../../helpers/start-graph-emulator.js";
import { graph, graphErrorOf, tokenRequest, type Reply } from "./call.js";

let emulator: GraphEmulator;
let clock: Date;

beforeEach(async () => {
  clock = new Date("2030-01-01T00:00:00Z");
  emulator = await startTestGraphEmulator({ now: () => clock, tokenLifetimeSeconds: 600 });
});
afterEach(() => emulator.close());

function form(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    client_id: WRITER.clientId,
    client_secret: WRITER.clientSecret,
    scope: `${emulator.url}/.default`,
    grant_type: "client_credentials",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

function stsErrorOf(reply: Reply): Record<string, unknown> {
  return reply.json as Record<string, unknown>;
}

describe("token endpoint (client credentials with a shared secret)", () => {
  it("issues a bearer token for the configured lifetime", async () => {
    const reply = await tokenRequest(emulator, form());
    expect(reply.status).toBe(200);
    const body = reply.json as Record<string, unknown>;
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(600);
    expect(typeof body.access_token).toBe("string");
    expect(reply.headers["cache-control"]).toContain("no-store");
  });

  it("accepts Graph's public resource identifier as the scope too", async () => {
    const reply = await tokenRequest(emulator, form({ scope: "https://graph.microsoft.com/.default" }));
    expect(reply.status).toBe(200);
  });

  it("refuses a wrong secret with 401 invalid_client AADSTS7000215, in the documented error shape", async () => {
    const reply = await tokenRequest(emulator, form({ client_secret: "not-the-secret" }));
    expect(reply.status).toBe(401);
    const body = stsErrorOf(reply);
    expect(body.error).toBe("invalid_client");
    expect(body.error_codes).toEqual([7000215]);
    expect(String(body.error_description)).toMatch(/^AADSTS7000215: /);
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.text).not.toContain("not-the-secret");
  });

  it.each([
    ["a missing secret", { client_secret: undefined }, 401, "invalid_client", 7000218],
    [
      "an unknown client",
      { client_id: "99999999-0000-4000-8000-000000000000" },
      400,
      "unauthorized_client",
      700016,
    ],
    ["a missing grant_type", { grant_type: undefined }, 400, "invalid_request", 900144],
    ["another grant type", { grant_type: "password" }, 400, "unsupported_grant_type", 70003],
    ["a missing scope", { scope: undefined }, 400, "invalid_request", 900144],
    [
      "a scope without /.default",
      { scope: "https://graph.microsoft.com/Application.Read.All" },
      400,
      "invalid_scope",
      1002012,
    ],
    ["another resource", { scope: "https://vault.azure.net/.default" }, 400, "invalid_scope", 70011],
  ])("refuses %s", async (_name, overrides, status, error, code) => {
    const reply = await tokenRequest(emulator, form(overrides));
    expect(reply.status).toBe(status);
    expect(stsErrorOf(reply).error).toBe(error);
    expect(stsErrorOf(reply).error_codes).toEqual([code]);
  });

  it("refuses an unknown tenant, a GET and a body that is not form-encoded", async () => {
    const tenant = await tokenRequest(emulator, form(), { tenant: "contoso-unknown.example" });
    expect([tenant.status, stsErrorOf(tenant).error_codes]).toEqual([400, [90002]]);
    const get = await tokenRequest(emulator, form(), { method: "GET" });
    expect([get.status, stsErrorOf(get).error_codes]).toEqual([400, [900561]]);
    const json = await tokenRequest(emulator, form(), { contentType: "application/json" });
    expect([json.status, stsErrorOf(json).error_codes]).toEqual([400, [900144]]);
  });

  it("never shows a client secret in the request log", async () => {
    await tokenRequest(emulator, form());
    await tokenRequest(emulator, form({ client_id: READER.clientId, client_secret: READER.clientSecret }));
    const entries = emulator.log.filter((entry) => entry.path.endsWith("/oauth2/v2.0/token"));
    expect(entries).toHaveLength(2);
    expect(entries[0]?.body).toMatchObject({ client_id: WRITER.clientId, client_secret: "[REDACTED]" });
    const text = JSON.stringify(emulator.log);
    expect(text).not.toContain(WRITER.clientSecret);
    expect(text).not.toContain(READER.clientSecret);
  });
});

describe("token lifetime", () => {
  async function token(): Promise<string> {
    const reply = await tokenRequest(emulator, form());
    return (reply.json as { access_token: string }).access_token;
  }

  it("a token works until its lifetime ends, then Graph answers 401 InvalidAuthenticationToken", async () => {
    const accessToken = await token();
    clock = new Date(clock.getTime() + 599_000);
    expect((await graph(emulator, "GET", `/v1.0/servicePrincipals/${TEST_SP_ID}`, accessToken)).status).toBe(
      200,
    );
    clock = new Date(clock.getTime() + 1_000);
    const expired = await graph(emulator, "GET", `/v1.0/servicePrincipals/${TEST_SP_ID}`, accessToken);
    expect(expired.status).toBe(401);
    expect(graphErrorOf(expired).code).toBe("InvalidAuthenticationToken");
    expect(graphErrorOf(expired).message).toMatch(/expired/);
  });

  it("expireTokens() ends every token issued so far, not the ones issued after", async () => {
    const before = await token();
    emulator.expireTokens();
    const after = await token();
    expect((await graph(emulator, "GET", `/v1.0/servicePrincipals/${TEST_SP_ID}`, before)).status).toBe(401);
    expect((await graph(emulator, "GET", `/v1.0/servicePrincipals/${TEST_SP_ID}`, after)).status).toBe(200);
  });
});
