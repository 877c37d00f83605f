// Every endpoint of the SendGrid SSO API (integrations, certificates, teammates) over SendGridClient,
// returning domain types. Owns the routes, which schema reads each answer, and the reads that make a write
// correct on the real service where the spec (tsg_sso_v3.yaml) demands more than a caller gives: a PATCH
// of an integration sends all five fields the spec requires (read, merged), a PATCH of a teammate its
// first and last name, and a create whose answer has no id is found by listing. Never retries or caches.

import { z } from "zod";
import type { ApiCertificate, Integration } from "../core/model.js";
import type { SendGridClient } from "./client.js";
import { CreatedIntegrationUnknownError } from "./errors.js";
import {
  certificateBody,
  certificateListSchema,
  certificateSchema,
  integrationAnswerSchema,
  integrationBody,
  integrationListSchema,
  integrationSchema,
  patchedCertificateSchema,
  teammateBody,
  teammateSchema,
  type CertificateInput,
  type IntegrationInput,
  type Teammate,
  type TeammateInput,
  type TeammatePatch,
} from "./wire.js";

export type {
  CertificateInput,
  IntegrationInput,
  Persona,
  PermissionType,
  SubuserAccess,
  SubuserAccessInput,
  Teammate,
  TeammateInput,
  TeammatePatch,
} from "./wire.js";

/** Templated routes: they label metrics and errors, so a raw id never becomes a label value. */
export const ROUTES = {
  integrations: "/v3/sso/integrations",
  integration: "/v3/sso/integrations/:id",
  integrationCertificates: "/v3/sso/integrations/:id/certificates",
  certificates: "/v3/sso/certificates",
  certificate: "/v3/sso/certificates/:id",
  teammates: "/v3/sso/teammates",
  teammate: "/v3/sso/teammates/:username",
  /** The Teammates API's read of one teammate: the SSO API has none. */
  teammateProfile: "/v3/teammates/:username",
} as const;

// Deletes answer 204, or 200 with the deleted record: either way there is nothing to read.
const ignoredBody = z.unknown().transform(() => undefined);

function siQuery(opts: { si?: boolean } | undefined): { si?: string } {
  return opts?.si === undefined ? {} : { si: String(opts.si) };
}

export class SsoApi {
  constructor(private readonly client: SendGridClient) {}

  get maxConcurrency(): number {
    return this.client.maxConcurrency;
  }

  listIntegrations(opts?: { si?: boolean }): Promise<Integration[]> {
    return this.client.request({
      method: "GET",
      route: ROUTES.integrations,
      query: siQuery(opts),
      schema: integrationListSchema,
    });
  }

  getIntegration(id: string, opts?: { si?: boolean }): Promise<Integration> {
    return this.client.request({
      method: "GET",
      route: ROUTES.integration,
      params: { id },
      query: siQuery(opts),
      schema: integrationSchema,
    });
  }

  /** Creates, and finds the new integration by listing when the answer names no id (as in the spec). */
  async createIntegration(input: IntegrationInput): Promise<Integration> {
    const created = await this.client.request({
      method: "POST",
      route: ROUTES.integrations,
      body: integrationBody(input),
      schema: integrationAnswerSchema,
    });
    if (created !== null) return created;
    const matches = (await this.listIntegrations({ si: true })).filter(
      (i) => i.name === input.name && i.entityId === input.entityId && i.signinUrl === input.signinUrl,
    );
    if (matches.length === 1) return matches[0]!;
    throw new CreatedIntegrationUnknownError(
      input.name,
      matches.map((i) => i.id),
    );
  }

  /**
   * Changes the fields given. The spec requires all five create fields on PATCH, so the integration is read
   * first and sent whole with the changes applied.
   */
  async updateIntegration(
    id: string,
    patch: Partial<IntegrationInput>,
    opts?: { si?: boolean },
  ): Promise<Integration> {
    const current = await this.getIntegration(id);
    const full: IntegrationInput = {
      name: patch.name ?? current.name,
      enabled: patch.enabled ?? current.enabled,
      signinUrl: patch.signinUrl ?? current.signinUrl ?? "",
      signoutUrl: patch.signoutUrl ?? current.signoutUrl ?? "",
      entityId: patch.entityId ?? current.entityId ?? "",
      ...(patch.completedIntegration !== undefined && { completedIntegration: patch.completedIntegration }),
    };
    const updated = await this.client.request({
      method: "PATCH",
      route: ROUTES.integration,
      params: { id },
      query: siQuery(opts),
      body: integrationBody(full),
      schema: integrationAnswerSchema,
    });
    return updated ?? this.getIntegration(id, opts);
  }

  async deleteIntegration(id: string): Promise<void> {
    await this.client.request({
      method: "DELETE",
      route: ROUTES.integration,
      params: { id },
      schema: ignoredBody,
    });
  }

  listCertificates(integrationId: string): Promise<ApiCertificate[]> {
    return this.client.request({
      method: "GET",
      route: ROUTES.integrationCertificates,
      params: { id: integrationId },
      schema: certificateListSchema,
    });
  }

  getCertificate(id: string): Promise<ApiCertificate> {
    return this.client.request({
      method: "GET",
      route: ROUTES.certificate,
      params: { id },
      schema: certificateSchema,
    });
  }

  createCertificate(input: CertificateInput): Promise<ApiCertificate> {
    return this.client.request({
      method: "POST",
      route: ROUTES.certificates,
      body: certificateBody(input),
      schema: certificateSchema,
    });
  }

  /**
   * Any 2xx means the change was applied. The answer is the certificate, or null when it is empty or
   * partial (the older spec documented no 200 body): read it back then.
   */
  updateCertificate(id: string, patch: Partial<CertificateInput>): Promise<ApiCertificate | null> {
    return this.client.request({
      method: "PATCH",
      route: ROUTES.certificate,
      params: { id },
      body: certificateBody(patch),
      schema: patchedCertificateSchema,
    });
  }

  async deleteCertificate(id: string): Promise<void> {
    await this.client.request({
      method: "DELETE",
      route: ROUTES.certificate,
      params: { id },
      schema: ignoredBody,
    });
  }

  createTeammate(input: TeammateInput): Promise<Teammate> {
    return this.client.request({
      method: "POST",
      route: ROUTES.teammates,
      body: teammateBody(input),
      schema: teammateSchema,
    });
  }

  /** Through the Teammates API (GET /v3/teammates/{username}): the SSO API has no read of a teammate. */
  getTeammate(username: string): Promise<Teammate> {
    return this.client.request({
      method: "GET",
      route: ROUTES.teammateProfile,
      params: { username },
      schema: teammateSchema,
    });
  }

  /** The spec requires first_name and last_name on PATCH: the ones not given are read first. */
  async updateTeammate(username: string, patch: TeammatePatch): Promise<Teammate> {
    let { firstName, lastName } = patch;
    if (firstName === undefined || lastName === undefined) {
      const current = await this.getTeammate(username);
      firstName ??= current.firstName ?? "";
      lastName ??= current.lastName ?? "";
    }
    return this.client.request({
      method: "PATCH",
      route: ROUTES.teammate,
      params: { username },
      body: teammateBody({ ...patch, firstName, lastName }),
      schema: teammateSchema,
    });
  }
}
