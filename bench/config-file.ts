// The product's YAML configuration as the bench's processes get it: one account on the emulator, the
// concurrency, schedule and metrics options of the measure, and optionally one rotation rule with a
// `file` source holding a fresh certificate (cert-manager's layout: tls.crt, and tls.key beside it,
// which the source ignores), as docs/rotation.md describes.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { generateCertificate } from "../src/certs/generate.js";
import { ROTATE_BEFORE_DAYS } from "./certs.js";
import { DAY_MS } from "../src/core/durations.js";

/** The environment variable the configuration reads the emulator's API key from. */
export const KEY_ENV = "BENCH_SENDGRID_API_KEY";
/** Once a year: only the scan the daemon runs at start-up happens. */
export const ONCE_A_YEAR = "0 0 1 1 *";

export interface BenchConfig {
  readonly emulatorUrl: string;
  readonly stateDir: string;
  /** http.max_concurrency. */
  readonly concurrency: number;
  /** node-cron expression; defaults to ONCE_A_YEAR. */
  readonly schedule?: string;
  readonly exposeRelative?: boolean;
  /** One rule: the integration named so rotates from the file source at `path` (pick it with soonestExpiring). */
  readonly rotation?: { readonly integration: string; readonly path: string };
}

export function configDocument(config: BenchConfig): Record<string, unknown> {
  return {
    accounts: [{ name: "bench", api_key_env: KEY_ENV, base_url: config.emulatorUrl }],
    schedule: config.schedule ?? ONCE_A_YEAR,
    listen: "127.0.0.1:0",
    state_dir: config.stateDir,
    log_level: "info",
    http: { max_concurrency: config.concurrency },
    metrics: { expose_relative: config.exposeRelative ?? false },
    ...(config.rotation && {
      rotation: {
        enabled: true,
        // Upload, verify and disable in one cycle: the journal shows the whole rotation.
        overlap: "0s",
        rotate_before: `${ROTATE_BEFORE_DAYS}d`,
        integrations: [
          {
            match: { name: config.rotation.integration },
            source: { type: "file", path: config.rotation.path },
          },
        ],
      },
    }),
  };
}

/** Writes the configuration to `file`, returns `file`. */
export async function writeConfig(file: string, config: BenchConfig): Promise<string> {
  await writeFile(file, stringify(configDocument(config)));
  return file;
}

/** A directory `certs` in `dir` holding tls.crt (valid for 700 days from yesterday) and tls.key; returns tls.crt. */
export async function writeFileSource(dir: string, commonName: string): Promise<string> {
  const certs = join(dir, "certs");
  await mkdir(certs, { recursive: true });
  const now = Date.now();
  const fresh = await generateCertificate({
    commonName,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 700 * DAY_MS),
  });
  await writeFile(join(certs, "tls.crt"), fresh.pem);
  await writeFile(join(certs, "tls.key"), fresh.privateKeyPem, { mode: 0o600 });
  return join(certs, "tls.crt");
}
