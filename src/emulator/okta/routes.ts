// The emulated Okta Management API routes the tool uses: read an app, replace it (the PUT that activates a
// key), list, read and generate its key credentials, and its SAML metadata; plus the public metadata URL.
// Checks the SSWS token and its permission per route; the rate limit and faults are the server's.
// Strict by default, as the docs describe; lenient variants only through OktaQuirks.
//
// Follows the Okta Management API reference, Apps API: "Get application", "Replace an application" (PUT:
// `name`, `label`, `signOnMode` required; the settings sent replace the app's), "List key credentials for
// application", "Get key credential for application", "Generate new application key credential"
// (201; `validityYears` 2..10, else E0000001 "Validity years out of range. It should be 2 - 10 years"),
// "Preview SAML metadata for application" (`?kid=`; without it, the active key); the scopes named per
// operation (okta.apps.read, okta.apps.manage); "API token authentication" (`Authorization: SSWS`).

import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { ApiResponse, RequestBody } from "../routes.js";
import {
  MAX_VALIDITY_YEARS,
  MIN_VALIDITY_YEARS,
  type OktaAppFields,
  type OktaEmulatorState,
} from "./state.js";
import {
  OKTA_ERRORS,
  oktaError,
  renderApp,
  renderKey,
  renderKeys,
  renderMetadata,
  type OktaErrorInit,
} from "./wire.js";

/** okta.apps.read lets a token read; okta.apps.manage also write. */
export type OktaPermission = "read" | "manage";

export interface OktaQuirks {
  /** A PUT keeps the fields it omits, instead of resetting them as a replace does. */
  readonly putKeepsOmittedFields: boolean;
}

export const DEFAULT_OKTA_QUIRKS: OktaQuirks = { putKeepsOmittedFields: false };

export interface OktaRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: RequestBody;
  readonly authorization: string | undefined;
}

const XML = { "Content-Type": "application/xml;charset=UTF-8" };

const json = (status: number, body: string): ApiResponse => ({ status, body });
const fail = (status: number, init: OktaErrorInit): ApiResponse => json(status, oktaError(init));

/** Per method: the permission the token needs (null: public), then the handler. A route listed earlier wins. */
interface Route {
  readonly pattern: RegExp;
  readonly handlers: Partial<
    Record<string, { readonly needs: OktaPermission | null; readonly run: Handler }>
  >;
}
type Handler = (request: OktaRequest, params: readonly string[]) => ApiResponse | Promise<ApiResponse>;

const objectRecord = z.record(z.string(), z.unknown());
const putBody = z.looseObject({
  name: z.string().optional(),
  label: z.string().optional(),
  signOnMode: z.string().optional(),
  accessibility: objectRecord.optional(),
  visibility: objectRecord.optional(),
  features: z.array(z.unknown()).optional(),
  settings: objectRecord.optional(),
  credentials: z
    .looseObject({
      userNameTemplate: objectRecord.optional(),
      signing: z.looseObject({ kid: z.string().optional() }).optional(),
    })
    .optional(),
});

