// SsoApi against the emulator's strict defaults, which follow the published spec (tsg_sso_v3.yaml) where the
// real service may be stricter than a lenient test double: a create answer without an id, PATCHes that
// require every field, a certificate PATCH answered with no body, and no 404 for an unknown id.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { Emulator, EmulatorOptions } from "../../src/emulator/server.js";
import { CreatedIntegrationUnknownError } from "../../src/sendgrid/errors.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { failure, harness } from "./fixture.js";

const h = harness();
const emulators: Emulator[] = [];

async function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const started = await startTestEmulator(options);
  emulators.push(started);
  return started;
}

afterEach(async () => {
  await h.closeAll();
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

let cert: GeneratedCertificate;
beforeAll(async () => {
  cert = await makeCert({ cn: "idp.sso.example.test" });
});

const OKTA = {
  name: "Okta",
  enabled: true,
  signinUrl: "https://idp.example.test/signin",
  signoutUrl: "https://idp.example.test/signout",
  entityId: "http://www.okta.com/exk-test",
};

describe("createIntegration", () => {
  it("finds the new integration by listing when the answer has no id, as in the spec's example", async () => {
    const emu = await emulator();
    emu.state.addIntegration({ name: "Duo" });
    const { api } = h.client(emu);
    const created = await api.createIntegration(OKTA);
    const stored = emu.state.listIntegrations().find((i) => i.name === "Okta")!;
    expect(created).toMatchObject({ id: stored.id, name: "Okta", entityId: OKTA.entityId });
    expect(emu.log.map((e) => `${e.method} ${e.path}`)).toEqual([
      "POST /v3/sso/integrations",
      "GET /v3/sso/integrations",
    ]);
  });

  it("names the candidates, and creates nothing more, when several integrations match", async () => {
    const emu = await emulator();
    const twin = emu.state.addIntegration({
      name: OKTA.name,
      entityId: OKTA.entityId,
      signinUrl: OKTA.signinUrl,
      signoutUrl: OKTA.signoutUrl,
    });
    const { api } = h.client(emu);
    const error = await api.createIntegration(OKTA).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CreatedIntegrationUnknownError);
    const { candidates, code } = error as CreatedIntegrationUnknownError;
    expect(code).toBe("SENDGRID_CREATED_INTEGRATION_UNKNOWN");
    expect(candidates).toContain(twin.id);
    expect(candidates).toHaveLength(2);
    expect(emu.log.filter((e) => e.method === "POST")).toHaveLength(1);
  });
});

describe("PATCHes the spec requires whole", () => {
  it("updateIntegration with one field succeeds: the other four are read and sent", async () => {
    const emu = await emulator();
    const id = emu.state.addIntegration({ name: "Okta", entityId: OKTA.entityId }).id;
    const { api } = h.client(emu);
    const updated = await api.updateIntegration(id, { enabled: false });
    expect(updated).toMatchObject({ id, enabled: false, name: "Okta", entityId: OKTA.entityId });
    expect(emu.state.getIntegration(id)).toMatchObject({ enabled: false, entityId: OKTA.entityId });
  });

  it("updateTeammate without names succeeds: they are read through the Teammates API", async () => {
    const emu = await emulator();
    emu.state.addTeammate({ email: "ada@example.test", firstName: "Ada", lastName: "Lovelace" });
    const { api } = h.client(emu);
    const updated = await api.updateTeammate("ada@example.test", { scopes: ["mail.send"] });
    expect(updated).toMatchObject({ firstName: "Ada", lastName: "Lovelace" });
    expect(updated.scopes).toContain("mail.send");
  });
});

describe("updateCertificate", () => {
  it("takes the current spec's answer without `enabled` as applied, the certificate returned", async () => {
    const emu = await emulator();
    const integrationId = emu.state.addIntegration({ name: "Okta" }).id;
    const id = String(emu.state.addCertificate({ integrationId, pem: cert.pem, enabled: true }).id);
    const { api } = h.client(emu);
    expect(await api.updateCertificate(id, { enabled: false })).toMatchObject({ id, enabled: null });
    expect(emu.state.getCertificate(id)?.enabled).toBe(false);
  });

  it("takes the older spec's empty 200 as applied (null), not as invalid_response", async () => {
    const emu = await emulator({ quirks: { certificatePatchAnswer: "empty" } });
    const integrationId = emu.state.addIntegration({ name: "Okta" }).id;
    const id = String(emu.state.addCertificate({ integrationId, pem: cert.pem, enabled: true }).id);
    const { api } = h.client(emu);
    expect(await api.updateCertificate(id, { enabled: false })).toBeNull();
    expect(emu.state.getCertificate(id)?.enabled).toBe(false);
    expect(emu.log.filter((e) => e.method === "PATCH")).toHaveLength(1);
  });
});

describe("an unknown id", () => {
  it("is a 400 by default (the spec documents no 404), with the API's message", async () => {
    const emu = await emulator();
    const { api } = h.client(emu);
    const error = await failure(api.getCertificate("12345"));
    expect([error.status, error.reason, error.code]).toEqual([400, "http_4xx", "SENDGRID_HTTP_400"]);
    expect(error.message).toBe(
      "GET /v3/sso/certificates/:id -> 400 Bad Request: certificate not found (field: cert_id)",
    );
  });
});
