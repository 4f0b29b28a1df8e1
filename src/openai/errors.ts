/**
 * OpenAI-style error bodies, `{"error": {"message", "type", "param", "code"}}`, which the
 * official clients turn into typed exceptions. Used by the router and the emulator alike.
 */

export type ErrorType =
  /** vLLM's type for its 400s (context length, bad parameters). */
  | "BadRequestError"
  | "invalid_request_error"
  | "not_found_error"
  | "server_error"
  | "upstream_error"
  | "overloaded_error";

export interface ErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: ErrorType;
    readonly param: string | null;
    readonly code: number;
  };
}

export function errorBody(
  status: number,
  message: string,
  type: ErrorType,
  param: string | null = null,
): ErrorBody {
  return { error: { message, type, param, code: status } };
}

export function errorResponse(
  status: number,
  message: string,
  type: ErrorType,
  options: { param?: string | null; headers?: HeadersInit } = {},
): Response {
  const headers = new Headers(options.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(errorBody(status, message, type, options.param ?? null)), {
    status,
    headers,
  });
}

/** An error as one SSE event, for a stream that already started (vLLM does the same). */
export function sseErrorEvent(message: string, type: ErrorType, code = 500): string {
  return `data: ${JSON.stringify(errorBody(code, message, type))}\n\n`;
}
