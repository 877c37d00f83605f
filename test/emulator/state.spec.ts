import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { EmulatorState, UnknownCertificateError, UnknownIntegrationError } from "../../src/emulator/state.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { LENIENT } from "./lenient.js";
import { call, list, obj } from "./call.js";

const NOW = new Date("2030-09-09T09:09:09Z");

describe("history of HTTP mutations", () => {
  let emulator: Emulator;
  let integrationId: string;

  beforeEach(async () => {
    emulator = await startTestEmulator({ ...LENIENT, now: () => NOW });
    integrationId = emulator.state.addIntegration({ name: "Okta" }).id;
  });

  afterEach(async () => {
    await emulator.close();
  });

  it("records every certificate mutation with its before/after and the integration's certificates after it", async () => {
    const old = emulator.state.addCertificate({
      integrationId,
      pem: (await makeCert({ cn: "old" })).pem,
      enabled: true,
    });
    const replacement = await makeCert({ cn: "new" });

    const created = obj(
      await call(emulator, "POST", "/v3/sso/certificates", {
        body: { public_certificate: replacement.pem, integration_id: integrationId, enabled: true },
      }),
    );
    await call(emulator, "PATCH", `/v3/sso/certificates/${old.id}`, { body: { enabled: false } });
    await call(emulator, "GET", `/v3/sso/certificates/${old.id}`);
    await call(emulator, "DELETE", `/v3/sso/certificates/${old.id}`);

    const history = emulator.state.history;
    expect(history.map((entry) => [entry.seq, entry.kind, entry.method, entry.change])).toEqual([
      [1, "certificate", "POST", "created"],
      [2, "certificate", "PATCH", "updated"],
      [3, "certificate", "DELETE", "deleted"],
    ]);
    const [post, patch, del] = history;
    if (post?.kind !== "certificate" || patch?.kind !== "certificate" || del?.kind !== "certificate") {
      throw new Error("expected certificate entries");
    }
    expect(post).toMatchObject({
      certificateId: created.id,
      integrationId,
      before: null,
      time: NOW,
      path: "/v3/sso/certificates",
    });
    expect(patch).toMatchObject({ certificateId: old.id, changed: ["enabled"] });
    expect(patch.before?.enabled).toBe(true);
    expect(patch.after?.enabled).toBe(false);
    expect(patch.certificatesAfter[integrationId]?.map((c) => [c.id, c.enabled])).toEqual([
      [old.id, false],
      [created.id, true],
    ]);
    expect(del).toMatchObject({ certificateId: old.id, after: null });
    expect(del.certificatesAfter[integrationId]?.map((c) => c.id)).toEqual([created.id]);
  });

  it("records integration and teammate mutations, and a move between integrations touches both", async () => {
    const other = obj(
      await call(emulator, "POST", "/v3/sso/integrations", {
        body: { name: "Duo", entity_id: "e", signin_url: "https://s", signout_url: "https://o" },
      }),
    ).id as string;
    const cert = emulator.state.addCertificate({ integrationId, pem: (await makeCert()).pem, enabled: true });
    await call(emulator, "PATCH", `/v3/sso/certificates/${cert.id}`, { body: { integration_id: other } });
    await call(emulator, "PATCH", `/v3/sso/integrations/${other}`, { body: { enabled: true, name: "Duo" } });
    await call(emulator, "POST", "/v3/sso/teammates", {
      body: { email: "a@example.test", first_name: "A", last_name: "B" },
    });
    await call(emulator, "DELETE", `/v3/sso/integrations/${other}`);

    const history = emulator.state.history;
    expect(history.map((entry) => [entry.kind, entry.change])).toEqual([
      ["integration", "created"],
      ["certificate", "updated"],
      ["integration", "updated"],
      ["teammate", "created"],
      ["integration", "deleted"],
    ]);
    const move = history[1];
    if (move?.kind !== "certificate") throw new Error("expected a certificate entry");
    expect(move.changed).toEqual(["integrationId"]);
    expect(Object.keys(move.certificatesAfter).sort()).toEqual([integrationId, other].sort());
    expect(move.certificatesAfter[integrationId]).toEqual([]);
    expect(history[2]?.changed).toEqual(["enabled"]);
    const deletion = history[4];
    expect(deletion?.kind === "integration" && deletion.certificatesAfter[other]).toEqual([]);
  });

  it("records neither reads, nor refused requests, nor direct state changes", async () => {
    emulator.state.addCertificate({ integrationId, pem: (await makeCert()).pem, enabled: true });
    await call(emulator, "GET", "/v3/sso/integrations");
    await call(emulator, "POST", "/v3/sso/certificates", {
      body: { public_certificate: "x", integration_id: integrationId },
    });
    await call(emulator, "PATCH", "/v3/sso/certificates/1", { body: { enabled: false } });
    expect(emulator.state.history).toEqual([]);
  });

  it("clearLog empties the log the emulator keeps", async () => {
    await call(emulator, "GET", "/v3/sso/integrations");
    const log = emulator.log;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      method: "GET",
      path: "/v3/sso/integrations",
      status: 200,
      outcome: "answered",
      body: null,
    });
    emulator.clearLog();
    expect(emulator.log).toHaveLength(0);
    await call(emulator, "POST", "/v3/sso/integrations", { rawBody: "{broken" });
    expect(emulator.log[0]?.body).toBe("{broken");
  });
});

