// The SendGrid SSO endpoints (and the Teammates API's read of one teammate): matches a request to its
// route, validates the body and applies it to the state, returning status and JSON text. Knows nothing of
// sockets, auth, rate limits or faults. By default it answers as strictly as the published OpenAPI spec
// (twilio/sendgrid-oai, spec/yaml/tsg_sso_v3.yaml) allows; ApiBehaviour holds the lenient variants.

import type { z } from "zod";
import {
  certificateCreate,
  certificatePatch,
  checkBody,
  grantedScopes,
  integrationCreate,
  integrationPartialPatch,
  integrationPatch,
  teammateCreate,
  teammatePartialPatch,
  teammatePatch,
  teammateRuleErrors,
  type TeammateBody,
} from "./requests.js";
import type { EmulatorState, MutationOrigin, TeammateRecord } from "./state.js";
import type { ApiError, WireRenderer } from "./wire.js";

export const API_PREFIX = "/v3";

/** How the emulated API behaves where the spec is silent or the real service is known to be lenient. */
export interface ApiBehaviour {
  /**
   * The status of an unknown id. The spec documents no 404 for any SSO call, only 400 (default), so a
   * client must not take 404 as the only "not found"; 404 is the variant.
   */
  readonly notFoundStatus: 400 | 404;
  /** Accept a PATCH of an integration without all five fields the spec requires (default false). */
  readonly partialIntegrationPatch: boolean;
  /** Accept a PATCH of a teammate without first_name and last_name (default false). */
  readonly partialTeammatePatch: boolean;
  /** Check the teammate permission rules and adjust scopes as SendGrid does (default true). */
  readonly teammateRules: boolean;
}

export const DEFAULT_BEHAVIOUR: ApiBehaviour = {
  notFoundStatus: 400,
  partialIntegrationPatch: false,
  partialTeammatePatch: false,
  teammateRules: true,
};

export interface Api {
  answer(request: ApiRequest): ApiResponse;
  /** The route template a path matches (`GET /v3/sso/certificates/:cert_id`), or null; rate limits are per template. */
  templateOf(method: string, path: string): string | null;
}

export type RequestBody =
  | { readonly kind: "none" }
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "invalid"; readonly reason: string };

export interface ApiRequest {
  readonly method: string;
  /** The URL path as sent, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: RequestBody;
}

export interface ApiResponse {
  readonly status: number;
  /** JSON text, or null for an empty body (204). */
  readonly body: string | null;
  readonly headers?: Readonly<Record<string, string>>;
}

type Handler = (request: ApiRequest, params: readonly string[]) => ApiResponse;
type Method = "GET" | "POST" | "PATCH" | "DELETE";

