// SAML metadata shaped like what Okta, Entra ID, Duo and ADFS publish, around certificates the tests
// generate: the element layout, namespaces and quirks (BOM, wrapped base64, RoleDescriptors) are the
// point; the certificate bytes always come from makeCert.

import type { GeneratedCertificate } from "../../src/certs/generate.js";

export function base64Of(cert: GeneratedCertificate): string {
  return Buffer.from(cert.der).toString("base64");
}

/** Java-style MIME wrapping, as Okta and Duo emit. */
function wrap76(base64: string): string {
  return base64.replace(/(.{76})/g, "$1\n");
}

export function oktaMetadata(signing: readonly string[]): string {
  const keys = signing
    .map(
      (body) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${wrap76(body)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor entityID="http://www.okta.com/exk1fcia6d6EMsf331d8" xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://dev-4242.okta.com/app/dev-4242_sendgrid_1/exk1fcia6d6EMsf331d8/sso/saml"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://dev-4242.okta.com/app/dev-4242_sendgrid_1/exk1fcia6d6EMsf331d8/sso/saml"/></md:IDPSSODescriptor></md:EntityDescriptor>`;
}

/**
 * Entra ID's federationmetadata.xml before signing (sign it with metadata-signing.ts, as Entra does): a
 * UTF-8 BOM, a default namespace and WS-Federation RoleDescriptors that carry KeyDescriptors of their
 * own (which are not SAML signing keys).
 */
export function entraMetadata(signing: readonly string[], elsewhere: string): string {
  const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  const keyDescriptor = (body: string): string =>
    `<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${body}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`;
  const roleDescriptor = (type: string): string =>
    `<RoleDescriptor xsi:type="fed:${type}" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">${keyDescriptor(elsewhere)}<fed:ClaimTypesOffered><auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"><auth:DisplayName>Name</auth:DisplayName></auth:ClaimType></fed:ClaimTypesOffered><fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://login.microsoftonline.com/${tenant}/wsfed</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor>`;
  return `\uFEFF<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_5b3c8f2e-1b0a-4c7e-9f3e-2a1d6c0b9e11" entityID="https://sts.windows.net/${tenant}/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">${roleDescriptor("SecurityTokenServiceType")}${roleDescriptor("ApplicationServiceType")}<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${signing.map(keyDescriptor).join("")}<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/${tenant}/saml2"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/${tenant}/saml2"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/${tenant}/saml2"/></IDPSSODescriptor></EntityDescriptor>`;
}

/** Duo: pretty-printed, `ds` declared on the root, a KeyDescriptor without a `use` attribute. */
export function duoMetadata(signing: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sso-4a7b2c9d.sso.duosecurity.com/saml2/sp/DIRW7A2Q9K3M5N8P0XYZ/metadata">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor>
      <ds:KeyInfo>
        <ds:X509Data>
          <ds:X509Certificate>
${wrap76(signing)}
          </ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sso-4a7b2c9d.sso.duosecurity.com/saml2/sp/DIRW7A2Q9K3M5N8P0XYZ/sso"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sso-4a7b2c9d.sso.duosecurity.com/saml2/sp/DIRW7A2Q9K3M5N8P0XYZ/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}

/**
 * ADFS FederationMetadata.xml during AutoCertificateRollover, before signing (ADFS signs it; see
 * metadata-signing.ts): the primary and the secondary token-signing
 * certificates side by side, a token-decrypting (encryption) certificate, and an SPSSODescriptor whose
 * keys belong to ADFS acting as a service provider.
 */
export function adfsMetadata(keys: {
  readonly signing: readonly string[];
  readonly encryption: string;
  readonly spSigning: string;
}): string {
  const descriptor = (use: string, body: string): string =>
    `<KeyDescriptor use="${use}"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${body}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`;
  return `<EntityDescriptor ID="_2a7c5e3b-6f1d-4b8a-9c0e-7d3f1a2b4c6d" entityID="http://adfs.contoso.com/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><RoleDescriptor xsi:type="fed:ApplicationServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/ws-sx/ws-trust/200512 http://schemas.xmlsoap.org/ws/2005/02/trust http://docs.oasis-open.org/wsfed/federation/200706" ServiceDisplayName="Contoso" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">${descriptor("encryption", keys.encryption)}${descriptor("signing", keys.spSigning)}</RoleDescriptor><SPSSODescriptor WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${descriptor("encryption", keys.encryption)}${descriptor("signing", keys.spSigning)}<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.contoso.com/adfs/ls/"/><AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://adfs.contoso.com/adfs/ls/" index="0" isDefault="true"/></SPSSODescriptor><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${descriptor("encryption", keys.encryption)}${keys.signing.map((body) => descriptor("signing", body)).join("")}<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.contoso.com/adfs/ls/"/><NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.contoso.com/adfs/ls/"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://adfs.contoso.com/adfs/ls/"/></IDPSSODescriptor></EntityDescriptor>`;
}