function tokenOf(header: string | undefined): string | null {
  return /^SSWS\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? null;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function createOktaApi(
  state: OktaEmulatorState,
  tokens: () => ReadonlyMap<string, OktaPermission>,
  orgUrl: () => string,
  quirks: OktaQuirks,
): (request: OktaRequest) => Promise<ApiResponse> {
  const noApp = (appId: string) => fail(404, OKTA_ERRORS.notFound(`${appId} (AppInstance)`));

  function permissionOf(header: string | undefined): OktaPermission | null {
    const token = tokenOf(header);
    if (token === null) return null;
    for (const [known, permission] of tokens()) if (sameText(token, known)) return permission;
    return null;
  }

  const getApp: Handler = (_request, [appId = ""]) => {
    const app = state.app(appId);
    return app ? json(200, renderApp(app, orgUrl())) : noApp(appId);
  };

  const putApp: Handler = (request, [appId = ""]) => {
    const app = state.app(appId);
    if (!app) return noApp(appId);
    if (request.body.kind !== "json") return fail(400, OKTA_ERRORS.malformed);
    const parsed = putBody.safeParse(request.body.value);
    if (!parsed.success) {
      const causes = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
      return fail(400, OKTA_ERRORS.validation("app", causes));
    }
    const body = parsed.data;
    const causes: string[] = [];
    if (!body.name) causes.push("name: The field cannot be left blank");
    else if (body.name !== app.name) causes.push("name: The app name cannot be changed");
    if (!body.label?.trim()) causes.push("label: The field cannot be left blank");
    if (!body.signOnMode) causes.push("signOnMode: The field cannot be left blank");
    else if (body.signOnMode !== app.signOnMode)
      causes.push("signOnMode: The sign-on mode cannot be changed");
    const kid = body.credentials?.signing?.kid ?? app.activeKid;
    if (kid === null) causes.push("credentials.signing.kid: The field cannot be left blank");
    else if (!app.keys.some((k) => k.kid === kid))
      causes.push("credentials.signing.kid: No key credential with this kid exists for the app");
    if (causes.length > 0 || kid === null) return fail(400, OKTA_ERRORS.validation("app", causes));

    // A replace: what the body omits goes back to empty, unless the lenient quirk keeps it.
    const keep = quirks.putKeepsOmittedFields;
    const fields: OktaAppFields = {
      label: body.label ?? app.label,
      accessibility: body.accessibility ?? (keep ? app.accessibility : {}),
      visibility: body.visibility ?? (keep ? app.visibility : {}),
      features: body.features ?? (keep ? app.features : []),
      settings: body.settings ?? (keep ? app.settings : {}),
      userNameTemplate: body.credentials?.userNameTemplate ?? (keep ? app.userNameTemplate : {}),
    };
    return json(200, renderApp(state.replaceApp(appId, fields, kid), orgUrl()));
  };

  const listKeys: Handler = (_request, [appId = ""]) => {
    const app = state.app(appId);
    return app ? json(200, renderKeys(app.keys)) : noApp(appId);
  };

  const getKey: Handler = (_request, [appId = "", kid = ""]) => {
    const app = state.app(appId);
    if (!app) return noApp(appId);
    const key = app.keys.find((k) => k.kid === kid);
    return key ? json(200, renderKey(key)) : fail(404, OKTA_ERRORS.notFound(`${kid} (JsonWebKey)`));
  };

  const generate: Handler = async (request, [appId = ""]) => {
    const app = state.app(appId);
    if (!app) return noApp(appId);
    const raw = request.query.get("validityYears");
    const years = raw !== null && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(years >= MIN_VALIDITY_YEARS && years <= MAX_VALIDITY_YEARS)) {
      return fail(
        400,
        OKTA_ERRORS.validation("generateKey", [
          `Validity years out of range. It should be ${MIN_VALIDITY_YEARS} - ${MAX_VALIDITY_YEARS} years`,
        ]),
      );
    }
    return json(201, renderKey(await state.generateKey(appId, years, "api")));
  };

  const metadata: Handler = (request, [appId = ""]) => {
    const app = state.app(appId);
    if (!app) return noApp(appId);
    const kid = request.query.get("kid") ?? app.activeKid;
    const key = app.keys.find((k) => k.kid === kid);
    if (!key) return fail(404, OKTA_ERRORS.notFound(`${kid ?? "signing key"} (JsonWebKey)`));
    return { status: 200, body: renderMetadata(app, key, orgUrl()), headers: XML };
  };

  const publicMetadata: Handler = (_request, [name = "", externalKey = ""]) => {
    const app = state.apps().find((a) => a.name === name && a.externalKey === externalKey);
    const key = app?.keys.find((k) => k.kid === app.activeKid);
    if (!app || !key) return fail(404, OKTA_ERRORS.noPath);
    return { status: 200, body: renderMetadata(app, key, orgUrl()), headers: XML };
  };

  const segment = "([^/]+)";
  const routes: Route[] = [
    {
      pattern: new RegExp(`^/api/v1/apps/${segment}$`),
      handlers: { GET: { needs: "read", run: getApp }, PUT: { needs: "manage", run: putApp } },
    },
    {
      pattern: new RegExp(`^/api/v1/apps/${segment}/credentials/keys$`),
      handlers: { GET: { needs: "read", run: listKeys } },
    },
    {
      pattern: new RegExp(`^/api/v1/apps/${segment}/credentials/keys/generate$`),
      handlers: { POST: { needs: "manage", run: generate } },
    },
    {
      pattern: new RegExp(`^/api/v1/apps/${segment}/credentials/keys/${segment}$`),
      handlers: { GET: { needs: "read", run: getKey } },
    },
    {
      pattern: new RegExp(`^/api/v1/apps/${segment}/sso/saml/metadata$`),
      handlers: { GET: { needs: "read", run: metadata } },
    },
    {
      pattern: new RegExp(`^/app/${segment}/${segment}/sso/saml/metadata$`),
      handlers: { GET: { needs: null, run: publicMetadata } },
    },
  ];

  return async (request) => {
    for (const route of routes) {
      const match = route.pattern.exec(request.path);
      if (!match) continue;
      const handler = route.handlers[request.method.toUpperCase()];
      if (!handler) return fail(405, OKTA_ERRORS.badMethod);
      if (handler.needs !== null) {
        const permission = permissionOf(request.authorization);
        if (permission === null) return fail(401, OKTA_ERRORS.invalidToken);
        if (handler.needs === "manage" && permission !== "manage") return fail(403, OKTA_ERRORS.forbidden);
      }
      const params = match.slice(1).map((p) => decodeURIComponent(p));
      return await handler.run(request, params);
    }
    return fail(404, OKTA_ERRORS.noPath);
  };
}
