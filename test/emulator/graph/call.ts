// HTTP calls to the Graph emulator over real sockets (undici): the token endpoint with a form body, and
// Graph with a bearer token.
import { request } from "undici";
import type { GraphEmulator } from "../../../src/emulator/graph/server.js";
import { TEST_TENANT_ID } from "../../helpers/start-graph-emulator.js";

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  /** The parsed body; undefined when empty. */
  readonly json: unknown;
}

async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Reply> {
  const response = await request(url, {
    method: method as "GET",
    headers,
    ...(body !== undefined && { body }),
  });
  const text = await response.body.text();
  const flat = Object.fromEntries(
    Object.entries(response.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(", ") : (value ?? ""),
    ]),
  );
  return {
    status: response.statusCode,
    headers: flat,
    text,
    json: text === "" ? undefined : (JSON.parse(text) as unknown),
  };
}

export function tokenRequest(
  emulator: GraphEmulator,
  form: Record<string, string>,
  options: { readonly tenant?: string; readonly method?: string; readonly contentType?: string } = {},
): Promise<Reply> {
  return send(
    `${emulator.url}/${options.tenant ?? TEST_TENANT_ID}/oauth2/v2.0/token`,
    options.method ?? "POST",
    { "content-type": options.contentType ?? "application/x-www-form-urlencoded" },
    options.method === "GET" ? undefined : new URLSearchParams(form).toString(),
  );
}

/** A fresh access token for the client, or throws. */
export async function accessToken(
  emulator: GraphEmulator,
  client: { readonly clientId: string; readonly clientSecret: string },
): Promise<string> {
  const reply = await tokenRequest(emulator, {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    scope: `${emulator.url}/.default`,
    grant_type: "client_credentials",
  });
  if (reply.status !== 200) throw new Error(`token request failed: ${reply.text}`);
  return (reply.json as { access_token: string }).access_token;
}

export function graph(
  emulator: GraphEmulator,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<Reply> {
  return send(
    `${emulator.url}${path}`,
    method,
    {
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  );
}

/** The `error` object of a Graph error body. */
export function graphErrorOf(reply: Reply): {
  code: string;
  message: string;
  innerError: Record<string, unknown>;
} {
  return (reply.json as { error: { code: string; message: string; innerError: Record<string, unknown> } })
    .error;
}
