import { describe, expect, it } from "vitest";
import { describeGraphError, parseGraphError } from "../../src/graph/errors.js";
import type { ErrorAnswer } from "../../src/http/transport.js";

function answer(
  status: number,
  text: string,
  method: ErrorAnswer["method"] = "GET",
  headers = {},
): ErrorAnswer {
  return { method, status, text, headers };
}

describe("parseGraphError", () => {
  it("reads Graph's error object", () => {
    const body = parseGraphError(
      answer(
        404,
        JSON.stringify({
          error: {
            code: "Request_ResourceNotFound",
            message: "Resource 'x' does not exist.",
            innerError: { date: "2030-01-01T00:00:00", "request-id": "r-1", "client-request-id": "c-1" },
          },
        }),
      ),
    );
    expect(body).toEqual({
      errorCode: "Request_ResourceNotFound",
      errorMessage: "Resource 'x' does not exist.",
      requestId: "r-1",
      date: "2030-01-01T00:00:00",
      permissionNeeded: null,
    });
    expect(describeGraphError(body)).toBe(
      "Request_ResourceNotFound: Resource 'x' does not exist. (request-id r-1)",
    );
  });

  it("reads the token endpoint's error, keeping only the description's first line", () => {
    const body = parseGraphError(
      answer(
        401,
        JSON.stringify({
          error: "invalid_client",
          error_description:
            "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2030-01-01 00:00:00Z",
          error_codes: [7000215],
          trace_id: "t-1",
        }),
        "POST",
      ),
    );
    expect(body.errorCode).toBe("invalid_client");
    expect(body.errorMessage).toBe("AADSTS7000215: Invalid client secret provided.");
    expect(body.requestId).toBe("t-1");
  });

  it("says which permission a 403 needs, by method, even without a body", () => {
    const read = parseGraphError(answer(403, "", "GET", { "request-id": "h-1" }));
    expect(read.requestId).toBe("h-1");
    expect(describeGraphError(read)).toContain("Application.Read.All");
    const write = parseGraphError(answer(403, "<html>denied</html>", "PATCH"));
    expect(describeGraphError(write)).toContain("Application.ReadWrite.OwnedBy or Application.ReadWrite.All");
  });

  it("says nothing about a body it cannot read", () => {
    const body = parseGraphError(answer(500, "upstream error"));
    expect(describeGraphError(body)).toBeNull();
  });
});
