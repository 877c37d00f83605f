// The okta and entra sources end to end: the daemon (in this process, ticked by the test) against the
// SendGrid, Okta and Graph emulators over real sockets. Pre-staging trusts an admin's new key before it
// signs; the lockout detector sees an IdP signing with a key SendGrid lacks within one scan; a managed
// rollover runs generate -> upload -> verify -> activate -> confirm -> disable with no lockout instant,
// as both emulators' histories show; faults change no verdict.

import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import type { Daemon } from "../../src/daemon.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_SP_ID } from "../helpers/start-graph-emulator.js";
import { READ_ONLY_OKTA_TOKEN, TEST_APP_ID } from "../helpers/start-okta-emulator.js";
import { ENTRA_INTEGRATION, OKTA_INTEGRATION, openIdpWorld, type IdpWorld } from "./idp-world.js";

let world: IdpWorld | null = null;

afterEach(async () => {
  await world?.close();
  world = null;
});

const fingerprint = (pem: string) => {
  const parsed = parseCertificate(pem);
  if (!parsed.ok) throw new Error("unparseable test certificate");
  return parsed.certificate.fingerprintSha256;
};

async function trusted(daemon: Daemon, integrationId: string): Promise<number | null> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  const samples = parsePrometheusText(text).samples("sendgrid_sso_idp_signing_certificate_trusted");
  const sample = samples.find((s) => s.labels.integration_id === integrationId);
  return sample ? sample.value : null;
}

function held(w: IdpWorld, integrationId: string) {
  return w.sendgrid.state
    .certificatesOf(integrationId)
    .map((c) => ({ fingerprint: fingerprint(c.pem), enabled: c.enabled }));
}

describe("pre-staging: SendGrid trusts the IdP's next key before it signs", () => {
  test("an admin's new Okta key is uploaded at once; activating it keeps the detector at 1", async () => {
    const w = (world = await openIdpWorld());
    const daemon = await w.startDaemon();
    await daemon.tick();
    expect(await trusted(daemon, OKTA_INTEGRATION)).toBe(1);
    expect(w.sendgrid.log.filter((e) => e.method === "POST")).toHaveLength(0);

    const next = await w.okta.state.generateKey(TEST_APP_ID, 2);
    await daemon.tick();
    expect(held(w, OKTA_INTEGRATION)).toContainEqual({ fingerprint: fingerprint(next.pem), enabled: true });
    expect(await trusted(daemon, OKTA_INTEGRATION)).toBe(1);

    w.okta.state.activateKey(TEST_APP_ID, next.kid);
    await daemon.tick();
    expect(await trusted(daemon, OKTA_INTEGRATION)).toBe(1);
    // The key it replaced is no longer used: disabled after the overlap (0s here), the new one kept.
    await daemon.tick();
    const after = held(w, OKTA_INTEGRATION);
    expect(after.filter((c) => c.enabled).map((c) => c.fingerprint)).toEqual([fingerprint(next.pem)]);
    expect(w.lockouts()).toEqual({ okta: [], entra: [] });
  });

  test("a certificate added in the Entra portal is uploaded before it is made the signing one", async () => {
    const w = (world = await openIdpWorld());
    const daemon = await w.startDaemon();
    const next = await w.graph.state.addTokenSigningCertificate(TEST_SP_ID, { displayName: "CN=next" });
    await daemon.tick();
    expect(held(w, ENTRA_INTEGRATION)).toContainEqual({ fingerprint: fingerprint(next.pem), enabled: true });
    w.graph.state.setPreferredThumbprint(TEST_SP_ID, next.thumbprint);
    await daemon.tick();
    expect(await trusted(daemon, ENTRA_INTEGRATION)).toBe(1);
    expect(w.lockouts()).toEqual({ okta: [], entra: [] });
  });
});

