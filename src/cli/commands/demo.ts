// `demo`: the whole tool in one command, offline. Starts the emulator seeded with `demo`, writes a
// replacement certificate for the expiring "Entra ID" integration into a file source and a config that
// rotates it, then runs the daemon against it with a fast schedule, so a real rotation (upload, verify,
// and after a short overlap, disable) happens within a minute in the log and on the status page. Beside
// it the Okta emulator holds three apps (demo-okta.ts): a managed key rollover, an admin's new key
// trusted before it signs, and a lockout the detector shows.

import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCertificate, type GeneratedCertificate } from "../../certs/generate.js";
import { loadConfig } from "../../config/load.js";
import { startDaemon } from "../../daemon.js";
import type { ParsedArgs } from "../args.js";
import { ConfigError } from "../config-error.js";
import type { Io } from "../context.js";
import { createLogger } from "../../log.js";
import { untilSignal } from "../signals.js";
import { DEMO_OKTA_TOKEN, startOktaDemo, type OktaDemo } from "./demo-okta.js";
import { DEFAULT_EMULATOR_KEY, emulatorPort, startCommandEmulator } from "./emulator.js";

import { DAY_MS } from "../../core/durations.js";

/** A fresh certificate for the demo seed's expiring "Entra ID" integration, valid for three years. */
export function demoReplacement(now: Date): Promise<GeneratedCertificate> {
  return generateCertificate({
    commonName: "Microsoft Azure Federated SSO Certificate",
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 3 * 365 * DAY_MS),
    key: { kind: "rsa", bits: 2048 },
  });
}

function demoConfig(emulatorUrl: string, listen: string, oktaRules: string): string {
  return `# Written by \`sendgrid-sso-certs demo\`: the daemon against the built-in emulator.
accounts:
  - name: demo
    api_key_env: SENDGRID_API_KEY
    base_url: ${emulatorUrl}
schedule: "*/10 * * * * *"     # every 10 seconds (six fields: seconds first)
listen: "${listen}"
state_dir: ./state
rotation:
  enabled: true
  overlap: 30s                 # keep the old certificate 30 s after the new one is verified
  delete_disabled_after: 2m
  integrations:
    - match: { name: "Entra ID" }
      source: { type: file, path: ./certs }
${oktaRules}
`;
}

export async function runDemo(args: ParsedArgs, io: Io): Promise<number> {
  const port = emulatorPort(typeof args.values.port === "string" ? args.values.port : undefined, 9469);
  const apiPort = emulatorPort(
    typeof args.values["emulator-port"] === "string" ? args.values["emulator-port"] : undefined,
    0,
  );
  const dir = await mkdtemp(join(tmpdir(), "sendgrid-sso-certs-demo-"));
  const emulator = await startCommandEmulator(io, { kind: "demo" }, "127.0.0.1", apiPort);
  let okta: OktaDemo | null = null;
  try {
    okta = await startOktaDemo(emulator, "127.0.0.1");
    const replacement = await demoReplacement(new Date());
    await mkdir(join(dir, "certs"));
    await writeFile(join(dir, "certs", "entra-next.pem"), replacement.pem);
    const file = join(dir, "config.yaml");
    await writeFile(file, demoConfig(emulator.url, `127.0.0.1:${port}`, okta.rules));
    const env = {
      ...io.env,
      SENDGRID_API_KEY: io.env.SENDGRID_API_KEY ?? DEFAULT_EMULATOR_KEY,
      OKTA_API_TOKEN: DEMO_OKTA_TOKEN,
    };
    const loaded = loadConfig({ file, env, cwd: dir });
    if (!loaded.ok) throw new ConfigError(loaded.problems);
    const config = loaded.config;
    const logger = createLogger({ level: config.logLevel, pretty: true, destination: io.stdout });
    const daemon = await startDaemon({ config, logger });
    io.stdout.write(`
  sendgrid-sso-certs demo
  status page   ${daemon.url}/
  metrics       ${daemon.url}/metrics
  inventory     ${daemon.url}/api/v1/inventory
  emulator      ${emulator.url}  (bearer key ${env.SENDGRID_API_KEY === DEFAULT_EMULATOR_KEY ? DEFAULT_EMULATOR_KEY : "from SENDGRID_API_KEY"})
  Okta emulator ${okta.emulator.url}  (SSWS token ${DEMO_OKTA_TOKEN})
  config        ${file}

  Okta is healthy, "Entra ID" expires in 5 days and is rotated to ${join(dir, "certs", "entra-next.pem")}
  right away (the old certificate is disabled 30 s later), Duo's only certificate has expired.
  "Okta Workforce" signs with a key that expires in 5 days: the daemon generates a new key at Okta,
  uploads and verifies it in SendGrid, only then makes Okta sign with it, and disables the old one 30 s
  later. "Okta Partners": an admin adds a key in the Okta console after 20 s; SendGrid trusts it before
  the admin activates it at 60 s. "Okta Legacy": the admin switched back to an expired key; SendGrid
  cannot trust it, so logins fail, and the status page says so in red.
  Ctrl-C stops everything.

`);
    const stopAdmin = okta.startConsoleAdmin((message) => logger.info(message));
    await untilSignal(() => process.exit(1));
    stopAdmin();
    await daemon.stop();
    io.stdout.write("demo stopped\n");
    return 0;
  } finally {
    await okta?.emulator.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
