// Starts a Graph/Entra emulator on 127.0.0.1, port 0, with one read-write and one read-only client and
// one SAML service principal, for one test file or test. Closing it is the caller's job; ids and secrets
// are fixed test values, never real ones.
import {
  startGraphEmulator,
  type GraphEmulator,
  type GraphEmulatorOptions,
} from "../../src/emulator/graph/server.js";

export const TEST_TENANT_ID = "00000000-0000-4000-8000-00000000abcd";
export const WRITER = {
  clientId: "11111111-0000-4000-8000-000000000001",
  clientSecret: "writer~secret.value-1",
};
export const READER = {
  clientId: "11111111-0000-4000-8000-000000000002",
  clientSecret: "reader~secret.value-2",
};
export const TEST_SP_ID = "22222222-0000-4000-8000-000000000001";

export async function startTestGraphEmulator(
  options: Partial<GraphEmulatorOptions> = {},
): Promise<GraphEmulator> {
  const emulator = await startGraphEmulator({
    tenantId: TEST_TENANT_ID,
    clients: [
      { ...WRITER, roles: ["Application.ReadWrite.All"] },
      { ...READER, roles: ["Application.Read.All"] },
    ],
    host: "127.0.0.1",
    port: 0,
    seedRandom: 1,
    ...options,
  });
  emulator.state.addServicePrincipal({ id: TEST_SP_ID, displayName: "SendGrid SSO" });
  return emulator;
}

/** Adds a signing certificate "in the portal" and, when `activate`, makes it the one that signs. */
export async function addPortalCertificate(
  emulator: GraphEmulator,
  options: { readonly activate?: boolean; readonly endDateTime?: Date; readonly cn?: string } = {},
): Promise<{ thumbprint: string; pem: string }> {
  const created = await emulator.state.addTokenSigningCertificate(TEST_SP_ID, {
    displayName: `CN=${options.cn ?? "Microsoft Azure Federated SSO Certificate"}`,
    ...(options.endDateTime && { endDateTime: options.endDateTime }),
  });
  if (options.activate) emulator.state.setPreferredThumbprint(TEST_SP_ID, created.thumbprint);
  return { thumbprint: created.thumbprint, pem: created.pem };
}
