// The okta source's IdpPort against the Okta emulator: keys mapped to IdpKeys (id = kid, PEM from x5c[0],
// Okta's dates) with the active kid, generate then activate, describe(), and OktaErrors for failures.
import { afterEach, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import { inlineSecret } from "../../src/config/secrets.js";
import type { OktaSource } from "../../src/config/types.js";
import type { OktaEmulator } from "../../src/emulator/okta/server.js";
import type { RequestEvent } from "../../src/http/transport.js";
import { OktaError } from "../../src/okta/errors.js";
import { oktaPort } from "../../src/sources/okta.js";
import type { IdpPort } from "../../src/sources/types.js";
import {
  READ_ONLY_OKTA_TOKEN,
  TEST_APP_ID,
  TEST_OKTA_TOKEN,
  startTestOktaEmulator,
} from "../helpers/start-okta-emulator.js";

const HTTP = { timeoutMs: 10_000, maxRetries: 0, maxConcurrency: 2 };
const opened: { emulator: OktaEmulator; port: IdpPort }[] = [];
afterEach(async () => {
  for (const { emulator, port } of opened.splice(0)) {
    await port.close();
    await emulator.close();
  }
});

async function portFor(token = TEST_OKTA_TOKEN, events?: RequestEvent[]) {
  const emulator = await startTestOktaEmulator();
  const source: OktaSource = {
    type: "okta",
    orgUrl: emulator.url,
    appId: TEST_APP_ID,
    apiToken: inlineSecret(token),
    manageKeys: true,
    validityYears: 2,
  };
  const port = oktaPort(source, HTTP, events && { onRequest: (e) => events.push(e) });
  opened.push({ emulator, port });
  return { emulator, port };
}

describe("oktaPort", () => {
  it("reads the app's keys as IdpKeys and names the active one", async () => {
    const events: RequestEvent[] = [];
    const { emulator, port } = await portFor(TEST_OKTA_TOKEN, events);
    const newer = await emulator.state.generateKey(TEST_APP_ID, 3);
    const set = await port.read();
    const app = emulator.state.app(TEST_APP_ID)!;
    expect(set.activeKeyId).toBe(app.activeKid);
    expect(set.keys.map((k) => k.id)).toEqual(app.keys.map((k) => k.kid));
    const mapped = set.keys.find((k) => k.id === newer.kid)!;
    expect(mapped.createdAt).toEqual(newer.created);
    expect(mapped.expiresAt).toEqual(newer.expiresAt);
    const parsed = parseCertificate(mapped.pem);
    if (!parsed.ok) throw new Error(parsed.failure.message);
    expect(parsed.certificate.notAfter).toEqual(newer.expiresAt);
    expect(new Set(events.map((e) => e.account))).toEqual(new Set(["okta"]));
    expect(port.kind).toBe("okta");
    expect(port.describe()).toBe(`Okta app ${TEST_APP_ID} at ${emulator.url}`);
  });

  it("generates a key the IdP does not sign with, then activates it", async () => {
    const { emulator, port } = await portFor();
    const before = emulator.state.app(TEST_APP_ID)!.activeKid;
    const key = await port.generate({ validityYears: 4, subject: "CN=ignored by Okta" });
    expect((await port.read()).activeKeyId).toBe(before);
    expect(Math.round((key.expiresAt!.getTime() - key.createdAt!.getTime()) / 31_557_600_000)).toBe(4);
    await port.activate(key.id);
    expect((await port.read()).activeKeyId).toBe(key.id);
    expect(emulator.state.signingKeyAt(TEST_APP_ID, new Date())).toBe(key.id);
  });

  it("fails with OktaErrors that carry no token", async () => {
    const { emulator, port } = await portFor(READ_ONLY_OKTA_TOKEN);
    const error = await port.generate({ validityYears: 2, subject: "CN=x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OktaError);
    expect(error).toMatchObject({ status: 403, errorCode: "E0000006" });
    expect((error as Error).message).not.toContain(READ_ONLY_OKTA_TOKEN);
    expect(emulator.state.app(TEST_APP_ID)!.keys).toHaveLength(1);
  });
});
