// The Graph v1.0 service principal endpoints a SAML signing-key rollover needs, over GraphClient,
// returning domain types: read the signing certificates ("Get servicePrincipal" with $select, so `key` is
// returned), create one ("servicePrincipal: addTokenSigningCertificate"), and choose the one Entra signs
// with ("Update servicePrincipal", preferredTokenSigningKeyThumbprint). Owns the routes and which schema
// reads each answer; never retries, caches or decides anything itself.

import type { GraphClient } from "./client.js";
import {
  SERVICE_PRINCIPAL_SELECT,
  ignoredBodySchema,
  selfSignedCertificateSchema,
  servicePrincipalSchema,
  type SelfSignedCertificate,
  type ServicePrincipal,
} from "./wire.js";

export type { KeyCredential, SelfSignedCertificate, ServicePrincipal } from "./wire.js";

/** Templated routes: they label metrics and errors, so a raw id never becomes a label value. */
export const ROUTES = {
  servicePrincipal: "/v1.0/servicePrincipals/:id",
  addTokenSigningCertificate: "/v1.0/servicePrincipals/:id/addTokenSigningCertificate",
} as const;

export interface NewTokenSigningCertificate {
  /** The certificate's subject; Graph requires it to start with "CN=". */
  readonly displayName: string;
  /** At most three years ahead. */
  readonly endDateTime: Date;
}

export class ServicePrincipalsApi {
  constructor(private readonly client: GraphClient) {}

  get(id: string): Promise<ServicePrincipal> {
    return this.client.request({
      method: "GET",
      route: ROUTES.servicePrincipal,
      params: { id },
      query: { $select: SERVICE_PRINCIPAL_SELECT },
      schema: servicePrincipalSchema,
    });
  }

  /** Adds a Sign/Verify key pair; Entra does not sign with it until setPreferredThumbprint. */
  addTokenSigningCertificate(
    id: string,
    request: NewTokenSigningCertificate,
  ): Promise<SelfSignedCertificate> {
    return this.client.request({
      method: "POST",
      route: ROUTES.addTokenSigningCertificate,
      params: { id },
      body: { displayName: request.displayName, endDateTime: request.endDateTime.toISOString() },
      schema: selfSignedCertificateSchema,
    });
  }

  /** PATCH that sends only preferredTokenSigningKeyThumbprint, so nothing else changes. */
  setPreferredThumbprint(id: string, thumbprint: string): Promise<void> {
    return this.client.request({
      method: "PATCH",
      route: ROUTES.servicePrincipal,
      params: { id },
      body: { preferredTokenSigningKeyThumbprint: thumbprint },
      schema: ignoredBodySchema,
    });
  }
}
