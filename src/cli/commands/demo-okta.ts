// The demo's Okta org: three SAML apps in the Okta emulator, each behind a SendGrid integration of the
// demo account, showing the IdP side of the tool. "Okta Workforce" signs with a key that expires in 5
// days and has manage_keys on: the daemon rolls it over (generate -> upload -> verify -> activate ->
// confirm, then disable). "Okta Partners" is rekeyed by a scripted console admin: a new key generated
// after 20 s is trusted in SendGrid before the admin activates it 40 s later. "Okta Legacy" signs with a
// key that expired last week: SendGrid holds only the previous one, the tool refuses to upload an expired
// certificate, and the lockout detector shows the lockout.

import { DAY_MS } from "../../core/durations.js";
import { startOktaEmulator, type OktaEmulator } from "../../emulator/okta/server.js";
import type { Emulator } from "../../emulator/server.js";

export const DEMO_OKTA_TOKEN = "00demo-okta-api-token";

const APPS = {
  workforce: { id: "0oademoworkforce0001", integration: "Okta Workforce" },
  partners: { id: "0oademopartners00002", integration: "Okta Partners" },
  legacy: { id: "0oademolegacy0000003", integration: "Okta Legacy" },
} as const;

const CONSOLE_GENERATE_MS = 20_000;
const CONSOLE_ACTIVATE_MS = 60_000;

export interface OktaDemo {
  readonly emulator: OktaEmulator;
  /** The rotation rules of the demo config, as YAML list items. */
  readonly rules: string;
  /** Starts the scripted console admin of "Okta Partners"; returns its stop. */
  startConsoleAdmin(say: (message: string) => void): () => void;
}

/**
 * Starts the Okta emulator with the three apps and adds their integrations, trusting each app's
 * current key as a real org would, to the SendGrid emulator.
 */
export async function startOktaDemo(sendgrid: Emulator, host: string): Promise<OktaDemo> {
  // Keys are made for 2..10 years from the org's clock: made in the past, they expire soon or did.
  let shiftMs = 0;
  const emulator = await startOktaEmulator({
    apiToken: DEMO_OKTA_TOKEN,
    orgName: "dev-demo",
    host,
    port: 0,
    now: () => new Date(Date.now() - shiftMs),
  });
  const { state } = emulator;
  const made = async (appId: string, label: string, expiresInDays: number) => {
    shiftMs = 2 * 365 * DAY_MS - expiresInDays * DAY_MS;
    const app = await state.addApp({ id: appId, name: "sendgrid", label, validityYears: 2 });
    shiftMs = 0;
    return app.keys.find((k) => k.kid === app.activeKid)!;
  };
  const trust = (integration: string, pem: string) => {
    const { id } = sendgrid.state.addIntegration({ name: integration });
    sendgrid.state.addCertificate({ integrationId: id, pem, enabled: true });
  };

  trust(APPS.workforce.integration, (await made(APPS.workforce.id, "SendGrid (workforce)", 5)).pem);
  trust(APPS.partners.integration, (await made(APPS.partners.id, "SendGrid (partners)", 400)).pem);
  // Legacy: SendGrid trusts its current key; then the admin switched back to one that expired.
  const legacyCurrent = await made(APPS.legacy.id, "SendGrid (legacy)", 300);
  trust(APPS.legacy.integration, legacyCurrent.pem);
  shiftMs = 2 * 365 * DAY_MS + 7 * DAY_MS;
  const expired = await state.generateKey(APPS.legacy.id, 2);
  shiftMs = 0;
  state.activateKey(APPS.legacy.id, expired.kid);

  const rule = (
    app: { id: string; integration: string },
    manageKeys: boolean,
  ) => `    - match: { name: "${app.integration}" }
      source:
        type: okta
        org_url: ${emulator.url}
        app_id: ${app.id}
        api_token_env: OKTA_API_TOKEN
        manage_keys: ${manageKeys}`;

  return {
    emulator,
    rules: [rule(APPS.workforce, true), rule(APPS.partners, false), rule(APPS.legacy, false)].join("\n"),
    startConsoleAdmin(say) {
      let next: string | null = null;
      const generate = setTimeout(() => {
        void state.generateKey(APPS.partners.id, 2).then((key) => {
          next = key.kid;
          say(
            `[Okta console] an admin generated a new signing key ${key.kid.slice(0, 12)}… for "Okta Partners" (not active yet)`,
          );
        });
      }, CONSOLE_GENERATE_MS);
      const activate = setTimeout(() => {
        if (next === null) return;
        state.activateKey(APPS.partners.id, next);
        say(`[Okta console] the admin made key ${next.slice(0, 12)}… the signing key of "Okta Partners"`);
      }, CONSOLE_ACTIVATE_MS);
      return () => {
        clearTimeout(generate);
        clearTimeout(activate);
      };
    },
  };
}
