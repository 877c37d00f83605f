// `emulator`: the SendGrid SSO API emulator as a standalone server, for trying the tool without an
// account. Its API key comes from SENDGRID_API_KEY (default "SG.emulator"), so a config pointed at it
// works unchanged.

import { startEmulator, type Emulator } from "../../emulator/server.js";
import { loadSeedFile, type Seed } from "../../emulator/seeds.js";
import { UsageError, type ParsedArgs } from "../args.js";
import type { Io } from "../context.js";
import { untilSignal } from "../signals.js";

export const DEFAULT_EMULATOR_KEY = "SG.emulator";

export async function seedFrom(value: string | undefined): Promise<Seed> {
  if (value === undefined || value === "demo") return { kind: "demo" };
  if (value === "empty") return { kind: "empty" };
  return loadSeedFile(value);
}

export function emulatorPort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new UsageError(`--port must be 0-65535, not '${value}'`, "");
  return port;
}

export async function startCommandEmulator(
  io: Io,
  seed: Seed,
  host: string,
  port: number,
): Promise<Emulator> {
  return startEmulator({ apiKey: io.env.SENDGRID_API_KEY ?? DEFAULT_EMULATOR_KEY, seed, host, port });
}

export async function runEmulator(args: ParsedArgs, io: Io): Promise<number> {
  const seed = await seedFrom(typeof args.values.seed === "string" ? args.values.seed : undefined);
  const port = emulatorPort(typeof args.values.port === "string" ? args.values.port : undefined, 3030);
  const host = typeof args.values.host === "string" ? args.values.host : "127.0.0.1";
  const emulator = await startCommandEmulator(io, seed, host, port);
  const key = io.env.SENDGRID_API_KEY ? "the key in SENDGRID_API_KEY" : `"${DEFAULT_EMULATOR_KEY}"`;
  io.stdout.write(
    `SendGrid SSO API emulator listening on ${emulator.url} (bearer key: ${key})\n` +
      `Try: SENDGRID_API_BASE_URL=${emulator.url} SENDGRID_API_KEY=${io.env.SENDGRID_API_KEY ? "..." : DEFAULT_EMULATOR_KEY} sendgrid-sso-certs check\n`,
  );
  await untilSignal(() => process.exit(1));
  await emulator.close();
  return 0;
}
