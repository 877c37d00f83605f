// Reading Okta's error object leniently, and the one line an OktaError's message carries.
import { describe, expect, it } from "vitest";
import type { ErrorAnswer } from "../../src/http/transport.js";
import { OktaError, describeOktaError, parseOktaError } from "../../src/okta/errors.js";

function answer(status: number, text: string, method: ErrorAnswer["method"] = "GET"): ErrorAnswer {
  return { method, status, text, headers: {} };
}

describe("parseOktaError", () => {
  it("reads code, summary, id and causes", () => {
    const body = parseOktaError(
      answer(
        400,
        JSON.stringify({
          errorCode: "E0000001",
          errorSummary: "Api validation failed: app",
          errorLink: "E0000001",
          errorId: "oae123",
          errorCauses: [{ errorSummary: "label: The field cannot be left blank" }, { other: 1 }, "junk"],
        }),
        "PUT",
      ),
    );
    expect(body).toEqual({
      errorCode: "E0000001",
      errorSummary: "Api validation failed: app",
      errorCauses: ["label: The field cannot be left blank"],
      errorId: "oae123",
      permissionNeeded: null,
    });
    expect(describeOktaError(body)).toBe(
      "E0000001 Api validation failed: app (label: The field cannot be left blank)",
    );
  });

  it("names the permission of a refused read or write, whatever the body", () => {
    expect(parseOktaError(answer(403, "<html>denied</html>", "GET")).permissionNeeded).toBe("okta.apps.read");
    const write = parseOktaError(answer(403, "", "POST"));
    expect(write.permissionNeeded).toBe("okta.apps.manage");
    expect(describeOktaError(write)).toBe("the API token's admin needs the okta.apps.manage permission");
  });

  it("yields nothing said for a body that is not Okta's, and cuts long texts", () => {
    const none = parseOktaError(answer(502, "<html>Bad gateway</html>"));
    expect(describeOktaError(none)).toBeNull();
    const long = parseOktaError(answer(500, JSON.stringify({ errorSummary: "x".repeat(1000) })));
    expect(long.errorSummary!.length).toBeLessThan(310);
  });
});

describe("OktaError", () => {
  it("is an ApiError with OKTA codes and Okta's fields", () => {
    const error = new OktaError(
      {
        kind: "http",
        method: "GET",
        route: "/api/v1/apps/:appId",
        status: 404,
        reason: "http_404",
        retryable: false,
        attempts: 1,
        detail: "E0000007 Not found",
      },
      {
        errorCode: "E0000007",
        errorSummary: "Not found",
        errorCauses: [],
        errorId: "oae1",
        permissionNeeded: null,
      },
    );
    expect(error).toMatchObject({
      name: "OktaError",
      code: "OKTA_HTTP_404",
      errorCode: "E0000007",
      errorId: "oae1",
    });
    expect(error.message).toBe("GET /api/v1/apps/:appId -> 404 Not Found: E0000007 Not found");
  });
});
