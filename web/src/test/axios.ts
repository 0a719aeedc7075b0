import { AxiosError, AxiosHeaders } from "axios";

// An AxiosError as the client raises it for an answer of the API's error shape.
export function apiError(
  status: number,
  code: string,
  message: string,
  fields?: { field: string; message: string }[],
) {
  const config = { headers: new AxiosHeaders() };
  return new AxiosError(message, "ERR_BAD_REQUEST", config, null, {
    status,
    statusText: "",
    headers: {},
    config,
    data: { error: { code, message, ...(fields ? { fields } : {}) } },
  });
}

// What the client raises when no answer came back.
export function networkError() {
  return new AxiosError("Network Error", "ERR_NETWORK", {
    headers: new AxiosHeaders(),
  });
}
