// The emulator's lenient variants all at once, for tests written about behaviour the published spec does
// not promise (certificates carrying `enabled`, partial PATCHes, 404 for an unknown id, one rate-limit
// bucket). The strict defaults have their own tests (strict.spec.ts); these keep the others readable.
import type { EmulatorOptions } from "../../src/emulator/server.js";

export const LENIENT: Pick<EmulatorOptions, "quirks" | "behaviour"> = {
  quirks: { omitEnabled: false, createdIntegrationId: true },
  behaviour: {
    notFoundStatus: 404,
    partialIntegrationPatch: true,
    partialTeammatePatch: true,
    teammateRules: false,
  },
};
