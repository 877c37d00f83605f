// Every endpoint of the SendGrid SSO API (integrations, certificates, teammates) over SendGridClient,
// returning domain types. Owns the routes and which schema reads each answer; never retries, caches or
// decides anything itself, and never sends a field the caller did not give.

import { z } from "zod";
import type { ApiCertificate, Integration } from "../core/model.js";
import type { SendGridClient } from "./client.js";
import {
  certificateBody,
  certificateListSchema,
  certificateSchema,
  integrationBody,
  integrationListSchema,
  integrationSchema,
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
} as const;

// Deletes answer 204, or 200 with the deleted record: either way there is nothing to read.
const ignoredBody = z.unknown().transform(() => undefined);

function siQuery(opts: { si?: boolean } | undefined): { si?: string } {
  return opts?.si === undefined ? {} : { si: String(opts.si) };
}

export class SsoApi {
  constructor(private readonly client: SendGridClient) {}

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

  createIntegration(input: IntegrationInput): Promise<Integration> {
    return this.client.request({
      method: "POST",
      route: ROUTES.integrations,
      body: integrationBody(input),
      schema: integrationSchema,
    });
  }

  updateIntegration(
    id: string,
    patch: Partial<IntegrationInput>,
    opts?: { si?: boolean },
  ): Promise<Integration> {
    return this.client.request({
      method: "PATCH",
      route: ROUTES.integration,
      params: { id },
      query: siQuery(opts),
      body: integrationBody(patch),
      schema: integrationSchema,
    });
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

  updateCertificate(id: string, patch: Partial<CertificateInput>): Promise<ApiCertificate> {
    return this.client.request({
      method: "PATCH",
      route: ROUTES.certificate,
      params: { id },
      body: certificateBody(patch),
      schema: certificateSchema,
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

  updateTeammate(username: string, patch: TeammatePatch): Promise<Teammate> {
    return this.client.request({
      method: "PATCH",
      route: ROUTES.teammate,
      params: { username },
      body: teammateBody(patch),
      schema: teammateSchema,
    });
  }
}