describe("EmulatorState used directly", () => {
  it("keeps certificates per integration, accepts ids as numbers or strings and refuses unknown ids", async () => {
    const state = new EmulatorState(() => NOW);
    const a = state.addIntegration({ name: "A", id: "a" });
    const { pem } = await makeCert();
    const cert = state.addCertificate({ integrationId: a.id, pem, enabled: true });
    expect(state.getCertificate(String(cert.id))).toBe(cert);
    expect(state.getCertificate("1e3")).toBeUndefined();
    const disabled = state.setCertificateEnabled(cert.id, false);
    expect(disabled.enabled).toBe(false);
    expect(state.getCertificate(cert.id)).toBe(disabled);
    expect(() => state.addCertificate({ integrationId: "b", pem, enabled: true })).toThrow(
      UnknownIntegrationError,
    );
    expect(() => state.removeCertificate(1)).toThrow(UnknownCertificateError);
    expect(() => state.addIntegration({ name: "again", id: "a" })).toThrow(/already exists/);
    expect(state.removeCertificate(cert.id)).toBe(disabled);
    expect(state.certificatesOf("a")).toEqual([]);
    expect(state.history).toEqual([]);
  });

  it("lets a test make the API's dates disagree with the PEM", async () => {
    const state = new EmulatorState(() => NOW);
    const id = state.addIntegration({ name: "A" }).id;
    const cert = state.addCertificate({
      integrationId: id,
      pem: (await makeCert({ now: NOW })).pem,
      enabled: true,
      notAfter: new Date("2001-01-01T00:00:00Z"),
    });
    expect(cert.notAfter?.toISOString()).toBe("2001-01-01T00:00:00.000Z");
    expect(state.addCertificate({ integrationId: id, pem: "junk", enabled: true }).notAfter).toBeNull();
  });
});

describe("scale", () => {
  it("serves 1,000 integrations with 3 certificates each, every id distinct", async () => {
    const emulator = await startTestEmulator();
    try {
      const pems = await Promise.all([1, 2, 3].map((n) => makeCert({ cn: `idp-${n}` }).then((c) => c.pem)));
      for (let i = 0; i < 1000; i++) {
        const integrationId = emulator.state.addIntegration({ name: `integration-${i}` }).id;
        for (const pem of pems) emulator.state.addCertificate({ integrationId, pem, enabled: true });
      }
      const integrations = list(await call(emulator, "GET", "/v3/sso/integrations?si=true"));
      expect(integrations).toHaveLength(1000);
      const ids = new Set<unknown>();
      const queue = integrations.map((integration) => String(integration.id));
      const worker = async (): Promise<void> => {
        for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
          const certificates = list(await call(emulator, "GET", `/v3/sso/integrations/${id}/certificates`));
          expect(certificates.map((c) => c.intergration_id)).toEqual([id, id, id]);
          for (const certificate of certificates) ids.add(certificate.id);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(ids.size).toBe(3000);
      expect(emulator.log).toHaveLength(1001);
    } finally {
      await emulator.close();
    }
  });
});
