import { AxiosError } from "axios";
import type { ApiErrorBody } from "./types";

// What a page needs to know about a failed call: the server's code and message, its messages
// per field (keyed as the API names them, e.g. `shipping_address.city`), and whether the
// server was reached at all (if not, offer a retry).
export interface ApiProblem {
  status: number | null;
  code: string;
  message: string;
  fields: Record<string, string>;
  network: boolean;
}

export function toProblem(error: unknown): ApiProblem {
  if (error instanceof AxiosError) {
    const body = error.response?.data as Partial<ApiErrorBody> | undefined;
    if (error.response && body?.error) {
      const fields: Record<string, string> = {};
      for (const field of body.error.fields ?? [])
        fields[field.field] ??= field.message;
      return {
        status: error.response.status,
        code: body.error.code,
        message: body.error.message,
        fields,
        network: false,
      };
    }
    if (error.response) {
      return {
        status: error.response.status,
        code: "http_error",
        message: `The server answered ${error.response.status}. Please try again.`,
        fields: {},
        network: error.response.status >= 500,
      };
    }
    return {
      status: null,
      code: "network",
      message:
        "Could not reach the marketplace. Check your connection and try again.",
      fields: {},
      network: true,
    };
  }
  return {
    status: null,
    code: "unexpected",
    message: error instanceof Error ? error.message : "Something went wrong.",
    fields: {},
    network: false,
  };
}
