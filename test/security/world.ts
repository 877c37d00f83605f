// A daemon's whole surroundings for secret tests: the emulator accepting one key, a throw-away directory
// with the key in a file (as a mounted secret), a file source holding a replacement certificate for an
// integration about to expire, a config loaded like a user's, and every log line kept as text.

import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { loadConfig } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon.js";
import type { Emulator } from "../../src/emulator/server.js";
import { createLogger } from "../../src/log.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";

export const EXPIRING = "int-okta";
export const HEALTHY = "int-duo";

export interface World {
  readonly dir: string;
  readonly stateDir: string;
  readonly keyFile: string;
  readonly configFile: string;
  readonly emulator: Emulator;
  readonly replacement: GeneratedCertificate;
  /** Every daemon log line, as written. */
  readonly logs: string[];
  /** Replaces the key file the way Kubernetes updates a mounted secret: a new file renamed into place. */
  writeKey(key: string): void;
  startDaemon(): Promise<Daemon>;
  close(): Promise<void>;
}

export async function openWorld(apiKey: string): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "sso-secrets-"));
  const stateDir = join(dir, "state");
  const certsDir = join(dir, "certs");
  const keyFile = join(dir, "secrets", "api-key");
  mkdirSync(certsDir);
  mkdirSync(join(dir, "secrets"));
  const emulator = await startTestEmulator({ apiKey });
  const daemons: Daemon[] = [];
  const logs: string[] = [];

  const now = new Date();
  const expiring = await makeCert({ cn: "okta-old", now, fromDays: -360, toDays: 5 });
  const healthy = await makeCert({ cn: "duo", now, fromDays: -10, toDays: 300 });
  const replacement = await makeCert({ cn: "okta-new", now, fromDays: -1, toDays: 730 });
  emulator.state.addIntegration({ id: EXPIRING, name: "Okta" });
  emulator.state.addIntegration({ id: HEALTHY, name: "Duo" });
  emulator.state.addCertificate({ integrationId: EXPIRING, pem: expiring.pem, enabled: true });
  emulator.state.addCertificate({ integrationId: HEALTHY, pem: healthy.pem, enabled: true });
  writeFileSync(join(certsDir, "okta-new.pem"), replacement.pem);

  const writeKey = (key: string) => {
    const next = `${keyFile}.next`;
    writeFileSync(next, `${key}\n`);
    renameSync(next, keyFile);
  };
  writeKey(apiKey);

  const configFile = join(dir, "config.yaml");
  writeFileSync(
    configFile,
    stringify({
      accounts: [{ name: "main", api_key_file: "secrets/api-key", base_url: emulator.url }],
      listen: "127.0.0.1:0",
      state_dir: "state",
      log_level: "trace",
      http: { timeout: "5s", max_retries: 2 },
      rotation: {
        enabled: true,
        overlap: "0s",
        integrations: [{ match: { id: EXPIRING }, source: { type: "file", path: "certs" } }],
      },
    }),
  );

  return {
    dir,
    stateDir,
    keyFile,
    configFile,
    emulator,
    replacement,
    logs,
    writeKey,
    async startDaemon() {
      const loaded = loadConfig({ file: configFile, env: {}, cwd: dir });
      if (!loaded.ok) throw new Error(`config rejected:\n${loaded.problems.join("\n")}`);
      const logger = createLogger({
        level: "trace",
        destination: { write: (line: string) => void logs.push(line) },
      });
      const daemon = await startDaemon({ config: loaded.config, logger, schedule: false });
      daemons.push(daemon);
      return daemon;
    },
    async close() {
      for (const daemon of daemons.splice(0)) await daemon.stop(1_000);
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
