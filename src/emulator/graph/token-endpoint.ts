// The emulated Microsoft identity platform token endpoint, `POST /{tenant}/oauth2/v2.0/token`, for the
// client credentials grant with a shared secret only. Follows "Microsoft identity platform and the OAuth
// 2.0 client credentials flow" (form parameters client_id, client_secret, scope = resource + "/.default",
// grant_type = client_credentials; success {token_type, expires_in, access_token}; failure {error,
// error_description, error_codes, timestamp, trace_id, correlation_id}) and the AADSTS codes of "Microsoft
// Entra authentication and authorization error codes". Never echoes a secret.

import type { ApiResponse } from "../routes.js";
import type { GraphEmulatorState } from "./state.js";
import type { TokenIssuer } from "./tokens.js";
import { stsError, tokenResponse, type RequestIds, type StsError } from "./wire.js";

export const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;

/** Microsoft Graph's well-known application id, accepted in place of its URL as the resource. */
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
const PUBLIC_GRAPH_URL = "https://graph.microsoft.com";

export interface TokenRequest {
  readonly method: string;
  readonly tenant: string;
  readonly contentType: string | undefined;
  readonly rawBody: string;
  readonly ids: RequestIds;
}

/** The form fields of a token request as the request log may show them: the secret replaced. */
export function loggableForm(rawBody: string): Record<string, string> {
  const fields = Object.fromEntries(new URLSearchParams(rawBody));
  if ("client_secret" in fields) fields.client_secret = "[REDACTED]";
  return fields;
}

function isForm(contentType: string | undefined): boolean {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() === "application/x-www-form-urlencoded";
}

export function createTokenEndpoint(
  state: GraphEmulatorState,
  tokens: TokenIssuer,
  tenantId: string,
  graphUrl: () => string,
): (request: TokenRequest) => ApiResponse {
  return (request) => {
    const fail = (status: number, failure: StsError): ApiResponse => ({
      status,
      body: stsError(failure, request.ids),
    });
    const missing = (name: string): ApiResponse =>
      fail(400, {
        error: "invalid_request",
        aadsts: 900144,
        description: `The request body must contain the following parameter: '${name}'.`,
      });

    if (request.method !== "POST") {
      return fail(400, {
        error: "invalid_request",
        aadsts: 900561,
        description: "The endpoint only accepts POST requests.",
      });
    }
    if (request.tenant.toLowerCase() !== tenantId.toLowerCase()) {
      return fail(400, {
        error: "invalid_request",
        aadsts: 90002,
        description: `Tenant '${request.tenant}' not found.`,
      });
    }
    // A body that is not form-encoded carries no parameters the endpoint can read.
    const form = new URLSearchParams(isForm(request.contentType) ? request.rawBody : "");
    const grantType = form.get("grant_type");
    if (!grantType) return missing("grant_type");
    if (grantType !== "client_credentials") {
      return fail(400, {
        error: "unsupported_grant_type",
        aadsts: 70003,
        description: `The app requested an unsupported grant type '${grantType}'.`,
      });
    }
    const clientId = form.get("client_id");
    if (!clientId) return missing("client_id");
    const scope = form.get("scope");
    if (!scope) return missing("scope");
    const client = state.client(clientId);
    if (!client) {
      return fail(400, {
        error: "unauthorized_client",
        aadsts: 700016,
        description: `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`,
      });
    }
    const secret = form.get("client_secret");
    if (!secret) {
      return fail(401, {
        error: "invalid_client",
        aadsts: 7000218,
        description:
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      });
    }
    if (secret !== client.clientSecret) {
      return fail(401, {
        error: "invalid_client",
        aadsts: 7000215,
        description: `Invalid client secret provided for app '${clientId}'.`,
      });
    }
    if (!scope.endsWith("/.default")) {
      return fail(400, {
        error: "invalid_scope",
        aadsts: 1002012,
        description: `The scope '${scope}' is not valid: client credential flows need the resource identifier suffixed with /.default.`,
      });
    }
    const resource = scope.slice(0, -"/.default".length);
    if (![graphUrl(), PUBLIC_GRAPH_URL, GRAPH_APP_ID].includes(resource)) {
      return fail(400, {
        error: "invalid_scope",
        aadsts: 70011,
        description: `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
      });
    }
    const issued = tokens.issue(client.clientId, client.roles);
    return { status: 200, body: tokenResponse(issued.accessToken, issued.expiresIn) };
  };
}
