import { afterEach, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import type { Emulator } from "../../src/emulator/server.js";
import type { Quirks } from "../../src/emulator/wire.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { call, list, obj } from "./call.js";

const NOW = new Date("2030-06-01T00:00:00Z");

let emulator: Emulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** An emulator with `quirks` holding one integration with one certificate; returns that certificate's JSON. */
async function servedCertificate(
  quirks: Partial<Quirks>,
): Promise<{ json: Record<string, unknown>; pem: string }> {
  emulator = await startTestEmulator({ quirks, now: () => NOW });
  const integrationId = emulator.state.addIntegration({ name: "Okta" }).id;
  const { pem } = await makeCert({ now: NOW, fromDays: -1, toDays: 100 });
  const record = emulator.state.addCertificate({ integrationId, pem, enabled: false });
  const single = await call(emulator, "GET", `/v3/sso/certificates/${record.id}`);
  const listed = await call(emulator, "GET", `/v3/sso/integrations/${integrationId}/certificates`);
  expect(list(listed)).toEqual([single.json]);
  return { json: obj(single), pem };
}

function datesOf(pem: string): { notBefore: Date; notAfter: Date } {
  const parsed = parseCertificate(pem);
  if (!parsed.ok) throw new Error(parsed.failure.message);
  return parsed.certificate;
}

describe("certificate quirks", () => {
  it("by default: no enabled (as in every example of the spec), unix seconds, the PEM as uploaded", async () => {
    const { json, pem } = await servedCertificate({});
    expect(json).not.toHaveProperty("enabled");
    expect(json.not_after).toBe(datesOf(pem).notAfter.getTime() / 1000);
    expect(json.public_certificate).toBe(pem);
  });

  it("omitEnabled false carries enabled; true (the default) leaves it out", async () => {
    expect((await servedCertificate({ omitEnabled: false })).json.enabled).toBe(false);
    await emulator?.close();
    const { json } = await servedCertificate({ omitEnabled: true });
    expect(json).not.toHaveProperty("enabled");
    expect(Object.keys(json).sort()).toEqual([
      "id",
      "intergration_id",
      "not_after",
      "not_before",
      "public_certificate",
    ]);
  });

  it('timestamps "numeric-string" sends seconds as strings', async () => {
    const { json, pem } = await servedCertificate({ timestamps: "numeric-string" });
    expect(json.not_before).toBe(String(datesOf(pem).notBefore.getTime() / 1000));
    expect(json.not_after).toBe(String(datesOf(pem).notAfter.getTime() / 1000));
  });

  it('timestamps "iso" sends ISO-8601 strings', async () => {
    const { json, pem } = await servedCertificate({ timestamps: "iso" });
    expect(json.not_after).toBe(datesOf(pem).notAfter.toISOString());
  });

  it('pem "bare" strips BEGIN/END lines and line breaks; the certificate is still the same', async () => {
    const { json, pem } = await servedCertificate({ pem: "bare" });
    const bare = json.public_certificate as string;
    expect(bare).not.toContain("-----");
    expect(bare).toMatch(/^[A-Za-z0-9+/=]+$/);
    const served = parseCertificate(bare);
    const original = parseCertificate(pem);
    expect(served.ok && original.ok && served.certificate.fingerprintSha256).toBe(
      original.ok && original.certificate.fingerprintSha256,
    );
  });

  it('pem "crlf" ends every line with CRLF', async () => {
    const { json } = await servedCertificate({ pem: "crlf" });
    const text = json.public_certificate as string;
    expect(text).toContain("-----BEGIN CERTIFICATE-----\r\n");
    expect(text.replace(/\r\n/g, "")).not.toContain("\n");
  });

  it("quirks shape certificates only: integrations keep numeric last_updated", async () => {
    await servedCertificate({ timestamps: "iso" });
    const integrations = list(await call(emulator as Emulator, "GET", "/v3/sso/integrations"));
    expect(integrations[0]?.last_updated).toBe(NOW.getTime() / 1000);
  });
});
