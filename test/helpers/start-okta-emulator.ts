// Starts an Okta emulator on 127.0.0.1, port 0, with one SAML app (one active key) and one read-only
// token, for one test file or test. Closing it is the caller's job; tokens and ids are fixed test values,
// never real ones.
import {
  startOktaEmulator,
  type OktaEmulator,
  type OktaEmulatorOptions,
} from "../../src/emulator/okta/server.js";

export const TEST_OKTA_TOKEN = "00okta-manage-TEST-token_value1";
export const READ_ONLY_OKTA_TOKEN = "00okta-read-TEST-token_value2";
export const TEST_APP_ID = "0oatestsendgrid0001";
export const TEST_ORG_NAME = "dev-12345678";

/** Settings a real SAML app carries; an activation must leave every one of them as it was. */
export const TEST_APP_SETTINGS = {
  app: {},
  notifications: { vpn: { network: { connection: "DISABLED" }, message: null, helpUrl: null } },
  signOn: {
    defaultRelayState: "",
    ssoAcsUrl: "https://api.sendgrid.com/v3/sso/saml/acs",
    audience: "https://api.sendgrid.com",
    subjectNameIdFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    responseSigned: true,
    assertionSigned: true,
    attributeStatements: [{ type: "EXPRESSION", name: "email", values: ["user.email"] }],
  },
};

export async function startTestOktaEmulator(
  options: Partial<OktaEmulatorOptions> = {},
): Promise<OktaEmulator> {
  const emulator = await startOktaEmulator({
    apiToken: TEST_OKTA_TOKEN,
    readOnlyTokens: [READ_ONLY_OKTA_TOKEN],
    orgName: TEST_ORG_NAME,
    host: "127.0.0.1",
    port: 0,
    seedRandom: 1,
    ...options,
  });
  await emulator.state.addApp({
    id: TEST_APP_ID,
    name: "sendgrid",
    label: "SendGrid SSO",
    settings: TEST_APP_SETTINGS,
    validityYears: 2,
  });
  return emulator;
}
