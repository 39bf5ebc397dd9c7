import { ApiError, describeError } from './api';
import { ChatMessage, Message, Payload } from './models';

/** The body of POST /v1/messages; message_id is the idempotency key, fixed when the user hits send. */
export interface SendBody {
  conversation_id: string;
  message_id: string;
  payload: Payload;
  reply_to_message_id?: string;
  channels?: string[];
}

export interface OutboxEntry {
  body: SendBody;
  created_at: string;
  state: 'queued' | 'sending' | 'failed';
  attempts: number;
  error?: string;
  /** epoch ms before which a retryable failure is not tried again */
  not_before?: number;
}

export interface OutboxDeps {
  send(body: SendBody): Promise<Message>;
  load(): OutboxEntry[];
  save(entries: OutboxEntry[]): void;
  now(): number;
  /** a timer (replaceable in tests) */
  later(fn: () => void, ms: number): void;
  onAccepted(m: Message): void;
  onChange(entries: readonly OutboxEntry[]): void;
}

/**
 * Messages the user sent that the node has not acknowledged yet. They survive reloads (the
 * caller's storage), go out one at a time in the order they were written, and keep their
 * message_id on every attempt, so a send that reached the node before the connection broke is
 * answered with the first reply instead of becoming a second message.
 */
export class Outbox {
  private entries: OutboxEntry[];
  private flushing = false;
  private again = false;
  private timerDue = 0;

  constructor(private readonly deps: OutboxDeps) {
    // a page that died mid-send: that attempt's outcome is unknown, so it is sent again (same id)
    this.entries = deps.load().map((e) => (e.state === 'sending' ? { ...e, state: 'queued' as const } : e));
  }

  list(): readonly OutboxEntry[] {
    return this.entries;
  }

  add(body: SendBody): OutboxEntry {
    const entry: OutboxEntry = { body, created_at: new Date(this.deps.now()).toISOString(), state: 'queued', attempts: 0 };
    this.entries = [...this.entries, entry];
    this.changed();
    void this.flush();
    return entry;
  }

  retry(messageId: string): void {
    this.update(messageId, (e) => ({ ...e, state: 'queued', error: undefined, not_before: undefined, attempts: 0 }));
    void this.flush();
  }

  discard(messageId: string): void {
    this.entries = this.entries.filter((e) => e.body.message_id !== messageId || e.state === 'sending');
    this.changed();
  }

  clear(): void {
    this.entries = [];
    this.changed();
  }

  /** Sends what is queued, in order; resolves when nothing more can be sent now. */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.again = false;
        await this.drain();
      } while (this.again);
    } finally {
      this.flushing = false;
    }
  }

  private async drain(): Promise<void> {
    for (;;) {
      const now = this.deps.now();
      const next = this.entries.find((e) => e.state === 'queued');
      if (!next) {
        return;
      }
      if (next.not_before && next.not_before > now) {
        this.wake(next.not_before - now);
        return;
      }
      const id = next.body.message_id;
      this.update(id, (e) => ({ ...e, state: 'sending', attempts: e.attempts + 1 }));
      try {
        const accepted = await this.deps.send(next.body);
        this.entries = this.entries.filter((e) => e.body.message_id !== id);
        this.changed();
        this.deps.onAccepted(accepted);
      } catch (err) {
        if (err instanceof ApiError && err.retryable) {
          const attempts = (this.entries.find((e) => e.body.message_id === id)?.attempts ?? 1) - 1;
          const wait =
            err.retryAfterSeconds != null ? err.retryAfterSeconds * 1000 : Math.min(30_000, 1000 * 2 ** Math.min(attempts, 5));
          this.update(id, (e) => ({ ...e, state: 'queued', not_before: this.deps.now() + wait, error: describeError(err) }));
          // later messages wait too: order is kept
          this.wake(wait);
          return;
        }
        this.update(id, (e) => ({ ...e, state: 'failed', error: describeError(err) }));
      }
    }
  }

  /** Asks for the next attempt now (the connection came back). */
  resume(): void {
    this.entries = this.entries.map((e) => (e.state === 'queued' ? { ...e, not_before: undefined } : e));
    void this.flush();
  }

  private wake(ms: number): void {
    const due = this.deps.now() + ms;
    if (this.timerDue && this.timerDue <= due && this.timerDue > this.deps.now()) {
      return;
    }
    this.timerDue = due;
    this.deps.later(() => {
      this.timerDue = 0;
      void this.flush();
    }, ms);
  }

  private update(id: string, fn: (e: OutboxEntry) => OutboxEntry): void {
    this.entries = this.entries.map((e) => (e.body.message_id === id ? fn(e) : e));
    this.changed();
  }

  private changed(): void {
    this.deps.save(this.entries);
    this.deps.onChange(this.entries);
  }
}

/** How an outbox entry shows in the thread before the node has it. */
export function asMessage(e: OutboxEntry, me: string): ChatMessage {
  return {
    message_id: e.body.message_id,
    conversation_id: e.body.conversation_id,
    from_user_id: me,
    sequence_number: null,
    payload: e.body.payload,
    reply_to_message_id: e.body.reply_to_message_id ?? null,
    channels: e.body.channels ?? [],
    status: 'sent',
    created_at: e.created_at,
    updated_at: e.created_at,
    local: { state: e.state, error: e.error },
  };
}
