// The entra source's port against the Graph emulator over real sockets: keyCredentials mapped to IdpKeys
// (Verify certificates, id = SHA-1 thumbprint, PEM, dates), the preferred thumbprint as the active key,
// generate and activate at the IdP, and GraphErrors for what Graph refuses.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import { inlineSecret } from "../../src/config/secrets.js";
import type { EntraSource } from "../../src/config/types.js";
import type { GraphEmulator } from "../../src/emulator/graph/server.js";
import { GraphError } from "../../src/graph/errors.js";
import { certificateThumbprint } from "../../src/graph/thumbprint.js";
import { entraPort } from "../../src/sources/entra.js";
import type { IdpPort } from "../../src/sources/types.js";
import {
  READER,
  TEST_SP_ID,
  TEST_TENANT_ID,
  WRITER,
  addPortalCertificate,
  startTestGraphEmulator,
} from "../helpers/start-graph-emulator.js";

const DAY = 86_400_000;
const HTTP = { timeoutMs: 5_000, maxRetries: 2, maxConcurrency: 2 };

let emulator: GraphEmulator;
const ports: IdpPort[] = [];

beforeEach(async () => {
  emulator = await startTestGraphEmulator();
});
afterEach(async () => {
  await Promise.all(ports.splice(0).map((port) => port.close()));
  await emulator.close();
});

/** The DER inside a one-certificate PEM. */
function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
}

function port(client = WRITER): IdpPort {
  const source: EntraSource = {
    type: "entra",
    tenantId: TEST_TENANT_ID,
    clientId: client.clientId,
    clientSecret: inlineSecret(client.clientSecret),
    servicePrincipalId: TEST_SP_ID,
    authorityUrl: emulator.url,
    graphUrl: emulator.url,
    manageKeys: true,
    validityYears: 3,
  };
  const created = entraPort(source, HTTP);
  ports.push(created);
  return created;
}

describe("entra port", () => {
  it("describes itself by service principal and tenant", () => {
    expect(port().kind).toBe("entra");
    expect(port().describe()).toBe(`Entra service principal ${TEST_SP_ID} in tenant ${TEST_TENANT_ID}`);
  });

  it("reads the Verify certificates as keys and the preferred thumbprint, uppercased, as the active one", async () => {
    const old = await addPortalCertificate(emulator, { cn: "old" });
    const next = await addPortalCertificate(emulator, { cn: "next" });
    emulator.state.setPreferredThumbprint(TEST_SP_ID, old.thumbprint.toLowerCase());

    const keys = await port().read();
    expect(keys.activeKeyId).toBe(old.thumbprint);
    expect(keys.keys.map((key) => key.id).sort()).toEqual([old.thumbprint, next.thumbprint].sort());
    for (const key of keys.keys) {
      const parsed = parseCertificate(key.pem);
      if (!parsed.ok) throw new Error(parsed.failure.message);
      expect(key.id).toBe(certificateThumbprint(derOf(key.pem)));
      expect(key.createdAt).toBeInstanceOf(Date);
      // The certificate counts whole seconds; the API's endDateTime may carry milliseconds.
      expect(Math.abs((key.expiresAt?.getTime() ?? 0) - parsed.certificate.notAfter.getTime())).toBeLessThan(
        1000,
      );
    }
    expect(keys.keys.find((key) => key.id === next.thumbprint)?.pem).toBe(next.pem);
  });

  it("reads no keys and no active key from a fresh service principal", async () => {
    expect(await port().read()).toEqual({ keys: [], activeKeyId: null });
  });

  it("generates a key with the subject and validity asked for, and does not activate it", async () => {
    const active = await addPortalCertificate(emulator, { activate: true });
    const key = await port().generate({ validityYears: 2, subject: "CN=SendGrid SSO 2031" });
    const parsed = parseCertificate(key.pem);
    if (!parsed.ok) throw new Error(parsed.failure.message);
    expect(parsed.certificate.subjectCn).toBe("SendGrid SSO 2031");
    expect(key.id).toBe(certificateThumbprint(derOf(key.pem)));
    const twoYears = Date.now() + 2 * 365 * DAY;
    expect(Math.abs((key.expiresAt?.getTime() ?? 0) - twoYears)).toBeLessThan(3 * DAY);
    expect(emulator.state.signingThumbprint(TEST_SP_ID)).toBe(active.thumbprint);
    expect((await port().read()).keys.map((k) => k.id)).toContain(key.id);
  });

  it("generates a three-year key inside Graph's three-year limit", async () => {
    const key = await port().generate({ validityYears: 3, subject: "CN=long" });
    const threeYears = new Date();
    threeYears.setUTCFullYear(threeYears.getUTCFullYear() + 3);
    expect(key.expiresAt?.getTime()).toBeLessThanOrEqual(threeYears.getTime());
    expect(key.expiresAt?.getTime()).toBeGreaterThan(threeYears.getTime() - 2 * DAY);
  });

  it("activates a key by its thumbprint, changing only the preferred thumbprint", async () => {
    await addPortalCertificate(emulator, { activate: true });
    const next = await addPortalCertificate(emulator, { cn: "next" });
    const before = emulator.state.servicePrincipal(TEST_SP_ID);
    await port().activate(next.thumbprint.toLowerCase());
    expect(emulator.state.signingThumbprint(TEST_SP_ID)).toBe(next.thumbprint);
    const after = emulator.state.servicePrincipal(TEST_SP_ID);
    expect(after?.keyCredentials).toEqual(before?.keyCredentials);
    expect(after?.displayName).toBe(before?.displayName);
    expect((await port().read()).activeKeyId).toBe(next.thumbprint);
  });

  it("a read-only app registration reads but its generate fails with a 403 GraphError", async () => {
    await addPortalCertificate(emulator, { activate: true });
    const reader = port(READER);
    expect((await reader.read()).keys).toHaveLength(1);
    const error = await reader.generate({ validityYears: 1, subject: "CN=x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect((error as GraphError).status).toBe(403);
    expect((error as GraphError).message).not.toContain(READER.clientSecret);
  });
});