interface Route {
  /** Segments after /v3/sso; ":" marks a parameter. */
  readonly segments: readonly string[];
  readonly handlers: Partial<Record<Method, Handler>>;
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function matchRoute(route: Route, segments: readonly string[]): string[] | null {
  if (route.segments.length !== segments.length) return null;
  const params: string[] = [];
  for (const [index, expected] of route.segments.entries()) {
    const actual = segments[index] as string;
    if (expected.startsWith(":")) {
      const decoded = decodeSegment(actual);
      if (decoded === null || decoded === "") return null;
      params.push(decoded);
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}

export function createApi(
  state: EmulatorState,
  wire: WireRenderer,
  behaviour: ApiBehaviour = DEFAULT_BEHAVIOUR,
): Api {
  const json = (status: number, body: string): ApiResponse => ({ status, body });
  const fail = (status: number, errors: readonly ApiError[]): ApiResponse =>
    json(status, wire.errors(errors));
  const notFound = (what: string, field: string | null = null): ApiResponse =>
    fail(behaviour.notFoundStatus, [{ message: `${what} not found`, field, errorId: "not_found" }]);
  const unknownRoute = (request: ApiRequest): ApiResponse =>
    fail(404, [
      { message: `route ${request.method} ${request.path} not found`, field: null, errorId: "not_found" },
    ]);
  const withCompleted = (request: ApiRequest): boolean => request.query.get("si") === "true";
  const originOf = (request: ApiRequest): MutationOrigin => ({
    method: request.method as MutationOrigin["method"],
    path: request.path,
  });

  /** Parses a POST/PATCH body with `schema`, or answers the 400 SendGrid would. */
  function bodyOf<T>(
    request: ApiRequest,
    schema: z.ZodType<T>,
  ): { ok: true; value: T } | { ok: false; response: ApiResponse } {
    const { body } = request;
    if (body.kind === "none") {
      return {
        ok: false,
        response: fail(400, [{ message: "request body is required", field: null, errorId: "invalid_body" }]),
      };
    }
    if (body.kind === "invalid") {
      return {
        ok: false,
        response: fail(400, [
          { message: `invalid JSON: ${body.reason}`, field: null, errorId: "invalid_json" },
        ]),
      };
    }
    const checked = checkBody(schema, body.value);
    return checked.ok ? checked : { ok: false, response: fail(400, checked.errors) };
  }

  const unknownIntegration = (id: string): ApiResponse =>
    fail(400, [
      {
        message: `integration ${id} does not exist`,
        field: "integration_id",
        errorId: "invalid_integration",
      },
    ]);

  /** The teammate rules, when on: the 400 SendGrid would answer, or null. */
  function teammateRefusal(value: TeammateBody): ApiResponse | null {
    if (!behaviour.teammateRules) return null;
    const errors = teammateRuleErrors(value);
    return errors.length > 0 ? fail(400, errors) : null;
  }

  function teammateInput(value: TeammateBody): Partial<Omit<TeammateRecord, "email">> {
    const scopes = (given: readonly string[]) => (behaviour.teammateRules ? grantedScopes(given) : given);
    return {
      ...(value.first_name !== undefined && { firstName: value.first_name }),
      ...(value.last_name !== undefined && { lastName: value.last_name }),
      ...(value.is_admin !== undefined && { isAdmin: value.is_admin }),
      ...(value.persona !== undefined && { persona: value.persona }),
      ...(value.scopes !== undefined && { scopes: scopes(value.scopes) }),
      ...(value.has_restricted_subuser_access !== undefined && {
        hasRestrictedSubuserAccess: value.has_restricted_subuser_access,
      }),
      ...(value.subuser_access !== undefined && {
        subuserAccess: value.subuser_access.map((access) => ({
          id: access.id,
          permissionType: access.permission_type,
          scopes: access.scopes ?? [],
        })),
      }),
    };
  }

  const routes: readonly Route[] = [
    {
      segments: ["sso", "integrations"],
      handlers: {
        GET: (request) => json(200, wire.integrations(state.listIntegrations(), withCompleted(request))),
        POST: (request) => {
          const body = bodyOf(request, integrationCreate);
          if (!body.ok) return body.response;
          const { value } = body;
          const record = state.addIntegration(
            {
              name: value.name,
              enabled: value.enabled ?? false,
              entityId: value.entity_id,
              signinUrl: value.signin_url,
              signoutUrl: value.signout_url,
              completedIntegration: value.completed_integration ?? false,
            },
            originOf(request),
          );
          return json(200, wire.createdIntegration(record, withCompleted(request)));
        },
      },
    },
    {
      segments: ["sso", "integrations", ":id"],
      handlers: {
        GET: (request, [id = ""]) => {
          const record = state.getIntegration(id);
          return record
            ? json(200, wire.integration(record, withCompleted(request)))
            : notFound("integration", "id");
        },
        PATCH: (request, [id = ""]) => {
          if (!state.getIntegration(id)) return notFound("integration", "id");
          const body = bodyOf(
            request,
            behaviour.partialIntegrationPatch ? integrationPartialPatch : integrationPatch,
          );
          if (!body.ok) return body.response;
          const { value } = body;
          const record = state.updateIntegration(
            id,
            {
              ...(value.name !== undefined && { name: value.name }),
              ...(value.enabled !== undefined && { enabled: value.enabled }),
              ...(value.entity_id !== undefined && { entityId: value.entity_id }),
              ...(value.signin_url !== undefined && { signinUrl: value.signin_url }),
              ...(value.signout_url !== undefined && { signoutUrl: value.signout_url }),
              ...(value.completed_integration !== undefined && {
                completedIntegration: value.completed_integration,
              }),
            },
            originOf(request),
          );
          return json(200, wire.integration(record, withCompleted(request)));
        },
        DELETE: (request, [id = ""]) => {
          if (!state.getIntegration(id)) return notFound("integration", "id");
          state.removeIntegration(id, originOf(request));
          return { status: 204, body: null };
        },
      },
    },
    {
      segments: ["sso", "integrations", ":integration_id", "certificates"],
      handlers: {
        GET: (_request, [id = ""]) =>
          state.getIntegration(id)
            ? json(200, wire.certificates(state.certificatesOf(id)))
            : notFound("integration", "integration_id"),
      },
    },
    {
      segments: ["sso", "certificates"],
      handlers: {
        POST: (request) => {
          const body = bodyOf(request, certificateCreate);
          if (!body.ok) return body.response;
          const { value } = body;
          if (!state.getIntegration(value.integration_id)) return unknownIntegration(value.integration_id);
          const record = state.addCertificate(
            {
              integrationId: value.integration_id,
              pem: value.public_certificate,
              enabled: value.enabled ?? false,
            },
            originOf(request),
          );
          return json(200, wire.certificate(record));
        },
      },
    },
    {
      segments: ["sso", "certificates", ":cert_id"],
      handlers: {
        GET: (_request, [id = ""]) => {
          const record = state.getCertificate(id);
          return record ? json(200, wire.certificate(record)) : notFound("certificate", "cert_id");
        },
        PATCH: (request, [id = ""]) => {
          if (!state.getCertificate(id)) return notFound("certificate", "cert_id");
          const body = bodyOf(request, certificatePatch);
          if (!body.ok) return body.response;
          const { value } = body;
          if (value.integration_id !== undefined && !state.getIntegration(value.integration_id)) {
            return unknownIntegration(value.integration_id);
          }
          const record = state.updateCertificate(
            id,
            {
              ...(value.public_certificate !== undefined && { pem: value.public_certificate }),
              ...(value.enabled !== undefined && { enabled: value.enabled }),
              ...(value.integration_id !== undefined && { integrationId: value.integration_id }),
            },
            originOf(request),
          );
          const answer = wire.patchedCertificate(record);
          return answer === null ? { status: 200, body: null } : json(200, answer);
        },
        DELETE: (request, [id = ""]) => {
          if (!state.getCertificate(id)) return notFound("certificate", "cert_id");
          return json(200, wire.certificate(state.removeCertificate(id, originOf(request))));
        },
      },
    },
    {
      segments: ["sso", "teammates"],
      handlers: {
        POST: (request) => {
          const body = bodyOf(request, teammateCreate);
          if (!body.ok) return body.response;
          const { value } = body;
          const refused = teammateRefusal(value);
          if (refused) return refused;
          if (state.teammates.has(value.email)) {
            return fail(400, [
              { message: `username ${value.email} already exists`, field: "email", errorId: "duplicate" },
            ]);
          }
          const record = state.addTeammate(
            { email: value.email, ...teammateInput({ scopes: [], ...value }) },
            originOf(request),
          );
          return json(201, wire.teammate(record, false));
        },
      },
    },
    {
      segments: ["sso", "teammates", ":username"],
      handlers: {
        PATCH: (request, [username = ""]) => {
          if (!state.teammates.has(username)) return notFound("teammate", "username");
          const body = bodyOf(request, behaviour.partialTeammatePatch ? teammatePartialPatch : teammatePatch);
          if (!body.ok) return body.response;
          const refused = teammateRefusal(body.value);
          if (refused) return refused;
          return json(
            200,
            wire.teammate(state.updateTeammate(username, teammateInput(body.value), originOf(request)), true),
          );
        },
      },
    },
    {
      // The Teammates API (spec/yaml/tsg_teammates_v3.yaml): the only read of one SSO teammate.
      segments: ["teammates", ":username"],
      handlers: {
        GET: (_request, [username = ""]) => {
          const record = state.teammates.get(username);
          return record ? json(200, wire.teammate(record, true)) : notFound("teammate", "username");
        },
      },
    },
  ];

  /** The route and its parameters for a path, or null. */
  function find(path: string): { route: Route; params: string[] } | null {
    const inside = path.startsWith(`${API_PREFIX}/`) ? path.slice(API_PREFIX.length + 1) : null;
    if (inside === null) return null;
    const segments = inside.replace(/\/$/, "").split("/");
    for (const route of routes) {
      const params = matchRoute(route, segments);
      if (params) return { route, params };
    }
    return null;
  }

  return {
    templateOf(method, path) {
      const found = find(path);
      return found ? `${method} ${API_PREFIX}/${found.route.segments.join("/")}` : null;
    },
    answer(request) {
      const found = find(request.path);
      if (!found) return unknownRoute(request);
      const { route, params } = found;
      // Own keys only: a method named like an Object.prototype member must not find one.
      const handler = Object.hasOwn(route.handlers, request.method)
        ? route.handlers[request.method as Method]
        : undefined;
      if (handler) return handler(request, params);
      return {
        ...fail(405, [
          { message: `method ${request.method} not allowed`, field: null, errorId: "method_not_allowed" },
        ]),
        headers: { Allow: Object.keys(route.handlers).join(", ") },
      };
    },
  };
}
