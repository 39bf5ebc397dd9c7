import { Injectable, computed, inject, signal } from '@angular/core';
import { Api, ApiError, TokenSource } from './api';
import { Account, Tokens } from './models';

const KEY = 'c4a.session';

export interface StoredSession {
  userId: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  /** epoch ms when the access token expires */
  expiresAt: number;
  /** lifetime in ms the node gave the access token */
  lifetime: number;
}

/**
 * The logged-in user: tokens kept in localStorage (shared by the tabs of this origin), renewed
 * silently before the access token expires. Refresh tokens rotate, so tabs renew one at a time
 * (a Web Lock) and adopt what another tab stored; reusing a rotated token makes the node revoke
 * the whole login, which ends the session everywhere.
 */
@Injectable({ providedIn: 'root' })
export class Session implements TokenSource {
  private readonly api = inject(Api);
  private readonly current = signal<StoredSession | null>(read());
  private timer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<boolean> | null = null;

  readonly user = computed(() => {
    const s = this.current();
    return s ? { userId: s.userId, username: s.username } : null;
  });
  readonly loggedIn = computed(() => this.current() !== null);
  /** Why the last session ended without a logout (shown on the login page). */
  readonly endedReason = signal<string | null>(null);
  /** Incremented whenever the access token changes (the live connection re-authenticates). */
  readonly tokenVersion = signal(0);

  constructor() {
    this.api.useTokens(this);
    addEventListener('storage', (e) => {
      if (e.key !== KEY) {
        return;
      }
      const next = read();
      const before = this.current();
      this.current.set(next);
      if (!next && before) {
        this.endedReason.set('You signed out in another tab.');
      }
      if (next?.accessToken !== before?.accessToken) {
        this.tokenVersion.update((v) => v + 1);
      }
      this.schedule();
    });
    document.addEventListener('visibilitychange', () => {
      // timers do not run while a laptop sleeps: renew at once when the page comes back
      if (document.visibilityState === 'visible') {
        this.schedule();
      }
    });
    this.schedule();
  }

  accessToken(): string | null {
    return this.current()?.accessToken ?? null;
  }

  async login(login: string, password: string): Promise<void> {
    const body: Record<string, string> = { password };
    body[login.includes('@') ? 'email' : 'username'] = login.trim();
    const tokens = await this.api.request<Tokens>('/v1/auth/token', { method: 'POST', body, auth: false });
    const me = await this.api.request<Account>('/v1/me', {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
      auth: false,
    });
    this.endedReason.set(null);
    this.store(tokens, me.username);
  }

  async register(username: string, email: string, password: string): Promise<void> {
    await this.api.request('/v1/auth/register', {
      method: 'POST',
      body: { username: username.trim(), email: email.trim(), password },
      auth: false,
    });
    await this.login(username, password);
  }

  async logout(): Promise<void> {
    const s = this.current();
    if (s) {
      try {
        await this.api.request('/v1/auth/logout', {
          method: 'POST',
          body: { refresh_token: s.refreshToken },
          auth: false,
          headers: { Authorization: `Bearer ${s.accessToken}` },
        });
      } catch {
        // already expired or offline: the tokens are dropped here anyway
      }
    }
    this.end(null);
  }

  /** TokenSource: a 401 came back. Renew (or give up and end the session). */
  async recover(code: string): Promise<boolean> {
    if (code === 'token_revoked') {
      this.end('Your session was ended. Please sign in again.');
      return false;
    }
    return this.refresh(true);
  }

  /** Renews the tokens now (one tab at a time); false when the session is over. */
  refresh(force = false): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.refreshLocked(force).finally(() => (this.refreshing = null));
    }
    return this.refreshing;
  }

  private async refreshLocked(force: boolean): Promise<boolean> {
    const mine = this.current();
    if (!mine) {
      return false;
    }
    const run = async (): Promise<boolean> => {
      const stored = read();
      if (!stored) {
        this.end('You signed out in another tab.');
        return false;
      }
      if (stored.refreshToken !== mine.refreshToken || (!force && stored.expiresAt - Date.now() > stored.lifetime / 3)) {
        // another tab renewed meanwhile
        this.current.set(stored);
        this.tokenVersion.update((v) => v + 1);
        this.schedule();
        return true;
      }
      try {
        const tokens = await this.api.request<Tokens>('/v1/auth/refresh', {
          method: 'POST',
          body: { refresh_token: stored.refreshToken },
          auth: false,
        });
        this.store(tokens, stored.username);
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          this.end(
            e.code === 'token_revoked'
              ? 'This login was used again from elsewhere, so it was signed out everywhere. Please sign in again.'
              : 'Your session has expired. Please sign in again.',
          );
          return false;
        }
        // offline or a server problem: keep the session, try again soon
        this.schedule(15_000);
        return false;
      }
    };
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    return locks ? locks.request('c4a-refresh', run) : run();
  }

  private store(tokens: Tokens, username: string): void {
    const lifetime = Math.max(10, tokens.expires_in) * 1000;
    const s: StoredSession = {
      userId: tokens.user_id,
      username,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: Date.now() + lifetime,
      lifetime,
    };
    localStorage.setItem(KEY, JSON.stringify(s));
    this.current.set(s);
    this.tokenVersion.update((v) => v + 1);
    this.schedule();
  }

  private end(reason: string | null): void {
    localStorage.removeItem(KEY);
    this.current.set(null);
    this.endedReason.set(reason);
    this.tokenVersion.update((v) => v + 1);
    this.schedule();
  }

  /** Renew when two thirds of the access token's lifetime have passed. */
  private schedule(delay?: number): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const s = this.current();
    if (!s) {
      return;
    }
    const due = delay ?? Math.max(0, s.expiresAt - s.lifetime / 3 - Date.now());
    this.timer = setTimeout(() => void this.refresh(), due);
  }
}

function read(): StoredSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    const s = raw ? (JSON.parse(raw) as StoredSession) : null;
    return s && s.accessToken && s.refreshToken && s.userId ? s : null;
  } catch {
    return null;
  }
}
