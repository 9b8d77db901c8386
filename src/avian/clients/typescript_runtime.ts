// The fixed part of every generated TypeScript client. avian's typescript_generator copies
// everything below the RUNTIME STARTS marker into the generated file; the tests compile
// the result with `tsc --strict`.
// --- RUNTIME STARTS ---

/** Options of a client: where the API is and what every call sends. */
export interface ClientOptions {
  /** Prefix of every path, e.g. "https://api.example.com" (default: "", same origin). */
  baseUrl?: string;
  /** Headers sent with every call, or a function returning them (for fresh tokens). */
  headers?: HeaderMap | (() => HeaderMap | Promise<HeaderMap>);
  /** Whether cookies go with calls: "include" sends them cross-origin too. */
  credentials?: RequestCredentials;
  /** The fetch to use (default: the global one), e.g. SvelteKit's `fetch` during SSR. */
  fetch?: typeof fetch;
}

/** A plain object of header names to values. */
export type HeaderMap = Record<string, string>;

/** Options of one call. */
export interface RequestOptions {
  /** Aborts the call: `AbortSignal.timeout(5000)` or an `AbortController`'s signal. */
  signal?: AbortSignal;
  /** Headers for this call only; they win over the client's. */
  headers?: HeaderMap;
}

/** An RFC 9457 problem document, as the API sends with every error. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  instance?: string;
  details?: unknown;
  [member: string]: unknown;
}

/** One problem with the input: where (`["body", "age"]`), what and which kind. */
export interface Issue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The API answered with an error status; `problem` says why. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly response: Response | undefined;

  constructor(status: number, problem: Problem, response?: Response) {
    super(`${status} ${problem.title ?? "Error"}${problem.detail ? `: ${problem.detail}` : ""}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.response = response;
  }

  /** The API's machine-readable error code ("NOT_FOUND"), or "". */
  get code(): string {
    return typeof this.problem.code === "string" ? this.problem.code : "";
  }
}

/** The API rejected the input (422); `issues` lists every problem found. */
export class ValidationError extends ApiError {
  readonly issues: Issue[];

  constructor(status: number, problem: Problem, response?: Response) {
    super(status, problem, response);
    this.name = "ValidationError";
    this.issues = findIssues(problem);
  }
}

function findIssues(problem: Problem): Issue[] {
  const details = problem.details;
  let found: unknown = undefined;
  if (details !== null && typeof details === "object" && "issues" in details) {
    found = (details as { issues?: unknown }).issues;
  }
  if (found === undefined) {
    found = problem["issues"];
  }
  return Array.isArray(found) ? (found as Issue[]) : [];
}

/** How one operation call is sent (filled in by the generated methods). */
export interface Call {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  cookies?: Record<string, unknown>;
  body?: unknown;
  bodyKind?: "json" | "form" | "multipart" | "raw";
  contentType?: string;
  response: "json" | "text" | "binary" | "empty";
}

function scalarText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function toPairs(values: Record<string, unknown> | undefined): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [key, value] of Object.entries(values ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) pairs.push([key, scalarText(item)]);
    } else {
      pairs.push([key, scalarText(value)]);
    }
  }
  return pairs;
}

/** Sends calls and turns error statuses into ApiError/ValidationError. */
export class Transport {
  private readonly options: ClientOptions;

  constructor(options: ClientOptions = {}) {
    this.options = options;
  }

  /** A path parameter, escaped so it stays one path segment. */
  static segment(value: unknown): string {
    return encodeURIComponent(scalarText(value));
  }

  async call<T>(call: Call, init: RequestOptions = {}): Promise<T> {
    const base = (this.options.baseUrl ?? "").replace(/\/+$/, "");
    const query = new URLSearchParams(toPairs(call.query)).toString();
    const url = `${base}${call.path}${query ? `?${query}` : ""}`;
    const defaults = this.options.headers;
    const shared = typeof defaults === "function" ? await defaults() : (defaults ?? {});
    const headers: Record<string, string> = {};
    const put = (name: string, value: string): void => {
      headers[name.toLowerCase()] = value;
    };
    for (const [name, value] of Object.entries(shared)) put(name, value);
    for (const [name, value] of toPairs(call.headers)) put(name, value);
    const jar = toPairs(call.cookies).map(([name, value]) => `${name}=${value}`);
    if (jar.length > 0) put("cookie", jar.join("; "));
    let body: BodyInit | null = null;
    if (call.body !== undefined && call.body !== null) {
      if (call.bodyKind === "form") {
        body = new URLSearchParams(toPairs(call.body as Record<string, unknown>));
      } else if (call.bodyKind === "multipart") {
        body = call.body instanceof FormData ? call.body : toFormData(call.body);
      } else if (call.bodyKind === "raw") {
        body = call.body as BodyInit;
        put("content-type", call.contentType ?? "application/octet-stream");
      } else {
        body = JSON.stringify(call.body);
        put("content-type", "application/json");
      }
    }
    for (const [name, value] of Object.entries(init.headers ?? {})) put(name, value);
    const request: RequestInit = { method: call.method, headers, body };
    if (this.options.credentials !== undefined) request.credentials = this.options.credentials;
    if (init.signal !== undefined) request.signal = init.signal;
    const send = this.options.fetch ?? globalThis.fetch;
    const response = await send(url, request);
    if (!response.ok) {
      throw await errorFor(response);
    }
    return (await readBody(response, call.response)) as T;
  }
}

function toFormData(fields: unknown): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      form.append(key, item instanceof Blob ? item : scalarText(item));
    }
  }
  return form;
}

async function readBody(response: Response, kind: Call["response"]): Promise<unknown> {
  if (kind === "empty" || response.status === 204 || response.status === 205) {
    await response.body?.cancel();
    return undefined;
  }
  if (kind === "text") return response.text();
  if (kind === "binary") return response.blob();
  const text = await response.text();
  return text === "" ? undefined : JSON.parse(text);
}

async function errorFor(response: Response): Promise<ApiError> {
  const text = await response.text();
  let problem: Problem;
  try {
    const parsed: unknown = JSON.parse(text);
    problem =
      parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
        ? (parsed as Problem)
        : { status: response.status, title: response.statusText, detail: text };
  } catch {
    problem = { status: response.status, title: response.statusText, detail: text.slice(0, 1000) };
  }
  if (response.status === 422) {
    return new ValidationError(response.status, problem, response);
  }
  return new ApiError(response.status, problem, response);
}
