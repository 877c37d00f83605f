// What the emulator holds at start: nothing, the demo account, or a JSON seed (validated with zod, every
// problem named by its JSON path). Certificates are generated relative to the injected `now`, never read
// from checked-in files. Never starts a server.

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { generateCertificate } from "../certs/generate.js";
import { parseCertificate } from "../certs/parse.js";
import { InvalidSeedError, type SeedProblem } from "./seed-error.js";
import type { EmulatorState, NewIntegration } from "./state.js";
import { DAY_MS } from "../core/durations.js";

const certificateSeed = z
  .object({
    pem: z.string().optional(),
    generate: z
      .object({ cn: z.string().min(1), not_before_days: z.number(), not_after_days: z.number() })
      .strict()
      .optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

const integrationSeed = z
  .object({
    id: z.string().min(1).optional(),
    name: z.string().min(1),
    enabled: z.boolean().optional(),
    entity_id: z.string().optional(),
    signin_url: z.string().optional(),
    signout_url: z.string().optional(),
    completed_integration: z.boolean().optional(),
    certificates: z.array(certificateSeed).default([]),
  })
  .strict();

const seedData = z.object({ integrations: z.array(integrationSeed) }).strict();

export type SeedData = z.input<typeof seedData>;
export type Seed =
  { readonly kind: "empty" } | { readonly kind: "demo" } | { readonly kind: "data"; readonly data: SeedData };

/** What a seed turns into: ready to add to a state, certificates already generated. */
export type SeedPlan = readonly {
  readonly integration: NewIntegration;
  readonly certificates: readonly { readonly pem: string; readonly enabled: boolean }[];
}[];

/** Stable ids so documentation and demo scripts can name the demo integrations. */
export const DEMO_INTEGRATION_IDS = {
  okta: "6f1c2a4e-8d0b-4e59-9a3c-0c0a0d0e0001",
  entra: "6f1c2a4e-8d0b-4e59-9a3c-0c0a0d0e0002",
  duo: "6f1c2a4e-8d0b-4e59-9a3c-0c0a0d0e0003",
} as const;

const ENTRA_TENANT = "0b3c1e7a-5d2f-4c1b-8e6a-2f9d4b7c1a00";

/** Healthy Okta (~300 days left), Entra ID expiring in ~5 days, Duo whose only certificate expired 3 days ago. */
export const DEMO_SEED_DATA: SeedData = {
  integrations: [
    {
      id: DEMO_INTEGRATION_IDS.okta,
      name: "Okta",
      entity_id: "http://www.okta.com/exk1demo0kta5s2Y4x7",
      signin_url: "https://dev-12345.okta.com/app/dev-12345_sendgrid_1/exk1demo0kta5s2Y4x7/sso/saml",
      signout_url: "https://dev-12345.okta.com/login/signout",
      certificates: [{ generate: { cn: "dev-12345.okta.com", not_before_days: -65, not_after_days: 300 } }],
    },
    {
      id: DEMO_INTEGRATION_IDS.entra,
      name: "Entra ID",
      entity_id: `https://sts.windows.net/${ENTRA_TENANT}/`,
      signin_url: `https://login.microsoftonline.com/${ENTRA_TENANT}/saml2`,
      signout_url: `https://login.microsoftonline.com/${ENTRA_TENANT}/saml2`,
      certificates: [
        {
          generate: {
            cn: "Microsoft Azure Federated SSO Certificate",
            not_before_days: -1090,
            not_after_days: 5,
          },
        },
      ],
    },
    {
      id: DEMO_INTEGRATION_IDS.duo,
      name: "Duo",
      entity_id: "https://sso-demo.sso.duosecurity.com/saml2/sp/DIDEMO00000000000000/metadata",
      signin_url: "https://sso-demo.sso.duosecurity.com/saml2/sp/DIDEMO00000000000000/sso",
      signout_url: "https://sso-demo.sso.duosecurity.com/saml2/sp/DIDEMO00000000000000/slo",
      certificates: [
        { generate: { cn: "sso-demo.sso.duosecurity.com", not_before_days: -368, not_after_days: -3 } },
      ],
    },
  ],
};

function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) =>
      typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`,
    "",
  );
}

type GenerateSpec = {
  readonly cn: string;
  readonly not_before_days: number;
  readonly not_after_days: number;
};
type CheckedCertificate = { readonly enabled: boolean } & (
  { readonly pem: string } | { readonly generate: GenerateSpec }
);
type CheckedIntegration = Omit<z.output<typeof integrationSeed>, "certificates"> & {
  readonly certificates: readonly CheckedCertificate[];
};

function checkCertificate(
  certificate: z.output<typeof certificateSeed>,
  at: string,
  problems: SeedProblem[],
): CheckedCertificate | null {
  const { pem, generate, enabled = true } = certificate;
  if (pem !== undefined && generate === undefined) {
    const parsed = parseCertificate(pem);
    if (parsed.ok) return { pem, enabled };
    problems.push({ path: `${at}.pem`, message: parsed.failure.message });
  } else if (generate !== undefined && pem === undefined) {
    if (generate.not_before_days < generate.not_after_days) return { generate, enabled };
    problems.push({ path: `${at}.generate`, message: "not_before_days must be before not_after_days" });
  } else {
    problems.push({ path: at, message: 'needs exactly one of "pem" or "generate"' });
  }
  return null;
}

/** Validates seed data: shape by schema, then what a schema cannot say (one certificate source, PEMs, ids). */
function checkSeedData(data: unknown, source: string): readonly CheckedIntegration[] {
  const result = seedData.safeParse(data);
  if (!result.success) {
    throw new InvalidSeedError(
      source,
      result.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message })),
    );
  }
  const problems: SeedProblem[] = [];
  const ids = new Set<string>();
  const integrations = result.data.integrations.map((integration, i) => {
    if (integration.id !== undefined) {
      if (ids.has(integration.id))
        problems.push({ path: `integrations[${i}].id`, message: "duplicate integration id" });
      ids.add(integration.id);
    }
    const certificates = integration.certificates
      .map((certificate, j) =>
        checkCertificate(certificate, `integrations[${i}].certificates[${j}]`, problems),
      )
      .filter((certificate): certificate is CheckedCertificate => certificate !== null);
    return { ...integration, certificates };
  });
  if (problems.length > 0) throw new InvalidSeedError(source, problems);
  return integrations;
}

/** Reads and fully validates a JSON seed file; throws InvalidSeedError naming the file and JSON paths. */
export async function loadSeedFile(path: string): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new InvalidSeedError(path, [
      { path: "", message: `cannot read file: ${(error as Error).message}` },
    ]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InvalidSeedError(path, [{ path: "", message: `not JSON: ${(error as Error).message}` }]);
  }
  checkSeedData(data, path);
  return { kind: "data", data: data as SeedData };
}

/** Turns a seed into integrations and generated certificates, dated relative to `now`. */
export async function buildSeed(seed: Seed, now: Date): Promise<SeedPlan> {
  if (seed.kind === "empty") return [];
  const integrations = checkSeedData(seed.kind === "demo" ? DEMO_SEED_DATA : seed.data, "seed data");
  const at = (days: number): Date => new Date(now.getTime() + days * DAY_MS);
  const pemOf = async (certificate: CheckedCertificate): Promise<string> =>
    "pem" in certificate
      ? certificate.pem
      : (
          await generateCertificate({
            commonName: certificate.generate.cn,
            notBefore: at(certificate.generate.not_before_days),
            notAfter: at(certificate.generate.not_after_days),
          })
        ).pem;
  return Promise.all(
    integrations.map(async (integration) => ({
      integration: {
        ...(integration.id !== undefined && { id: integration.id }),
        name: integration.name,
        enabled: integration.enabled ?? true,
        ...(integration.entity_id !== undefined && { entityId: integration.entity_id }),
        ...(integration.signin_url !== undefined && { signinUrl: integration.signin_url }),
        ...(integration.signout_url !== undefined && { signoutUrl: integration.signout_url }),
        completedIntegration: integration.completed_integration ?? true,
      },
      certificates: await Promise.all(
        integration.certificates.map(async (certificate) => ({
          enabled: certificate.enabled,
          pem: await pemOf(certificate),
        })),
      ),
    })),
  );
}

/** Adds a built seed to the state directly: seeding is not an HTTP mutation and leaves no history. */
export function applySeed(state: EmulatorState, plan: SeedPlan): void {
  for (const { integration, certificates } of plan) {
    const record = state.addIntegration(integration);
    for (const certificate of certificates)
      state.addCertificate({ integrationId: record.id, ...certificate });
  }
}
