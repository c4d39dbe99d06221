// The API client: the bearer key (kept in sessionStorage), JSON requests, errors carrying the server's message.

const KEY_NAME = "cpfr.apiKey";
const BASE = "/api/v1";
const MAX_PAGE = 1000; // the server's largest page

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.problems = (body && Array.isArray(body.problems)) ? body.problems : [];
    this.total = body && typeof body.total === "number" ? body.total : this.problems.length;
  }
}

export const key = {
  get: () => sessionStorage.getItem(KEY_NAME),
  set: (value) => sessionStorage.setItem(KEY_NAME, value),
  clear: () => sessionStorage.removeItem(KEY_NAME),
};

/** Return "?a=1&b=2" of the parameters that have a value ("" for none). */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * Call the API. `body` is sent as JSON; `raw` (a File or Blob) as application/octet-stream.
 * Throws ApiError with the server's `error` message (and `problems` of a 422).
 */
export async function api(path, { method = "GET", body, raw } = {}) {
  const headers = { Accept: "application/json" };
  const stored = key.get();
  if (stored) headers.Authorization = `Bearer ${stored}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body: payload });
  } catch (failure) {
    throw new ApiError(0, `the server cannot be reached (${failure.message})`, null);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.error ? data.error : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, data);
  }
  return data;
}

/** Return every item of a list route, following its pages. */
export async function all(path, params = {}) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const data = await api(path + query({ ...params, page, page_size: MAX_PAGE }));
    items.push(...data.items);
    if (items.length >= data.total || data.items.length === 0) return items;
  }
}
