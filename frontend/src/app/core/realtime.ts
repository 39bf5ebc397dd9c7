import { Injectable, inject, signal } from '@angular/core';
import EventBus from '@vertx/eventbus-bridge-client.js';
import { Envelope } from './models';
import { Session } from './session';

export type ConnectionState = 'offline' | 'connecting' | 'online' | 'reconnecting';

/** The node's client addresses on the SockJS event-bus bridge (docs/realtime.md). */
const TYPING = 'chat4all.client.typing';

/**
 * The live connection: the SockJS event-bus bridge at /eventbus, registered on the user's own
 * address with the access token. It reconnects by itself (backoff with jitter, at once when the
 * browser says it is online again) and re-authenticates when the token is renewed; after every
 * (re)connection `connected` listeners run, which catch up from the sync cursor.
 */
@Injectable({ providedIn: 'root' })
export class Realtime {
  private readonly session = inject(Session);
  readonly state = signal<ConnectionState>('offline');
  private eb: EventBus | null = null;
  private userId: string | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private confirmTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly envelopeListeners: ((e: Envelope) => void)[] = [];
  private readonly connectedListeners: (() => void)[] = [];
  private readonly lostListeners: (() => void)[] = [];

  constructor() {
    addEventListener('online', () => this.userId && this.reconnectNow());
    addEventListener('offline', () => {
      if (this.userId) {
        this.drop();
        this.state.set('reconnecting');
      }
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.userId && this.state() === 'reconnecting') {
        this.reconnectNow();
      }
    });
  }

  onEnvelope(fn: (e: Envelope) => void): void {
    this.envelopeListeners.push(fn);
  }

  onConnected(fn: () => void): void {
    this.connectedListeners.push(fn);
  }

  onLost(fn: () => void): void {
    this.lostListeners.push(fn);
  }

  start(userId: string): void {
    this.userId = userId;
    this.attempt = 0;
    this.connect('connecting');
  }

  stop(): void {
    this.userId = null;
    this.drop();
    this.state.set('offline');
  }

  /** A new token: open a fresh socket with it (the node checks the token at registration). */
  reauthenticate(): void {
    if (this.userId && this.session.accessToken()) {
      this.connect(this.state() === 'online' ? 'connecting' : this.state());
    }
  }

  reconnectNow(): void {
    if (!this.userId) {
      return;
    }
    this.attempt = 0;
    this.connect(this.state() === 'online' ? 'connecting' : 'reconnecting');
  }

  /** Tells the other members that the user is typing (the node merges repeats). */
  typing(conversationId: string): void {
    const token = this.session.accessToken();
    if (this.eb && this.state() === 'online' && token) {
      try {
        this.eb.send(TYPING, { conversation_id: conversationId }, { Authorization: `Bearer ${token}` });
      } catch {
        // the socket just closed; typing is ephemeral
      }
    }
  }

  private connect(state: ConnectionState): void {
    this.drop();
    const userId = this.userId;
    const token = this.session.accessToken();
    if (!userId || !token) {
      return;
    }
    if (!navigator.onLine) {
      this.state.set('reconnecting');
      return;
    }
    this.state.set(state);
    const eb = new EventBus('/eventbus', {
      vertxbus_ping_interval: 25_000,
      // no iframe transports: they would load a script the page's CSP does not allow
      transports: ['websocket', 'xhr-streaming', 'xhr-polling'],
    });
    this.eb = eb;
    const headers = { Authorization: `Bearer ${token}` };
    eb.onerror = (err: unknown) => {
      const body = (err as { body?: string })?.body;
      if (this.eb !== eb) {
        return;
      }
      if (body === 'token_revoked') {
        // the login was ended (logout elsewhere, refresh-token reuse): the session is over
        void this.session.recover('token_revoked');
      } else if (body === 'access_denied' || body === 'rejected' || body === 'token_expired') {
        // refused or expired (a laptop that slept past the token's expiry): renew, then reconnect
        void this.session.refresh(true).then((ok) => ok && this.reconnectNow());
      }
    };
    eb.onopen = () => {
      if (this.eb !== eb) {
        return;
      }
      eb.registerHandler(`chat4all.user.${userId}`, headers, (err, msg) => {
        if (!err && msg?.body && this.eb === eb) {
          const env = msg.body as Envelope;
          for (const fn of this.envelopeListeners) {
            fn(env);
          }
        }
      });
      // The bridge does not acknowledge a registration. A request it refuses at once (an empty
      // typing signal) is answered after the registration was handled, so from its answer on,
      // nothing published to the user is missed and catching up from the cursor is gap-free.
      eb.send(TYPING, {}, headers, () => {
        if (this.eb !== eb) {
          return;
        }
        this.clearConfirm();
        this.attempt = 0;
        this.state.set('online');
        for (const fn of this.connectedListeners) {
          fn();
        }
      });
      this.confirmTimer = setTimeout(() => this.eb === eb && this.lost(), 15_000);
    };
    eb.onclose = () => {
      if (this.eb === eb) {
        this.lost();
      }
    };
  }

  private lost(): void {
    this.drop();
    if (!this.userId) {
      return;
    }
    this.state.set('reconnecting');
    for (const fn of this.lostListeners) {
      fn();
    }
    const base = Math.min(15_000, 1000 * 2 ** this.attempt++);
    this.timer = setTimeout(() => this.connect('reconnecting'), base / 2 + Math.random() * base / 2);
  }

  private clearConfirm(): void {
    if (this.confirmTimer) {
      clearTimeout(this.confirmTimer);
      this.confirmTimer = null;
    }
  }

  private drop(): void {
    this.clearConfirm();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const eb = this.eb;
    this.eb = null;
    if (eb) {
      eb.onclose = null;
      eb.onopen = null;
      try {
        eb.close();
      } catch {
        // already closed
      }
    }
  }
}