describe("the lockout detector", () => {
  test("an IdP that signs with a key SendGrid lacks is seen within one scan, in every output", async () => {
    const w = (world = await openIdpWorld({ rotation: { enabled: false } }));
    const daemon = await w.startDaemon();
    await daemon.tick();
    expect(await trusted(daemon, OKTA_INTEGRATION)).toBe(1);

    const rogue = await w.okta.state.generateKey(TEST_APP_ID, 2);
    w.okta.state.activateKey(TEST_APP_ID, rogue.kid);
    await daemon.tick();
    expect(await trusted(daemon, OKTA_INTEGRATION)).toBe(0);
    expect(await trusted(daemon, ENTRA_INTEGRATION)).toBe(1);

    const inventory = (await (await fetch(`${daemon.url}/api/v1/inventory`)).json()) as {
      status: string;
      accounts: { integrations: { id: string; status: string; idp: Record<string, unknown> }[] }[];
    };
    expect(inventory.status).toBe("critical");
    const okta = inventory.accounts[0]!.integrations.find((i) => i.id === OKTA_INTEGRATION)!;
    expect(okta.status).toBe("critical");
    expect(okta.idp).toEqual({
      source: "okta",
      signing_certificate_trusted: false,
      signing_fingerprint_sha256: fingerprint(rogue.pem),
      signing_not_after: rogue.expiresAt.toISOString(),
      error: null,
    });
    const page = await (await fetch(`${daemon.url}/`)).text();
    expect(page).toContain("Lockout: SSO logins are failing now");
    expect(page.indexOf("Lockout")).toBeLessThan(page.indexOf("Account main"));
    // Monitor only: nothing was changed in SendGrid; the histories show the lockout from the activation on.
    expect(w.sendgrid.log.filter((e) => e.method !== "GET")).toEqual([]);
    expect(w.lockouts().okta).toHaveLength(1);
    expect(w.lockouts().okta[0]).toContain(fingerprint(rogue.pem).slice(0, 16));

    // `check`, as Nagios runs it: CRITICAL, saying why in its first line.
    const check = await runCli(["check", "--config", join(w.dir, "config.yaml")], { env: w.env, cwd: w.dir });
    expect(check.code).toBe(2);
    expect(check.stdout.split("\n")[0]).toBe(
      "SENDGRID SSO CRITICAL - Okta: the IdP (okta) signs with a certificate SendGrid does not trust: logins fail",
    );
  });

  test("an IdP that cannot be read is unknown and counted, never trusted", async () => {
    const w = (world = await openIdpWorld({ rotation: { enabled: false }, http: { max_retries: 0 } }));
    const daemon = await w.startDaemon();
    w.okta.faults.next({
      match: { path: `/api/v1/apps/${TEST_APP_ID}` },
      action: { kind: "status", status: 500 },
    });
    await daemon.tick();
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    const metrics = parsePrometheusText(text);
    expect(
      metrics.samples("sendgrid_sso_idp_signing_certificate_trusted").map((s) => s.labels.integration_id),
    ).toEqual([ENTRA_INTEGRATION]);
    expect(metrics.value("sendgrid_sso_idp_up", { integration_id: OKTA_INTEGRATION })).toBe(0);
    expect(metrics.value("sendgrid_sso_idp_read_errors_total", { source: "okta", reason: "http_5xx" })).toBe(
      1,
    );
    const inventory = (await (await fetch(`${daemon.url}/api/v1/inventory`)).json()) as {
      accounts: { integrations: { id: string; status: string; idp: { error: string | null } }[] }[];
    };
    const okta = inventory.accounts[0]!.integrations.find((i) => i.id === OKTA_INTEGRATION)!;
    expect(okta.status).toBe("unknown");
    expect(okta.idp.error).toMatch(/500/);
  });
});

