// TLS on the real server: a client trusting the test certificate gets in, a plain-HTTP client does not,
// a certificate replaced on disk reaches the next connections, a broken replacement is refused while the
// old certificate keeps serving, and a pair that cannot work stops start-up naming both files.

import { renameSync } from "node:fs";
import { connect } from "node:net";
import { hashSync } from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { fileSecret } from "../../src/config/secrets.js";
import type { TlsMinVersion } from "../../src/config/types.js";
import type { ServerTimeouts } from "../../src/server/http.js";
import { TlsCredentialsError } from "../../src/server/tls-error.js";
import {
  basic,
  fingerprintOf,
  get,
  NO_WEB,
  serverCertificate,
  startTestServer,
  type TestServer,
} from "./harness.js";
import { createWorkspace, type Workspace } from "../helpers/workspace.js";

let server: TestServer | null = null;
let files: Workspace | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
  files?.remove();
  files = null;
});

interface TlsServerOptions {
  readonly minVersion?: TlsMinVersion;
  readonly users?: Map<string, string>;
  readonly timeouts?: Partial<ServerTimeouts>;
}

async function tlsServer(options: TlsServerOptions = {}) {
  files = createWorkspace();
  const certificate = await serverCertificate("metrics-2025");
  const certFile = files.write("tls.crt", certificate.pem);
  const keyFile = files.write("tls.key", certificate.privateKeyPem);
  server = await startTestServer(
    {
      ...NO_WEB,
      tls: {
        cert: fileSecret(certFile),
        key: fileSecret(keyFile),
        minVersion: options.minVersion ?? "TLS12",
      },
      basicAuthUsers: options.users ?? new Map(),
    },
    options.timeouts,
  );
  return { server, files, certificate, certFile, keyFile };
}

