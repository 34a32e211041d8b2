// Calls to the farm service (api/API.md). Every call sends the key; errors carry the server's words.

import { loadKey } from "./auth.js";

/** A failed call: `message` is words for the operator, `status` the HTTP status (0: unreachable). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }

  get unauthorized() {
    return this.status === 401 || this.status === 403;
  }
}

/** Words from an error body: {"detail": "..."} or FastAPI's validation list. */
function detailWords(body, status) {
  const detail = body?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => `${(d.loc ?? []).filter((p) => p !== "body").join(".")}: ${d.msg}`)
      .join("; ");
  }
  return `the farm service answered ${status}`;
}

/** fetch with the key; a failed answer becomes an ApiError with the server's words. */
async function send(method, path, { json, form } = {}) {
  const headers = { "X-Api-Key": loadKey() ?? "" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError(0, "cannot reach the farm service");
  }
  if (!response.ok) {
    const parsed = await response.json().catch(() => null);
    const words = response.status === 401 || response.status === 403
      ? "the farm service refused this API key"
      : detailWords(parsed, response.status);
    throw new ApiError(response.status, words);
  }
  return response;
}

async function request(method, path, options) {
  const text = await (await send(method, path, options)).text();
  return text ? JSON.parse(text) : null;
}

/**
 * POST a multipart form with upload progress (fetch has none): `onProgress(fraction)` while
 * the bytes go out; resolves to the parsed answer, rejects with an ApiError.
 */
function postWithProgress(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("X-Api-Key", loadKey() ?? "");
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded / e.total));
    xhr.addEventListener("error", () => reject(new ApiError(0, "cannot reach the farm service")));
    xhr.addEventListener("load", () => {
      let parsed = null;
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        parsed = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(parsed);
      else if (xhr.status === 401 || xhr.status === 403) reject(new ApiError(xhr.status, "the farm service refused this API key"));
      else reject(new ApiError(xhr.status, detailWords(parsed, xhr.status)));
    });
    xhr.send(form);
  });
}

export const api = {
  farm: () => request("GET", "/api/farm"),
  printers: () => request("GET", "/api/printers").then((r) => r.printers),
  jobs: () => request("GET", "/api/jobs").then((r) => r.jobs),
  plan: () => request("GET", "/api/plan"),
  action: (printerId, action, extra = {}) =>
    request("POST", `/api/printers/${encodeURIComponent(printerId)}/actions`, {
      json: { action, ...extra },
    }),
  cancelJob: (jobId) => request("DELETE", `/api/jobs/${encodeURIComponent(jobId)}`),
  retryJob: (jobId) => request("POST", `/api/jobs/${encodeURIComponent(jobId)}/retry`),
  upload: (form, onProgress = () => {}) => postWithProgress("/api/jobs", form, onProgress),
  gcode: (jobId, printerModel) =>
    send("GET", `/api/jobs/${encodeURIComponent(jobId)}/gcode?printer_model=${encodeURIComponent(printerModel)}`)
      .then((r) => r.blob()),
};

/** A URL the browser can load without headers (EventSource, <img>): adds ?key=. */
export function keyed(path) {
  if (!path) return null;
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}key=${encodeURIComponent(loadKey() ?? "")}`;
}
