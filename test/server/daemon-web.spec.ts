// The `web` section as a user writes it, through the daemon: a YAML config with TLS files, a basic-auth
// user and a bearer token file gives an https server that lets Prometheus in and the kubelet probe
// /healthz; TLS files that do not fit stop start-up with a message naming them.

import { hashSync } from "bcryptjs";
import { stringify } from "yaml";
import { afterEach, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon.js";
import type { Emulator } from "../../src/emulator/server.js";
import { createLogger } from "../../src/log.js";
import { TlsCredentialsError } from "../../src/server/tls-error.js";
import { startTestEmulator, TEST_API_KEY } from "../helpers/start-emulator.js";
import { basic, bearer, get, serverCertificate } from "./harness.js";
import { createWorkspace, type Workspace } from "../helpers/workspace.js";

let emulator: Emulator | null = null;
let daemon: Daemon | null = null;
let files: Workspace | null = null;

afterEach(async () => {
  await daemon?.stop(1_000);
  daemon = null;
  await emulator?.close();
  emulator = null;
  files?.remove();
  files = null;
});

async function configWith(web: Record<string, unknown>) {
  emulator = await startTestEmulator();
  const file = files!.write(
    "config.yaml",
    stringify({
      accounts: [{ name: "main", api_key_env: "SENDGRID_API_KEY", base_url: emulator.url }],
      listen: "127.0.0.1:0",
      state_dir: "state",
      http: { max_retries: 0 },
      web,
    }),
  );
  const loaded = loadConfig({ file, env: { SENDGRID_API_KEY: TEST_API_KEY }, cwd: files!.root });
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  return loaded.config;
}

const silent = () => createLogger({ level: "fatal", destination: { write: () => undefined } });

it("serves https with basic auth and a bearer token, /healthz open", async () => {
  files = createWorkspace();
  const certificate = await serverCertificate("sso-certs-metrics");
  files.write("tls/tls.crt", certificate.pem);
  files.write("tls/tls.key", certificate.privateKeyPem);
  files.write("metrics-token", "scrape-token-1\n");
  const config = await configWith({
    tls_server_config: { cert_file: "tls/tls.crt", key_file: "tls/tls.key", min_version: "TLS12" },
    basic_auth_users: { prometheus: hashSync("scrape-pw", 4) },
    bearer_token_file: "metrics-token",
  });
  daemon = await startDaemon({ config, logger: silent(), schedule: false });
  await daemon.tick();

  expect(daemon.url).toMatch(/^https:\/\//);
  const ca = certificate.pem;
  expect((await get(`${daemon.url}/metrics`, { ca, headers: basic("prometheus", "scrape-pw") })).status).toBe(
    200,
  );
  expect(
    (await get(`${daemon.url}/api/v1/inventory`, { ca, headers: bearer("scrape-token-1") })).status,
  ).toBe(200);
  expect((await get(`${daemon.url}/metrics`, { ca, headers: basic("prometheus", "guess") })).status).toBe(
    401,
  );
  expect((await get(`${daemon.url}/`, { ca })).status).toBe(401);
  expect((await get(`${daemon.url}/healthz`, { ca })).status).toBe(200);
  await expect(get(daemon.url.replace("https:", "http:") + "/healthz")).rejects.toThrow();
});

it("does not start when the TLS key does not belong to the certificate", async () => {
  files = createWorkspace();
  const certificate = await serverCertificate("sso-certs-metrics");
  const stranger = await serverCertificate("stranger", { kind: "ec", curve: "P-384" });
  const certFile = files.write("tls.crt", certificate.pem);
  const keyFile = files.write("tls.key", stranger.privateKeyPem);
  const config = await configWith({ tls_server_config: { cert_file: "tls.crt", key_file: "tls.key" } });
  const started = startDaemon({ config, logger: silent(), schedule: false });
  await expect(started).rejects.toThrow(TlsCredentialsError);
  await expect(started).rejects.toThrow(
    `TLS certificate file ${certFile} and key file ${keyFile} cannot be used: the key does not belong to the certificate`,
  );
});
