import { Injectable } from '@angular/core';

/** An error answer of the node ({"error":{code,message,details}}) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }

  /** Worth sending again with the same idempotency key (network, 429, 5xx). */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  get field(): string | undefined {
    const f = this.details['field'];
    return typeof f === 'string' ? f : undefined;
  }
}

/** Where the API client gets its bearer token, and who renews it after a 401. */
export interface TokenSource {
  accessToken(): string | null;
  /** Called once per request on 401 token_expired / token_invalid; true = try again. */
  recover(code: string): Promise<boolean>;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  auth?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** JSON over fetch against the node that served the page (same origin). */
@Injectable({ providedIn: 'root' })
export class Api {
  private tokens: TokenSource | null = null;

  useTokens(source: TokenSource): void {
    this.tokens = source;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>(path, { signal });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>(path, { method: 'POST', body: body ?? {} });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PATCH', body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>(path, { method: 'DELETE' });
  }

  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth !== false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
      if (opts.body !== undefined) {
        headers['Content-Type'] = 'application/json';
      }
      const token = auth ? this.tokens?.accessToken() : null;
      if (token) {
        headers['Authorization'] = `Bearer ${token}`;
      }
      let res: Response;
      try {
        res = await fetch(path, {
          method: opts.method ?? 'GET',
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: opts.signal,
          cache: 'no-store',
        });
      } catch (e) {
        if ((e as Error)?.name === 'AbortError') {
          throw e;
        }
        throw new ApiError(0, 'network', 'The server cannot be reached.');
      }
      if (res.ok) {
        if (res.status === 204) {
          return undefined as T;
        }
        const text = await res.text();
        return (text ? JSON.parse(text) : undefined) as T;
      }
      const err = await toError(res);
      if (
        auth &&
        attempt === 0 &&
        res.status === 401 &&
        this.tokens &&
        (err.code === 'token_expired' || err.code === 'token_invalid' || err.code === 'unauthenticated') &&
        (await this.tokens.recover(err.code))
      ) {
        continue;
      }
      if (auth && res.status === 401 && this.tokens && err.code === 'token_revoked') {
        await this.tokens.recover(err.code);
      }
      throw err;
    }
  }
}

export async function toError(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON (a proxy's page): keep the status
  }
  const e = body.error ?? {};
  const details = e.details ?? {};
  const header = Number(res.headers.get('Retry-After'));
  const retry =
    typeof details['retry_after_seconds'] === 'number'
      ? (details['retry_after_seconds'] as number)
      : Number.isFinite(header) && header > 0
        ? header
        : null;
  return new ApiError(res.status, e.code ?? `http_${res.status}`, e.message ?? res.statusText, details, retry);
}

/** A sentence for a person, for an error of any request. */
export function describeError(e: unknown): string {
  if (!(e instanceof ApiError)) {
    return 'Something went wrong. Please try again.';
  }
  switch (e.code) {
    case 'network':
      return 'The server cannot be reached. Check your connection.';
    case 'rate_limited':
      return `Too many requests. Try again ${e.retryAfterSeconds ? 'in ' + humanSeconds(e.retryAfterSeconds) : 'in a moment'}.`;
    case 'forbidden':
      return 'You are not allowed to do that.';
    case 'not_found':
      return 'It no longer exists, or you cannot see it.';
    case 'payload_too_large':
    case 'quota_exceeded':
      return e.message || 'That is too large.';
    case 'internal':
    case 'unavailable':
    case 'timeout':
      return 'The server had a problem. Please try again.';
    default:
      return e.message || 'Something went wrong. Please try again.';
  }
}

export function humanSeconds(s: number): string {
  if (s < 60) {
    return `${Math.ceil(s)} s`;
  }
  const m = Math.ceil(s / 60);
  return m === 1 ? '1 minute' : `${m} minutes`;
}
