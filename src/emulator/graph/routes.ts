// The emulated Microsoft Graph v1.0 service principal endpoints: authenticates the bearer token, checks
// the token's application roles, validates query and body, and applies the request to the state.
// Follows "Get servicePrincipal" ($select; Application.Read.All to read), "Update servicePrincipal"
// (PATCH -> 204; Application.ReadWrite.OwnedBy or .All to write), "servicePrincipal:
// addTokenSigningCertificate" (-> 200 selfSignedCertificate) and "Microsoft Graph error responses"
// (401 InvalidAuthenticationToken, 403 Authorization_RequestDenied, 404 Request_ResourceNotFound).
// Knows nothing of sockets or faults.

import { z } from "zod";
import type { ApiResponse, RequestBody } from "../routes.js";
import {
  GraphStateError,
  type GraphEmulatorState,
  type GraphRole,
  type ServicePrincipalRecord,
} from "./state.js";
import type { TokenGrant, TokenIssuer } from "./tokens.js";
import {
  SERVICE_PRINCIPAL_PROPERTIES,
  contextUrl,
  graphError,
  selfSignedCertificate,
  servicePrincipalObject,
  type RequestIds,
} from "./wire.js";

export const GRAPH_VERSION_PREFIX = "/v1.0";

export interface GraphRequest {
  readonly method: string;
  /** The URL path as sent, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: RequestBody;
  readonly authorization: string | undefined;
  readonly ids: RequestIds;
}

const READ_ALL: readonly GraphRole[] = [
  "Application.Read.All",
  "Application.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];
const WRITE_ALL: readonly GraphRole[] = ["Application.ReadWrite.All", "Directory.ReadWrite.All"];
const OWNED_BY: GraphRole = "Application.ReadWrite.OwnedBy";

const TOKEN_FAILURES = {
  missing: "Access token is empty.",
  invalid: "Access token validation failure. Invalid audience.",
  expired: "Lifetime validation failed, the token is expired.",
} as const;

// "servicePrincipals/{id}" or "servicePrincipals(appId='{appId}')", optionally "/addTokenSigningCertificate".
const ENTITY_PATH =
  /^\/servicePrincipals(?:\/(?<id>[^/()]+)|\(appId='(?<appId>[^']+)'\))(?:\/(?<action>[^/]+))?$/;

const addCertificateBody = z.strictObject({
  displayName: z.string(),
  endDateTime: z.iso.datetime({ offset: true }).optional(),
});

const patchBody = z.strictObject({
  preferredTokenSigningKeyThumbprint: z.string().nullable().optional(),
  displayName: z.string().min(1).optional(),
});

const READ_ONLY = new Set(["id", "appId", "keyCredentials", "passwordCredentials", "servicePrincipalType"]);

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function createGraphApi(
  state: GraphEmulatorState,
  tokens: TokenIssuer,
  graphUrl: () => string,
): (request: GraphRequest) => Promise<ApiResponse> {
  return async (request) => {
    const fail = (status: number, code: string, message: string): ApiResponse => ({
      status,
      body: graphError(code, message, request.ids),
    });
    const badRequest = (message: string) => fail(400, "Request_BadRequest", message);
    const denied = () =>
      fail(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
    const notFound = (id: string) =>
      fail(
        404,
        "Request_ResourceNotFound",
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    const json = (status: number, value: unknown): ApiResponse => ({ status, body: JSON.stringify(value) });

    const token = tokens.check(request.authorization);
    if (!token.ok) return fail(401, "InvalidAuthenticationToken", TOKEN_FAILURES[token.reason]);
    const grant = token.grant;

    if (!request.path.startsWith(`${GRAPH_VERSION_PREFIX}/`))
      return fail(400, "BadRequest", "Invalid version: only v1.0 is emulated.");
    const rest = request.path.slice(GRAPH_VERSION_PREFIX.length);

    const select = parseSelect(request.query);
    if (!select.ok) return badRequest(select.message);

    if (rest === "/servicePrincipals") {
      if (request.method !== "GET") return methodNotAllowed();
      const readAll = hasAny(grant, READ_ALL);
      if (!readAll && !grant.roles.includes(OWNED_BY)) return denied();
      const visible = state.servicePrincipals().filter((sp) => readAll || isOwner(grant, sp));
      return json(200, {
        "@odata.context": contextUrl(graphUrl(), select.value, false),
        value: visible.map((sp) => servicePrincipalObject(sp, select.value, false)),
      });
    }

    const match = ENTITY_PATH.exec(rest);
    const groups = match?.groups;
    if (!groups)
      return fail(400, "BadRequest", `Resource not found for the segment '${rest.split("/")[1] ?? ""}'.`);
    const key = groups.id !== undefined ? decode(groups.id) : decode(groups.appId ?? "");
    if (key === null || key === "") return badRequest("Invalid object identifier.");
    const action = groups.action;
    if (action !== undefined && action !== "addTokenSigningCertificate")
      return fail(400, "BadRequest", `Resource not found for the segment '${action}'.`);
    const write = request.method !== "GET";
    const allowed = action === undefined ? ["GET", "PATCH"] : ["POST"];
    if (!allowed.includes(request.method)) return methodNotAllowed();

    // A missing role is refused before the object is looked up: the token alone decides it.
    if (!hasAny(grant, write ? WRITE_ALL : READ_ALL) && !grant.roles.includes(OWNED_BY)) return denied();
    const sp = groups.id !== undefined ? state.servicePrincipal(key) : state.servicePrincipalByAppId(key);
    if (!sp) return notFound(key);
    if (!hasAny(grant, write ? WRITE_ALL : READ_ALL) && !isOwner(grant, sp)) return denied();

    if (request.method === "GET") {
      return json(200, {
        "@odata.context": contextUrl(graphUrl(), select.value, true),
        ...servicePrincipalObject(sp, select.value, true),
      });
    }

    const body = jsonObject(request.body);
    if (!body.ok) return badRequest(body.message);

    if (request.method === "PATCH") {
      const readOnly = Object.keys(body.value).find((name) => READ_ONLY.has(name));
      if (readOnly !== undefined) return badRequest(`Property '${readOnly}' is read-only and cannot be set.`);
      const parsed = patchBody.safeParse(body.value);
      if (!parsed.success)
        return badRequest(describeIssue(parsed.error, "type 'microsoft.graph.servicePrincipal'"));
      const patch = parsed.data;
      if (patch.displayName !== undefined) state.setDisplayName(sp.id, patch.displayName);
      if (patch.preferredTokenSigningKeyThumbprint !== undefined)
        state.setPreferredThumbprint(sp.id, patch.preferredTokenSigningKeyThumbprint, "api");
      return { status: 204, body: null };
    }

    const parsed = addCertificateBody.safeParse(body.value);
    if (!parsed.success)
      return badRequest(describeIssue(parsed.error, "action 'addTokenSigningCertificate'"));
    const requested = {
      displayName: parsed.data.displayName,
      ...(parsed.data.endDateTime !== undefined && { endDateTime: new Date(parsed.data.endDateTime) }),
    };
    try {
      const created = await state.addTokenSigningCertificate(sp.id, requested, "api");
      return { status: 200, body: selfSignedCertificate(created, graphUrl()) };
    } catch (error) {
      if (error instanceof GraphStateError && error.code !== "not_found") return badRequest(error.message);
      throw error;
    }

    function methodNotAllowed(): ApiResponse {
      return fail(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
    }
  };
}

function hasAny(grant: TokenGrant, roles: readonly GraphRole[]): boolean {
  return roles.some((role) => grant.roles.includes(role));
}

function isOwner(grant: TokenGrant, sp: ServicePrincipalRecord): boolean {
  return grant.roles.includes(OWNED_BY) && sp.owners.includes(grant.clientId);
}

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** `$select` names properties case-insensitively; any other system query option is not emulated. */
function parseSelect(query: URLSearchParams): Parsed<readonly string[] | null> {
  for (const name of query.keys()) {
    if (name.startsWith("$") && name !== "$select")
      return { ok: false, message: `Query option '${name}' is not supported by the emulator.` };
  }
  const raw = query.get("$select");
  if (raw === null) return { ok: true, value: null };
  const names: string[] = [];
  for (const part of raw.split(",")) {
    const wanted = part.trim();
    const known = SERVICE_PRINCIPAL_PROPERTIES.find((name) => name.toLowerCase() === wanted.toLowerCase());
    if (known === undefined) {
      return {
        ok: false,
        message: `Parsing OData Select and Expand failed: Could not find a property named '${wanted}' on type 'microsoft.graph.servicePrincipal'.`,
      };
    }
    if (!names.includes(known)) names.push(known);
  }
  return { ok: true, value: names };
}

function jsonObject(body: RequestBody): Parsed<Record<string, unknown>> {
  const unreadable =
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.";
  if (body.kind !== "json") return { ok: false, message: unreadable };
  const value = body.value;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, message: unreadable };
  return { ok: true, value: value as Record<string, unknown> };
}

/** `target`: what the properties belong to, for the message. */
function describeIssue(error: z.ZodError, target: string): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid request body.";
  if (issue.code === "unrecognized_keys")
    return `Property '${issue.keys[0] ?? ""}' does not exist on ${target}.`;
  const field = issue.path.map(String).join(".") || "body";
  return `Invalid value for property '${field}': ${issue.message}.`;
}