describe("a managed rollover (manage_keys: true)", () => {
  test("`plan` shows the IdP steps it would take, and why, changing nothing", async () => {
    const w = (world = await openIdpWorld({ activeKeyDaysLeft: 5, okta: { manage_keys: true } }));
    await w.writeConfig();
    const planned = await runCli(["plan", "--json", "--config", join(w.dir, "config.yaml")], {
      env: w.env,
      cwd: w.dir,
    });
    expect(planned.code).toBe(0);
    const document = JSON.parse(planned.stdout) as {
      actions: { kind: string; integration_id: string; reason: string }[];
    };
    expect(document.actions.map((a) => [a.kind, a.integration_id])).toEqual([["generate", OKTA_INTEGRATION]]);
    expect(document.actions[0]!.reason).toMatch(
      /^the IdP's signing key \S+ expires .*; generating a new key valid for 2 year\(s\)$/,
    );
    expect(w.okta.log.filter((e) => e.method !== "GET")).toEqual([]);
    expect(w.sendgrid.log.filter((e) => e.method !== "GET")).toEqual([]);
  });

  test.each([
    ["okta", OKTA_INTEGRATION],
    ["entra", ENTRA_INTEGRATION],
  ] as const)(
    "%s: generate -> upload -> verify -> activate -> confirm -> disable, never locked out",
    async (source, integration) => {
      const w = (world = await openIdpWorld({
        activeKeyDaysLeft: 5,
        okta: { manage_keys: source === "okta" },
        entra: { manage_keys: source === "entra", validity_years: 2 },
      }));
      const before = held(w, integration).map((c) => c.fingerprint);
      const daemon = await w.startDaemon();
      await daemon.tick();

      const journal = daemon.rotation.rotator.current;
      const rollover = journal.rollovers.find((r) => r.integrationId === integration);
      expect(rollover).toMatchObject({ source, phase: "retired" });
      const steps = (await daemon.rotation.audit.read({ limit: 50 }))
        .filter((r) => r.integrationId === integration && r.result === "success")
        .map((r) => r.action);
      expect(steps).toEqual(["generate", "upload", "verify", "activate", "confirm", "disable"]);
      // One key generated, one upload, the IdP on the new key, the old certificate disabled.
      if (source === "okta") {
        expect(w.okta.state.history.filter((e) => e.kind === "generate" && e.origin === "api")).toHaveLength(
          1,
        );
        expect(w.okta.state.app(TEST_APP_ID)!.activeKid).toBe(rollover!.key!.id);
      } else {
        expect(
          w.graph.state.history.filter((e) => e.kind === "certificate_added" && e.origin === "api"),
        ).toHaveLength(1);
        expect(w.graph.state.signingThumbprint(TEST_SP_ID)).toBe(rollover!.key!.id);
      }
      expect(w.sendgrid.log.filter((e) => e.method === "POST")).toHaveLength(1);
      expect(held(w, integration)).toEqual([
        { fingerprint: before[0], enabled: false },
        { fingerprint: rollover!.key!.fingerprint, enabled: true },
      ]);
      expect(await trusted(daemon, integration)).toBe(1);
      expect(w.lockouts()).toEqual({ okta: [], entra: [] });

      // Nothing more to do on the next scan.
      const requests = w.sendgrid.log.length;
      await daemon.tick();
      expect(w.sendgrid.log.slice(requests).filter((e) => e.method !== "GET")).toEqual([]);
    },
  );

  test("`rollback` of a rollover: the old certificate trusted again, the IdP back on the old key, then the new one disabled", async () => {
    const w = (world = await openIdpWorld({ activeKeyDaysLeft: 5, okta: { manage_keys: true } }));
    const oldKid = w.okta.state.app(TEST_APP_ID)!.activeKid!;
    const daemon = await w.startDaemon();
    await daemon.tick();
    const rollover = daemon.rotation.rotator.current.rollovers.find((r) => r.source === "okta")!;
    expect(rollover.phase).toBe("retired");
    await daemon.stop(1_000);

    const rolledBack = await runCli(
      ["rollback", "--integration", OKTA_INTEGRATION, "--config", join(w.dir, "config.yaml")],
      {
        env: w.env,
        cwd: w.dir,
      },
    );
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(w.okta.state.app(TEST_APP_ID)!.activeKid).toBe(oldKid);
    const newFingerprint = rollover.key!.fingerprint;
    expect(held(w, OKTA_INTEGRATION).map((c) => [c.fingerprint === newFingerprint, c.enabled])).toEqual([
      [false, true],
      [true, false],
    ]);
    // In that order: SendGrid trusted the old key again before Okta signed with it.
    const order = [
      ...w.sendgrid.log
        .filter((e) => e.method === "PATCH")
        .map((e) => ({ time: e.time, what: `sendgrid ${JSON.stringify(e.body)}` })),
      ...w.okta.log.filter((e) => e.method === "PUT").map((e) => ({ time: e.time, what: "okta activate" })),
    ]
      .sort((a, b) => a.time.getTime() - b.time.getTime())
      .map((e) => e.what);
    expect(order.slice(-3)).toEqual([
      'sendgrid {"enabled":true}',
      "okta activate",
      'sendgrid {"enabled":false}',
    ]);
    expect(w.lockouts()).toEqual({ okta: [], entra: [] });
  });

  test("faults at every IdP call (429, 503, an expired token, lost answers) change no verdict", async () => {
    const w = (world = await openIdpWorld({
      activeKeyDaysLeft: 5,
      entra: { manage_keys: true, validity_years: 2 },
      okta: { manage_keys: true },
      http: { max_retries: 3, timeout: "2s" },
    }));
    w.okta.faults.next({ action: { kind: "status", status: 429, headers: { "x-rate-limit-reset": "1" } } });
    w.okta.faults.next({ match: { method: "PUT" }, action: { kind: "lose" } });
    w.graph.faults.next({ action: { kind: "status", status: 503, headers: { "retry-after": "1" } } });
    w.graph.faults.next({ match: { method: "PATCH" }, action: { kind: "lose" } });
    const daemon = await w.startDaemon();
    await daemon.tick();
    w.graph.expireTokens();
    for (let i = 0; i < 4; i++) await daemon.tick();
    const rollovers = daemon.rotation.rotator.current.rollovers;
    expect([w.okta.faults.pending, w.graph.faults.pending]).toEqual([0, 0]);
    expect(rollovers.map((r) => [r.source, r.phase])).toEqual([
      ["okta", "retired"],
      ["entra", "retired"],
    ]);
    expect(w.okta.state.history.filter((e) => e.kind === "generate" && e.origin === "api")).toHaveLength(1);
    expect(
      w.graph.state.history.filter((e) => e.kind === "certificate_added" && e.origin === "api"),
    ).toHaveLength(1);
    expect(w.lockouts()).toEqual({ okta: [], entra: [] });
    expect(await trusted(daemon, OKTA_INTEGRATION)).toBe(1);
    expect(await trusted(daemon, ENTRA_INTEGRATION)).toBe(1);
  });

  test("a read-only token: the generate is refused naming okta.apps.manage, nothing else changes", async () => {
    const w = (world = await openIdpWorld({ activeKeyDaysLeft: 5, okta: { manage_keys: true } }));
    w.env.OKTA_API_TOKEN = READ_ONLY_OKTA_TOKEN;
    const daemon = await w.startDaemon();
    await daemon.tick();
    const refused = w.logs.matching("error", /^generate: generate refused: .*okta\.apps\.manage/);
    expect(refused).toHaveLength(1);
    expect(daemon.rotation.rotator.current.rollovers.map((r) => r.phase)).toEqual(["abandoned"]);
    expect(w.sendgrid.log.filter((e) => e.method !== "GET")).toEqual([]);
    expect(await trusted(daemon, OKTA_INTEGRATION)).toBe(1);
    expect(JSON.stringify(w.logs.entries)).not.toContain(READ_ONLY_OKTA_TOKEN);

    // Monitor-only for the keys, not for SendGrid: no backoff, no second generate, pre-staging goes on.
    expect(daemon.rotation.rotator.current.backoff).toEqual([]);
    const next = await w.okta.state.generateKey(TEST_APP_ID, 2);
    await daemon.tick();
    expect(w.logs.matching("warn", /managing keys is paused/).length).toBeGreaterThan(0);
    expect(w.okta.log.filter((e) => e.method === "POST")).toHaveLength(1);
    expect(held(w, OKTA_INTEGRATION)).toContainEqual({ fingerprint: fingerprint(next.pem), enabled: true });
  });
});