/** What a plain-HTTP client gets from a TLS port: the bytes before the server hangs up. */
function plainHttp(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET /metrics HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

describe("TLS", () => {
  it("serves https to a client that trusts the certificate, with basic auth inside TLS", async () => {
    const users = new Map([["prometheus", hashSync("pw", 4)]]);
    const { server: s, certificate } = await tlsServer({ users });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const answer = await get(`${s.url}/metrics`, { ca: certificate.pem, headers: basic("prometheus", "pw") });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("sendgrid_sso_build_info");
    expect(answer.peerFingerprint).toBe(fingerprintOf(certificate));
    expect((await get(`${s.url}/metrics`, { ca: certificate.pem })).status).toBe(401);
    expect((await get(`${s.url}/healthz`, { ca: certificate.pem })).status).toBe(200);
  });

  it("refuses a client that does not trust the certificate", async () => {
    const { server: s } = await tlsServer();
    const stranger = await serverCertificate("someone-else", { kind: "ec", curve: "P-384" });
    await expect(get(`${s.url}/healthz`, { ca: stranger.pem })).rejects.toThrow();
  });

  it("gives a plain-HTTP client no answer", async () => {
    const { server: s } = await tlsServer();
    await expect(get(s.url.replace("https:", "http:") + "/healthz")).rejects.toThrow();
    const bytes = await plainHttp(s.url);
    expect(bytes).not.toMatch(/^HTTP\/1\.1 200/);
    expect(bytes).not.toContain("sendgrid_sso");
  });

  it("cuts off a client that connects and never starts the handshake", async () => {
    const { server: s, certificate } = await tlsServer({
      timeouts: { headersMs: 1_000, requestMs: 2_000, checkIntervalMs: 100 },
    });
    const { hostname, port } = new URL(s.url);
    const silent = connect(Number(port), hostname);
    silent.on("error", () => undefined);
    const closed = new Promise<boolean>((resolve) => silent.on("close", () => resolve(true)));
    const bound = new Promise<boolean>((resolve) => setTimeout(resolve, 20_000, false).unref());
    expect((await get(`${s.url}/healthz`, { ca: certificate.pem })).status).toBe(200);
    expect(await Promise.race([closed, bound])).toBe(true);
    silent.destroy();
  });

  it("sends a replaced certificate on the next connection, without a restart", async () => {
    const { server: s, files: dir, certificate, certFile, keyFile } = await tlsServer();
    expect((await get(`${s.url}/healthz`, { ca: certificate.pem })).peerFingerprint).toBe(
      fingerprintOf(certificate),
    );

    // As cert-manager and Kubernetes do it: new files renamed into place, key first.
    const renewed = await serverCertificate("metrics-2026", { kind: "rsa", bits: 2048 });
    renameSync(dir.write("tls.key.new", renewed.privateKeyPem), keyFile);
    renameSync(dir.write("tls.crt.new", renewed.pem), certFile);

    const after = await get(`${s.url}/healthz`, { ca: renewed.pem });
    expect(after.status).toBe(200);
    expect(after.peerFingerprint).toBe(fingerprintOf(renewed));
    expect(after.peerFingerprint).not.toBe(fingerprintOf(certificate));
    await expect(get(`${s.url}/healthz`, { ca: certificate.pem })).rejects.toThrow();
    const reloaded = s.logs.filter((line) => line.includes("TLS certificate reloaded"));
    expect(reloaded).toHaveLength(1);
    expect(reloaded[0]).toContain(renewed.fingerprintSha256);
  });

  it("keeps the working certificate while a replacement does not match its key, and reports it once", async () => {
    const { server: s, files: dir, certificate, certFile } = await tlsServer();
    // Half of a renewal: the certificate is new but the key on disk is still the old one.
    const renewed = await serverCertificate("metrics-2026", { kind: "rsa", bits: 2048 });
    renameSync(dir.write("tls.crt.new", renewed.pem), certFile);

    for (let i = 0; i < 3; i++) {
      const answer = await get(`${s.url}/healthz`, { ca: certificate.pem });
      expect(answer.status).toBe(200);
      expect(answer.peerFingerprint).toBe(fingerprintOf(certificate));
    }
    const warnings = s.logs.filter((line) => line.includes("keeping the previous certificate"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(certFile);
    expect(s.logs.join("")).not.toContain("PRIVATE KEY");
  });

  it("with min_version TLS13, refuses a client that speaks at most TLS 1.2", async () => {
    const { server: s, certificate } = await tlsServer({ minVersion: "TLS13" });
    expect((await get(`${s.url}/healthz`, { ca: certificate.pem, maxVersion: "TLSv1.3" })).status).toBe(200);
    await expect(get(`${s.url}/healthz`, { ca: certificate.pem, maxVersion: "TLSv1.2" })).rejects.toThrow();
  });

  it("does not start when the key does not belong to the certificate, naming both files", async () => {
    files = createWorkspace();
    const certificate = await serverCertificate("metrics");
    const other = await serverCertificate("other", { kind: "ec", curve: "P-384" });
    const certFile = files.write("tls.crt", certificate.pem);
    const keyFile = files.write("tls.key", other.privateKeyPem);
    const start = startTestServer({
      ...NO_WEB,
      tls: { cert: fileSecret(certFile), key: fileSecret(keyFile), minVersion: "TLS12" },
    });
    const error = await start.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TlsCredentialsError);
    expect((error as Error).message).toContain(certFile);
    expect((error as Error).message).toContain(keyFile);
    expect((error as Error).message).not.toContain("PRIVATE KEY");
  });

  it("does not start when a file is gone, naming it", async () => {
    files = createWorkspace();
    const certificate = await serverCertificate("metrics");
    const certFile = files.write("tls.crt", certificate.pem);
    const keyFile = files.write("tls.key", certificate.privateKeyPem);
    const key = fileSecret(keyFile);
    const cert = fileSecret(certFile);
    renameSync(certFile, `${certFile}.gone`);
    await expect(startTestServer({ ...NO_WEB, tls: { cert, key, minVersion: "TLS12" } })).rejects.toThrow(
      new TlsCredentialsError(`TLS: file ${certFile} does not exist`),
    );
  });
});
