// A world for end-to-end tests of the IdP sources: the SendGrid, Okta and Graph emulators on one shared,
// strictly increasing clock (so their histories interleave), an Okta app and an Entra service principal
// each already trusted by a SendGrid integration, and a daemon in this process built from a YAML config
// as a user writes it, or a config for the `run` CLI in a child process (the crash harness). Everything it
// opens is closed by close(); a child process is the caller's to stop first.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";
import { startDaemon, type Daemon } from "../../src/daemon.js";
import type { GraphEmulator } from "../../src/emulator/graph/server.js";
import type { OktaEmulator } from "../../src/emulator/okta/server.js";
import type { Emulator } from "../../src/emulator/server.js";
import type { CertificateRecord } from "../../src/emulator/state.js";
import {
  addPortalCertificate,
  startTestGraphEmulator,
  TEST_SP_ID,
  TEST_TENANT_ID,
  WRITER,
} from "../helpers/start-graph-emulator.js";
import { startOktaEmulator } from "../../src/emulator/okta/server.js";
import {
  READ_ONLY_OKTA_TOKEN,
  TEST_APP_ID,
  TEST_APP_SETTINGS,
  TEST_OKTA_TOKEN,
  TEST_ORG_NAME,
} from "../helpers/start-okta-emulator.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { graphSigning, lockoutInstants, oktaSigning, sharedClock } from "../helpers/idp-timeline.js";
import { LogCapture } from "./bench.js";

export const OKTA_INTEGRATION = "int-okta";
export const ENTRA_INTEGRATION = "int-entra";
export type IdpName = "okta" | "entra";
/** The integration each IdP's key is trusted by. */
export const INTEGRATION_OF: Readonly<Record<IdpName, string>> = {
  okta: OKTA_INTEGRATION,
  entra: ENTRA_INTEGRATION,
};
const DAY = 86_400_000;

export interface IdpWorldOptions {
  /** Days the IdPs' active keys have left (Okta's made 2 years ago). Default 300: nothing due. */
  readonly activeKeyDaysLeft?: number;
  readonly rotation?: Record<string, unknown>;
  readonly okta?: Record<string, unknown>;
  readonly entra?: Record<string, unknown>;
  readonly http?: Record<string, unknown>;
  /** The Okta API token (with okta.apps.manage) and the Entra client secret; default: the test values. */
  readonly oktaToken?: string;
  readonly entraSecret?: string;
}

export interface IdpWorld {
  readonly dir: string;
  readonly sendgrid: Emulator;
  readonly okta: OktaEmulator;
  readonly graph: GraphEmulator;
  readonly clock: { now: () => Date };
  readonly logs: LogCapture;
  readonly env: Record<string, string>;
  /** When the world was set up: lockouts are looked for from here on. */
  readonly since: Date;
  readonly stateDir: string;
  writeConfig(): Promise<Config>;
  /**
   * The same config for `run` in a child process, a scan every second; returns its path. The secrets are
   * not in it: pass `env` to the child.
   */
  writeRunConfig(): Promise<string>;
  /** Keys generated through the API so far (emulator history, origin "api"). */
  keysGenerated(idp: IdpName): number;
  /** The certificate (PEM) the IdP signs with now; null when none. */
  signingPem(idp: IdpName): string | null;
  startDaemon(config?: Config): Promise<Daemon>;
  /** Lockout instants so far of each integration (empty: none). */
  lockouts(): { okta: string[]; entra: string[] };
  close(): Promise<void>;
}

