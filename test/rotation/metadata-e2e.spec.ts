// Rotation from an IdP's SAML metadata end to end: a node:http server publishes Okta-shaped metadata around
// generated certificates, the daemon mirrors it into the emulator over real HTTP. New signing certificates
// are uploaded at once, dropped ones disabled after the overlap, and a broken document changes nothing.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { Daemon } from "../../src/daemon.js";
import { makeCert } from "../helpers/make-cert.js";
import { base64Of, oktaMetadata } from "../sources/metadata-fixtures.js";
import { HOUR, fewestUsable, openBench, type Bench } from "./bench.js";

const INTEGRATION = "int-okta";

interface Idp {
  readonly url: string;
  /** What the next fetch gets. */
  publish(answer: { status?: number; body: string; type?: string }): void;
  publishCertificates(certs: readonly GeneratedCertificate[]): void;
  readonly fetches: () => number;
  close(): Promise<void>;
}

async function startIdp(): Promise<Idp> {
  let answer = { status: 200, body: oktaMetadata([]), type: "application/samlmetadata+xml" };
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches++;
    res.writeHead(answer.status, { "content-type": answer.type });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const publish = (next: { status?: number; body: string; type?: string }) => {
    answer = {
      status: next.status ?? 200,
      body: next.body,
      type: next.type ?? "application/samlmetadata+xml",
    };
  };
  return {
    url: `http://127.0.0.1:${port}/app/exk1fcia6d6EMsf331d8/sso/saml/metadata`,
    publish,
    publishCertificates: (certs) => publish({ body: oktaMetadata(certs.map(base64Of)) }),
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let bench: Bench | null = null;
let idp: Idp | null = null;

afterEach(async () => {
  await bench?.close();
  await idp?.close();
  bench = null;
  idp = null;
});

interface Setup {
  readonly bench: Bench;
  readonly idp: Idp;
  readonly daemon: Daemon;
  readonly current: GeneratedCertificate;
  readonly currentId: string;
}

/** An integration signed by `current` (valid another 200 days: never due) and an IdP publishing it. */
async function setup(overlap: string): Promise<Setup> {
  const b = (bench = await openBench());
  const i = (idp = await startIdp());
  const current = await makeCert({
    cn: "dev-4242.okta.com",
    now: b.clock.now(),
    fromDays: -165,
    toDays: 200,
  });
  b.emulator.state.addIntegration({ id: INTEGRATION, name: "Okta" });
  const record = b.emulator.state.addCertificate({
    integrationId: INTEGRATION,
    pem: current.pem,
    enabled: true,
  });
  i.publishCertificates([current]);
  const config = b.loadConfig(
    await b.writeConfig({
      rotation: {
        overlap,
        integrations: [{ match: { name: "Okta" }, source: { type: "metadata", url: i.url } }],
      },
    }),
  );
  const daemon = await b.startDaemon(config);
  return { bench: b, idp: i, daemon, current, currentId: String(record.id) };
}

const nextCert = (s: Setup, cn: string, toDays: number) =>
  makeCert({ cn, now: s.bench.clock.now(), fromDays: -1, toDays, key: { kind: "rsa", bits: 2048 } });

function idOf(s: Setup, cert: GeneratedCertificate): string {
  const found = s.bench.certificates(INTEGRATION).find((c) => c.pem === cert.pem);
  if (!found) throw new Error(`${cert.subject} is not on the integration`);
  return String(found.id);
}

function verified(s: Setup, cert: GeneratedCertificate): boolean {
  const id = idOf(s, cert);
  return s.bench.emulator.log.some((e) => e.method === "GET" && e.path === `/v3/sso/certificates/${id}`);
}

describe("a metadata source mirrors the IdP", () => {
  test("a new signing certificate appears: uploaded at once though the current one has 200 days left", async () => {
    const s = await setup("24h");
    await s.daemon.tick();
    expect(s.idp.fetches()).toBe(1);
    expect(s.bench.mutations()).toEqual([]);

    const next = await nextCert(s, "dev-4242.okta.com next", 3650);
    s.idp.publishCertificates([s.current, next]);
    await s.daemon.tick();
    expect(s.bench.mutations()).toEqual([
      {
        method: "POST",
        path: "/v3/sso/certificates",
        body: { public_certificate: next.pem, integration_id: INTEGRATION, enabled: true },
      },
    ]);
    expect(verified(s, next)).toBe(true);
    // Both are published, so both stay enabled, now and after the overlap.
    s.bench.clock.advance(48 * HOUR);
    await s.daemon.tick();
    expect(s.bench.mutations()).toHaveLength(1);
    expect(s.bench.certificates(INTEGRATION).map((c) => c.enabled)).toEqual([true, true]);
  });

  test("a document with two new signing certificates: both uploaded and verified in one cycle", async () => {
    const s = await setup("24h");
    const a = await nextCert(s, "rollover-a", 900);
    const b = await nextCert(s, "rollover-b", 1800);
    s.idp.publishCertificates([a, b]);
    await s.daemon.tick();
    expect(
      s.bench.mutations().map((m) => (m.body as { public_certificate?: string }).public_certificate),
    ).toEqual([a.pem, b.pem]);
    expect(verified(s, a)).toBe(true);
    expect(verified(s, b)).toBe(true);
    expect(s.daemon.rotation.rotator.current.rotations.map((r) => [r.kind, r.phase])).toEqual([
      ["mirror", "verified"],
      ["mirror", "verified"],
    ]);
  });

  test("a certificate dropped from the metadata is disabled after the overlap, with {enabled:false}", async () => {
    const s = await setup("24h");
    const next = await nextCert(s, "dev-4242.okta.com next", 3650);
    s.idp.publishCertificates([s.current, next]);
    await s.daemon.tick();
    const nextId = idOf(s, next);

    s.idp.publishCertificates([next]);
    await s.daemon.tick();
    expect(
      s.bench.logs.matching("info", /is not in the IdP's metadata; disabling it after the overlap$/),
    ).toHaveLength(1);
    s.bench.clock.advance(24 * HOUR - 1000);
    await s.daemon.tick();
    expect(s.bench.mutations().map((m) => m.method)).toEqual(["POST"]);

    s.bench.clock.advance(1000);
    await s.daemon.tick();
    expect(s.bench.mutations().slice(1)).toEqual([
      { method: "PATCH", path: `/v3/sso/certificates/${s.currentId}`, body: { enabled: false } },
    ]);
    expect(s.bench.certificates(INTEGRATION).map((c) => [String(c.id), c.enabled])).toEqual([
      [s.currentId, false],
      [nextId, true],
    ]);
    expect(fewestUsable(s.bench.emulator, INTEGRATION, s.bench.clock.now())).toBe(1);
  });

  test("the metadata publishes only a certificate that cannot be uploaded: the old one is never disabled", async () => {
    const s = await setup("0s");
    const weak = await makeCert({ cn: "weak", now: s.bench.clock.now(), key: { kind: "rsa", bits: 1024 } });
    s.idp.publishCertificates([weak]);
    await s.daemon.tick();
    s.bench.clock.advance(30 * 24 * HOUR);
    await s.daemon.tick();
    expect(s.bench.mutations()).toEqual([]);
    expect(
      s.bench.logs.matching("warn", /RSA key of 1024 bits; at least 2048 required/).length,
    ).toBeGreaterThan(0);
    expect(
      s.bench.logs.matching(
        "warn",
        /^not disabling certificate \d+: it would leave no valid enabled certificate$/,
      ).length,
    ).toBeGreaterThan(0);
  });

  test.each([
    [
      "HTTP 500",
      { status: 500, body: "oops", type: "text/plain" },
      /^metadata: metadata fetch failed: HTTP 500/,
    ],
    [
      "an HTML page",
      { body: "<html><body>Sign in</body></html>", type: "text/html" },
      /^metadata: not SAML metadata/,
    ],
    [
      "a document that is not XML",
      { body: '{"not": "xml"}', type: "application/json" },
      /^metadata: metadata is not XML/,
    ],
  ])(
    "%s: nothing changes, a warning is logged, what was noted stays noted",
    async (_name, answer, warning) => {
      const s = await setup("24h");
      const next = await nextCert(s, "next", 3650);
      s.idp.publishCertificates([next]);
      await s.daemon.tick();
      const before = s.bench.mutations();
      const unpublished = s.daemon.rotation.rotator.current.unpublished;
      expect(before.map((m) => m.method)).toEqual(["POST"]);
      expect(unpublished).toHaveLength(1);

      s.idp.publish(answer);
      s.bench.clock.advance(HOUR);
      await s.daemon.tick();
      expect(s.bench.mutations()).toEqual(before);
      expect(s.daemon.rotation.rotator.current.unpublished).toEqual(unpublished);
      const warnings = s.bench.logs.matching("warn", warning);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ integration_id: INTEGRATION, integration: "Okta" });
      expect(warnings[0]!.msg).toMatch(/; no rotation step this cycle$/);
      // The scan itself went fine: the metrics still say so.
      const metrics = await (await fetch(`${s.daemon.url}/metrics`)).text();
      expect(metrics).toMatch(/^sendgrid_sso_scrape_success\{account="main"\} 1$/m);
    },
  );
});
