// A rotation bench (test/rotation/bench.ts) with integrations that are due: each has an enabled
// certificate expiring in a few days and its own file source offering a fresh one. Also reads the
// emulator's log the way the reliability tests need it: which integration a request concerns.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { EmulatorOptions, RequestLogEntry } from "../../src/emulator/server.js";
import { makeCert } from "../helpers/make-cert.js";
import { openBench, type Bench, type ConfigSpec } from "../rotation/bench.js";

export interface DueIntegration {
  readonly id: string;
  readonly old: GeneratedCertificate;
  readonly next: GeneratedCertificate;
  readonly oldId: string;
}

export interface DueWorld {
  readonly bench: Bench;
  readonly integrations: readonly DueIntegration[];
  readonly configFile: string;
}

export interface DueWorldOptions {
  readonly integrations?: number;
  readonly emulator?: Partial<EmulatorOptions>;
  /** Merged over the bench's defaults; `rotation.integrations` is set here, one file rule per integration. */
  readonly config?: ConfigSpec;
}

export async function openDueWorld(options: DueWorldOptions = {}): Promise<DueWorld> {
  const bench = await openBench(options.emulator ?? {});
  try {
    const now = bench.clock.now();
    const integrations: DueIntegration[] = [];
    for (let i = 0; i < (options.integrations ?? 1); i++) {
      const id = `int-${i}`;
      const old = await makeCert({ cn: `${id}-old`, now, fromDays: -360, toDays: 5 });
      const next = await makeCert({ cn: `${id}-next`, now, fromDays: -1, toDays: 730 });
      bench.emulator.state.addIntegration({ id, name: `IdP ${i}` });
      const record = bench.emulator.state.addCertificate({ integrationId: id, pem: old.pem, enabled: true });
      await mkdir(join(bench.certsDir, id));
      await writeFile(join(bench.certsDir, id, "next.pem"), next.pem);
      integrations.push({ id, old, next, oldId: String(record.id) });
    }
    const configFile = await bench.writeConfig({
      ...options.config,
      rotation: {
        ...options.config?.rotation,
        integrations: integrations.map((integration) => ({
          match: { id: integration.id },
          source: { type: "file" as const, path: join(bench.certsDir, integration.id) },
        })),
      },
    });
    return { bench, integrations, configFile };
  } catch (error) {
    await bench.close();
    throw error;
  }
}

const LISTING = /^\/v3\/sso\/integrations\/([^/]+)\/certificates$/;
const CERTIFICATE = /^\/v3\/sso\/certificates\/(\d+)$/;

/** The integration a request concerns, or null for the integration list. */
export function integrationOf(world: DueWorld, entry: RequestLogEntry): string | null {
  const listed = LISTING.exec(entry.path)?.[1];
  if (listed !== undefined) return decodeURIComponent(listed);
  if (entry.method === "POST" && entry.path === "/v3/sso/certificates") {
    const body = entry.body as { integration_id?: unknown } | null;
    return typeof body?.integration_id === "string" ? body.integration_id : null;
  }
  const certificateId = CERTIFICATE.exec(entry.path)?.[1];
  if (certificateId === undefined) return null;
  return (
    world.integrations.find((integration) =>
      world.bench.emulator.state.certificatesOf(integration.id).some((c) => String(c.id) === certificateId),
    )?.id ?? null
  );
}

export function isListing(entry: RequestLogEntry): boolean {
  return entry.method === "GET" && LISTING.test(entry.path);
}

export function isMutation(entry: RequestLogEntry): boolean {
  return entry.method !== "GET";
}