export async function openIdpWorld(options: IdpWorldOptions = {}): Promise<IdpWorld> {
  const clock = sharedClock();
  let shiftMs = 0;
  const sendgrid = await startTestEmulator({ now: clock.now });
  const okta = await startOktaEmulator({
    apiToken: options.oktaToken ?? TEST_OKTA_TOKEN,
    readOnlyTokens: [READ_ONLY_OKTA_TOKEN],
    orgName: TEST_ORG_NAME,
    host: "127.0.0.1",
    port: 0,
    seedRandom: 1,
    now: () => new Date(clock.now().getTime() - shiftMs),
  });
  const entraSecret = options.entraSecret ?? WRITER.clientSecret;
  const graph = await startTestGraphEmulator({
    now: clock.now,
    clients: [{ clientId: WRITER.clientId, clientSecret: entraSecret, roles: ["Application.ReadWrite.All"] }],
  });
  const dir = await mkdtemp(join(tmpdir(), "idp-e2e-"));
  const logs = new LogCapture();
  const daemons: Daemon[] = [];
  const daysLeft = options.activeKeyDaysLeft ?? 300;

  // Okta makes keys for 2..10 years from its own now: the app was made in the past, its key as old.
  shiftMs = 2 * 365 * DAY - daysLeft * DAY;
  const app = await okta.state.addApp({
    id: TEST_APP_ID,
    name: "sendgrid",
    label: "SendGrid SSO",
    settings: TEST_APP_SETTINGS,
    validityYears: 2,
  });
  shiftMs = 0;
  const oktaKey = app.keys.find((k) => k.kid === app.activeKid)!;
  const entraKey = await addPortalCertificate(graph, {
    activate: true,
    endDateTime: new Date(clock.now().getTime() + daysLeft * DAY),
  });

  sendgrid.state.addIntegration({ id: OKTA_INTEGRATION, name: "Okta" });
  sendgrid.state.addIntegration({ id: ENTRA_INTEGRATION, name: "Entra ID" });
  sendgrid.state.addCertificate({ integrationId: OKTA_INTEGRATION, pem: oktaKey.pem, enabled: true });
  sendgrid.state.addCertificate({ integrationId: ENTRA_INTEGRATION, pem: entraKey.pem, enabled: true });
  const initial: Record<string, readonly CertificateRecord[]> = {
    [OKTA_INTEGRATION]: sendgrid.state.certificatesOf(OKTA_INTEGRATION),
    [ENTRA_INTEGRATION]: sendgrid.state.certificatesOf(ENTRA_INTEGRATION),
  };
  const since = clock.now();
  const env: Record<string, string> = {
    SENDGRID_API_KEY: TEST_API_KEY,
    OKTA_API_TOKEN: options.oktaToken ?? TEST_OKTA_TOKEN,
    ENTRA_CLIENT_SECRET: entraSecret,
  };

  const stateDir = join(dir, "state");
  const signing = { okta: oktaSigning(okta, TEST_APP_ID), entra: graphSigning(graph, TEST_SP_ID) };
  /** The config as a user writes it, `extra` on top; returns its path. */
  async function writeYaml(name: string, extra: Record<string, unknown>): Promise<string> {
    const file = join(dir, name);
    await writeFile(
      file,
      stringify({
        accounts: [{ name: "main", api_key_env: "SENDGRID_API_KEY", base_url: sendgrid.url }],
        listen: "127.0.0.1:0",
        state_dir: stateDir,
        log_level: "debug",
        http: { timeout: "5s", max_retries: 2, ...options.http },
        rotation: {
          enabled: true,
          overlap: "0s",
          ...options.rotation,
          integrations: [
            {
              match: { id: OKTA_INTEGRATION },
              source: {
                type: "okta",
                org_url: okta.url,
                app_id: TEST_APP_ID,
                api_token_env: "OKTA_API_TOKEN",
                ...options.okta,
              },
            },
            {
              match: { id: ENTRA_INTEGRATION },
              source: {
                type: "entra",
                tenant_id: TEST_TENANT_ID,
                client_id: WRITER.clientId,
                client_secret_env: "ENTRA_CLIENT_SECRET",
                service_principal_id: TEST_SP_ID,
                authority_url: graph.url,
                graph_url: graph.url,
                ...options.entra,
              },
            },
          ],
        },
        ...extra,
      }),
    );
    return file;
  }

  const world: IdpWorld = {
    dir,
    sendgrid,
    okta,
    graph,
    clock,
    logs,
    env,
    since,
    stateDir,
    async writeConfig() {
      const file = await writeYaml("config.yaml", {});
      const loaded = loadConfig({ file, env, cwd: dir });
      if (!loaded.ok) throw new Error(`config rejected:\n${loaded.problems.join("\n")}`);
      return loaded.config;
    },
    // At info the child logs JSON lines (debug is pretty-printed), which the harness reads.
    writeRunConfig: () => writeYaml("run.yaml", { schedule: "*/1 * * * * *", log_level: "info" }),
    keysGenerated: (idp) =>
      idp === "okta"
        ? okta.state.history.filter((e) => e.kind === "generate" && e.origin === "api").length
        : graph.state.history.filter((e) => e.kind === "certificate_added" && e.origin === "api").length,
    signingPem: (idp) => signing[idp].signingAt(clock.now()),
    async startDaemon(config) {
      const daemon = await startDaemon({
        config: config ?? (await world.writeConfig()),
        logger: logs.logger(),
        clock,
        schedule: false,
      });
      daemons.push(daemon);
      return daemon;
    },
    lockouts: () => ({
      okta: lockoutInstants(sendgrid, OKTA_INTEGRATION, initial[OKTA_INTEGRATION]!, signing.okta, since),
      entra: lockoutInstants(sendgrid, ENTRA_INTEGRATION, initial[ENTRA_INTEGRATION]!, signing.entra, since),
    }),
    async close() {
      for (const daemon of daemons.splice(0)) await daemon.stop(1_000);
      await Promise.all([sendgrid.close(), okta.close(), graph.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}
