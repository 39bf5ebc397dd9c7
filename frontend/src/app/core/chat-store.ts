import { Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import { Api, ApiError, describeError } from './api';
import { snippet, uuid } from './format';
import {
  ChatMessage,
  Conversation,
  Envelope,
  Message,
  MessagePage,
  Page,
  Payload,
  StatusEnvelope,
  SyncPage,
  User,
} from './models';
import { Outbox, OutboxEntry, SendBody, asMessage } from './outbox';
import { Realtime } from './realtime';
import { Session } from './session';
import { applyStatus, highestSeq, merge, rank } from './timeline';

export interface ThreadState {
  messages: ChatMessage[];
  loaded: boolean;
  loading: boolean;
  loadingOlder: boolean;
  /** continues backwards; null at the caller's join point */
  olderCursor: string | null;
  error?: string;
}

const EMPTY: ThreadState = { messages: [], loaded: false, loading: false, loadingOlder: false, olderCursor: null };
const PAGE = 50;

/**
 * The chat state of the logged-in user and every way it changes: conversation list, threads,
 * presence, typing, the change-feed cursor and the outbox. Live envelopes, sync pages, history
 * pages and send replies all merge through the timeline rules, so order and uniqueness do not
 * depend on which arrives first.
 */
@Injectable({ providedIn: 'root' })
export class ChatStore {
  private readonly api = inject(Api);
  private readonly session = inject(Session);
  private readonly realtime = inject(Realtime);

  readonly conversations = signal<Record<string, Conversation>>({});
  readonly threads = signal<Record<string, ThreadState>>({});
  readonly usernames = signal<Record<string, string>>({});
  readonly presence = signal<Record<string, { status: string; last_seen?: string | null }>>({});
  readonly typing = signal<Record<string, Record<string, number>>>({});
  readonly readSeq = signal<Record<string, number>>({});
  readonly listLoaded = signal(false);
  readonly listError = signal<string | null>(null);
  readonly outboxEntries = signal<readonly OutboxEntry[]>([]);
  readonly activeId = signal<string | null>(null);
  readonly notice = signal<string | null>(null);

  readonly sorted = computed(() =>
    Object.values(this.conversations()).sort((a, b) => activity(b).localeCompare(activity(a))),
  );
  readonly totalUnread = computed(() => Object.values(this.conversations()).reduce((n, c) => n + (c.unread_count || 0), 0));

  private me: string | null = null;
  private cursor: string | null = null;
  private caughtUp = false;
  private catchingUp: Promise<void> | null = null;
  private catchUpAgain = false;
  private outbox: Outbox | null = null;
  private readonly delivered = new Set<string>();
  private readonly readMarked = new Set<string>();
  private caughtUpMessages: Message[] = [];
  private readonly fetchingConv = new Map<string, Promise<Conversation | null>>();
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private typingTimer: ReturnType<typeof setInterval> | null = null;
  private generation = 0;

  constructor() {
    this.realtime.onEnvelope((e) => this.handle(e, true));
    this.realtime.onConnected(() => {
      void this.catchUp();
      this.outbox?.resume();
    });
    this.realtime.onLost(() => (this.caughtUp = false));
    effect(() => {
      const user = this.session.user();
      untracked(() => (user ? this.start(user.userId, user.username) : this.stop()));
    });
    let version = this.session.tokenVersion();
    effect(() => {
      const v = this.session.tokenVersion();
      if (v !== version) {
        version = v;
        untracked(() => this.realtime.reauthenticate());
      }
    });
    addEventListener('online', () => this.outbox?.resume());
    addEventListener('focus', () => this.me && void this.refreshList());
  }

  // ---- lifecycle

  private start(userId: string, username: string): void {
    if (this.me === userId) {
      return;
    }
    this.stop();
    this.me = userId;
    const gen = ++this.generation;
    this.usernames.set({ [userId]: username });
    const key = `c4a.outbox.${userId}`;
    this.outbox = new Outbox({
      send: (b) => this.api.post<Message>('/v1/messages', b),
      load: () => {
        try {
          return JSON.parse(localStorage.getItem(key) ?? '[]') as OutboxEntry[];
        } catch {
          return [];
        }
      },
      save: (e) => localStorage.setItem(key, JSON.stringify(e)),
      now: () => Date.now(),
      later: (fn, ms) => setTimeout(fn, ms),
      onAccepted: (m) => this.gen(gen) && this.mergeInto(m.conversation_id, [m]),
      onChange: (entries) => this.gen(gen) && this.outboxChanged(entries),
    });
    this.outboxChanged(this.outbox.list());
    this.cursor = localStorage.getItem(this.cursorKey());
    void (async () => {
      try {
        if (!this.cursor) {
          // the feed's position now: everything after it reaches us (live or by catching up)
          const page = await this.api.get<SyncPage>('/v1/sync');
          this.saveCursor(page.next_cursor);
        }
      } catch {
        // offline at start: the catch-up after connecting asks again
      }
      if (!this.gen(gen)) {
        return;
      }
      this.realtime.start(userId);
      await this.refreshList();
      void this.outbox?.flush();
    })();
    this.pollTimer = setInterval(() => void this.refreshList(), 60_000);
    this.typingTimer = setInterval(() => this.expireTyping(), 1000);
  }

  private stop(): void {
    this.generation++;
    this.realtime.stop();
    this.me = null;
    this.cursor = null;
    this.caughtUp = false;
    this.outbox = null;
    this.delivered.clear();
    this.readMarked.clear();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.typingTimer) clearInterval(this.typingTimer);
    this.conversations.set({});
    this.threads.set({});
    this.presence.set({});
    this.typing.set({});
    this.readSeq.set({});
    this.outboxEntries.set([]);
    this.listLoaded.set(false);
    this.activeId.set(null);
  }

  private gen(g: number): boolean {
    return g === this.generation;
  }

  userId(): string | null {
    return this.me;
  }

  /** Forget this user's unsent messages (logging out). */
  clearOutbox(): void {
    this.outbox?.clear();
  }

  // ---- conversation list

  async refreshList(): Promise<void> {
    const gen = this.generation;
    try {
      const all: Conversation[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 20; i++) {
        const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page: Page<Conversation> = await this.api.get<Page<Conversation>>(`/v1/conversations?limit=100${q}`);
        all.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      if (!this.gen(gen)) return;
      const next: Record<string, Conversation> = {};
      const before = this.conversations();
      const read = { ...this.readSeq() };
      for (const c of all) {
        const had = before[c.conversation_id];
        // keep what live events already told us when the list is older than they are
        const merged = had && had.last_seq > c.last_seq ? { ...c, ...pickLive(had) } : c;
        next[c.conversation_id] = merged;
        const serverRead = c.last_seq - c.unread_count;
        read[c.conversation_id] = Math.max(read[c.conversation_id] ?? 0, serverRead);
        this.learnUsers(c.members);
      }
      this.readSeq.set(read);
      this.conversations.set(next);
      this.listLoaded.set(true);
      this.listError.set(null);
      void this.loadPresence(all);
    } catch (e) {
      if (this.gen(gen)) this.listError.set(describeError(e));
    }
  }

  private async loadPresence(list: Conversation[]): Promise<void> {
    const ids = new Set<string>();
    for (const c of list) {
      for (const m of c.members) {
        if (m.user_id !== this.me) ids.add(m.user_id);
      }
    }
    const all = [...ids];
    for (let i = 0; i < all.length; i += 100) {
      try {
        const page = await this.api.get<Page<{ user_id: string; status: string; last_seen?: string | null }>>(
          `/v1/presence?user_ids=${all.slice(i, i + 100).join(',')}`,
        );
        this.presence.update((p) => {
          const n = { ...p };
          for (const it of page.items) n[it.user_id] = { status: it.status, last_seen: it.last_seen };
          return n;
        });
      } catch {
        return;
      }
    }
  }

  private learnUsers(members: { user_id: string; username: string }[]): void {
    const cur = this.usernames();
    if (members.every((m) => cur[m.user_id] === m.username)) return;
    this.usernames.update((u) => {
      const n = { ...u };
      for (const m of members) n[m.user_id] = m.username;
      return n;
    });
  }

  putConversation(c: Conversation): void {
    const known = this.presence();
    if (c.members.some((m) => m.user_id !== this.me && !known[m.user_id])) void this.loadPresence([c]);
    this.learnUsers(c.members);
    this.conversations.update((all) => ({ ...all, [c.conversation_id]: c }));
    this.readSeq.update((r) => ({ ...r, [c.conversation_id]: Math.max(r[c.conversation_id] ?? 0, c.last_seq - c.unread_count) }));
  }

  dropConversation(id: string): void {
    this.conversations.update((all) => {
      const n = { ...all };
      delete n[id];
      return n;
    });
    this.threads.update((t) => {
      const n = { ...t };
      delete n[id];
      return n;
    });
  }

  /** A conversation the list does not have yet (a first message in a new chat). */
  ensureConversation(id: string): Promise<Conversation | null> {
    const have = this.conversations()[id];
    if (have) return Promise.resolve(have);
    let p = this.fetchingConv.get(id);
    if (!p) {
      p = this.api
        .get<Conversation>(`/v1/conversations/${id}`)
        .then((c) => {
          this.putConversation(c);
          return c;
        })
        .catch(() => null)
        .finally(() => this.fetchingConv.delete(id));
      this.fetchingConv.set(id, p);
    }
    return p;
  }

  // ---- threads

  thread(id: string): ThreadState {
    return this.threads()[id] ?? EMPTY;
  }

  private patchThread(id: string, fn: (t: ThreadState) => ThreadState): void {
    this.threads.update((all) => ({ ...all, [id]: fn(all[id] ?? EMPTY) }));
  }

  async open(id: string): Promise<void> {
    this.activeId.set(id);
    const t = this.thread(id);
    if (t.loaded || t.loading) return;
    this.patchThread(id, (s) => ({ ...s, loading: true, error: undefined }));
    try {
      const page = await this.api.get<MessagePage>(`/v1/conversations/${id}/messages?limit=${PAGE}`);
      this.patchThread(id, (s) => ({
        ...s,
        messages: merge(s.messages, page.items),
        loaded: true,
        loading: false,
        olderCursor: page.next_cursor,
      }));
      this.noteMessages(id, page.items, false);
    } catch (e) {
      this.patchThread(id, (s) => ({ ...s, loading: false, error: describeError(e) }));
    }
  }

  async loadOlder(id: string): Promise<boolean> {
    const t = this.thread(id);
    if (!t.loaded || t.loadingOlder || !t.olderCursor) return false;
    this.patchThread(id, (s) => ({ ...s, loadingOlder: true }));
    try {
      const page = await this.api.get<MessagePage>(
        `/v1/conversations/${id}/messages?limit=${PAGE}&cursor=${encodeURIComponent(t.olderCursor)}`,
      );
      this.patchThread(id, (s) => ({
        ...s,
        messages: merge(s.messages, page.items),
        loadingOlder: false,
        olderCursor: page.next_cursor,
      }));
      return page.items.length > 0;
    } catch (e) {
      this.patchThread(id, (s) => ({ ...s, loadingOlder: false, error: describeError(e) }));
      return false;
    }
  }

  /** Loads everything after `after` (a gap seen in live messages, or after a resync). */
  private async fillGap(id: string, after: number): Promise<void> {
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const q: string = cursor ? `cursor=${encodeURIComponent(cursor)}` : `after_seq=${after}`;
      const page: MessagePage = await this.api.get<MessagePage>(`/v1/conversations/${id}/messages?limit=200&${q}`);
      this.mergeInto(id, page.items);
      cursor = page.next_cursor;
      if (!cursor || page.items.length === 0) return;
    }
  }

  private mergeInto(id: string, items: ChatMessage[]): void {
    if (items.length === 0) return;
    this.patchThread(id, (s) => {
      const messages = merge(s.messages, items);
      return messages === s.messages ? s : { ...s, messages };
    });
  }

  private removeFrom(id: string, messageId: string): void {
    this.patchThread(id, (s) => ({ ...s, messages: s.messages.filter((m) => m.message_id !== messageId) }));
  }

  // ---- live envelopes and catching up

  private handle(e: Envelope, live: boolean): void {
    switch (e.type) {
      case 'message':
      case 'message_updated':
        void this.onMessage(e.message, live);
        break;
      case 'status':
        this.onStatus(e);
        break;
      case 'typing':
        if (e.user_id !== this.me) {
          this.typing.update((t) => ({ ...t, [e.conversation_id]: { ...(t[e.conversation_id] ?? {}), [e.user_id]: Date.now() + 6000 } }));
        }
        break;
      case 'presence':
        this.presence.update((p) => ({ ...p, [e.user_id]: { status: e.status, last_seen: e.last_seen } }));
        break;
    }
    const cursor = (e as { cursor?: string }).cursor;
    if (live && cursor && this.caughtUp) {
      this.saveCursor(cursor);
    }
  }

  private async onMessage(m: Message, live: boolean): Promise<void> {
    const id = m.conversation_id;
    const conv = this.conversations()[id] ?? (await this.ensureConversation(id));
    if (!conv) return;
    const t = this.thread(id);
    if (t.loaded) {
      const have = highestSeq(t.messages);
      this.mergeInto(id, [m]);
      if (m.sequence_number != null && have > 0 && m.sequence_number > have + 1) {
        // a gap (the feed was trimmed, or this one overtook others): fetch what lies between, in order
        void this.fillGap(id, have).catch(() => undefined);
      }
    }
    if (live) {
      this.noteMessages(id, [m], true);
    } else {
      this.noteMessages(id, [m], false);
      this.caughtUpMessages.push(m);
    }
  }

  /** Conversation summary, unread count, typing and delivered receipts for new messages. */
  private noteMessages(id: string, items: Message[], markDelivered: boolean): void {
    let conv = this.conversations()[id];
    if (!conv) return;
    const read = this.readSeq()[id] ?? 0;
    let changed = false;
    const typingDone: string[] = [];
    const newestByAuthor = new Map<string, Message>();
    for (const m of items) {
      const seq = m.sequence_number;
      if (seq != null && seq >= conv.last_seq) {
        const fresh = seq > conv.last_seq;
        const fromOther = m.from_user_id !== this.me;
        conv = {
          ...conv,
          last_seq: seq,
          last_message_id: m.message_id,
          last_message_at: fresh ? m.created_at : conv.last_message_at,
          last_message_snippet: snippet(m),
          unread_count: fresh && fromOther && seq > read ? conv.unread_count + 1 : conv.unread_count,
        };
        changed = true;
      } else if (m.message_id === conv.last_message_id) {
        conv = { ...conv, last_message_snippet: snippet(m) };
        changed = true;
      }
      if (m.from_user_id !== this.me) {
        typingDone.push(m.from_user_id);
        const have = newestByAuthor.get(m.from_user_id);
        if (seq != null && !m.is_deleted && (!have || (have.sequence_number ?? 0) < seq)) newestByAuthor.set(m.from_user_id, m);
      }
    }
    // one receipt per author and batch: a catch-up of many messages does not send one request each
    if (markDelivered) for (const m of newestByAuthor.values()) this.markDelivered(m);
    if (changed) this.conversations.update((all) => ({ ...all, [id]: conv! }));
    if (typingDone.length) {
      this.typing.update((t) => {
        const cur = { ...(t[id] ?? {}) };
        for (const u of typingDone) delete cur[u];
        return { ...t, [id]: cur };
      });
    }
  }

  /** What arrived while away is delivered now: one receipt per conversation and author. */
  private deliveredAfterCatchUp(): void {
    const newest = new Map<string, Message>();
    for (const m of this.caughtUpMessages.splice(0)) {
      if (m.from_user_id === this.me || m.sequence_number == null || m.is_deleted) continue;
      const key = `${m.conversation_id}/${m.from_user_id}`;
      const have = newest.get(key);
      if (!have || (have.sequence_number ?? 0) < m.sequence_number) newest.set(key, m);
    }
    for (const m of newest.values()) this.markDelivered(m);
  }

  private markDelivered(m: Message): void {
    const me = this.me;
    if (!me || this.delivered.has(m.message_id) || rank(m.recipient_status?.[me]?.status) >= 1) return;
    this.delivered.add(m.message_id);
    this.api.post(`/v1/messages/${m.message_id}/delivered`).catch(() => this.delivered.delete(m.message_id));
  }

  private onStatus(e: StatusEnvelope): void {
    this.patchThread(e.conversation_id, (s) => {
      const messages = applyStatus(s.messages, e);
      return messages === s.messages ? s : { ...s, messages };
    });
  }

  /** Everything after the cursor, page by page; once at a time. */
  catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    const gen = this.generation;
    this.catchingUp = (async () => {
      do {
        this.catchUpAgain = false;
        for (let i = 0; i < 100 && this.gen(gen); i++) {
          let page: SyncPage;
          try {
            const q = this.cursor ? `?cursor=${encodeURIComponent(this.cursor)}&limit=200` : '';
            page = await this.api.get<SyncPage>(`/v1/sync${q}`);
          } catch {
            return;
          }
          if (!this.gen(gen)) return;
          if (page.resync_required) {
            await this.resync(page.next_cursor);
            break;
          }
          for (const env of page.items) this.handle(env, false);
          await Promise.resolve();
          this.deliveredAfterCatchUp();
          if (page.next_cursor) this.saveCursor(page.next_cursor);
          if (page.items.length === 0) break;
        }
      } while (this.catchUpAgain && this.gen(gen));
      if (this.gen(gen)) this.caughtUp = true;
    })().finally(() => (this.catchingUp = null));
    return this.catchingUp;
  }

  /** Away too long for the feed: reload the list and the loaded threads from the new position. */
  private async resync(cursor: string): Promise<void> {
    this.saveCursor(cursor);
    await this.refreshList();
    for (const [id, t] of Object.entries(this.threads())) {
      if (t.loaded) void this.fillGap(id, highestSeq(t.messages)).catch(() => undefined);
    }
  }

  private cursorKey(): string {
    return `c4a.cursor.${this.me}`;
  }

  private saveCursor(c: string): void {
    this.cursor = c;
    if (this.me) localStorage.setItem(this.cursorKey(), c);
  }

  private expireTyping(): void {
    const now = Date.now();
    const t = this.typing();
    let changed = false;
    const next: Record<string, Record<string, number>> = {};
    for (const [conv, users] of Object.entries(t)) {
      const keep: Record<string, number> = {};
      for (const [u, until] of Object.entries(users)) {
        if (until > now) keep[u] = until;
        else changed = true;
      }
      next[conv] = keep;
    }
    if (changed) this.typing.set(next);
  }

  // ---- sending, editing, reading

  send(conversationId: string, payload: Payload, opts: { replyTo?: string; channels?: string[]; messageId?: string } = {}): string {
    const body: SendBody = { conversation_id: conversationId, message_id: opts.messageId ?? uuid(), payload };
    if (opts.replyTo) body.reply_to_message_id = opts.replyTo;
    if (opts.channels?.length) body.channels = opts.channels;
    const entry = this.outbox?.add(body);
    if (entry) {
      this.conversations.update((all) => {
        const c = all[conversationId];
        return c ? { ...all, [conversationId]: { ...c, last_message_at: entry.created_at, last_message_snippet: snippet(asMessage(entry, this.me!)) } } : all;
      });
    }
    return body.message_id;
  }

  retry(messageId: string): void {
    this.outbox?.retry(messageId);
  }

  discard(conversationId: string, messageId: string): void {
    this.outbox?.discard(messageId);
    this.removeFrom(conversationId, messageId);
  }

  private outboxChanged(entries: readonly OutboxEntry[]): void {
    this.outboxEntries.set(entries);
    const me = this.me;
    if (!me) return;
    const byConv = new Map<string, ChatMessage[]>();
    for (const e of entries) {
      const list = byConv.get(e.body.conversation_id) ?? [];
      list.push(asMessage(e, me));
      byConv.set(e.body.conversation_id, list);
    }
    for (const [id, list] of byConv) this.mergeInto(id, list);
  }

  async edit(m: ChatMessage, text: string): Promise<void> {
    const reply = await this.api.patch<Message>(`/v1/messages/${m.message_id}`, { text });
    this.mergeInto(m.conversation_id, [{ ...reply, sequence_number: reply.sequence_number ?? m.sequence_number }]);
  }

  async remove(m: ChatMessage): Promise<void> {
    const reply = await this.api.delete<Message>(`/v1/messages/${m.message_id}`);
    this.mergeInto(m.conversation_id, [{ ...(reply ?? m), is_deleted: true, sequence_number: m.sequence_number }]);
    this.noteMessages(m.conversation_id, [{ ...m, is_deleted: true }], false);
  }

  /**
   * The user has seen these messages (the newest on screen of each author): each is marked read
   * once, and the conversation's read horizon moves to the newest.
   */
  markRead(conversationId: string, seen: Message[]): void {
    const me = this.me;
    const fresh = seen.filter(
      (m) => m.sequence_number != null && m.from_user_id !== me && !this.readMarked.has(m.message_id) && rank(m.recipient_status?.[me ?? '']?.status) < 2,
    );
    const top = Math.max(0, ...seen.map((m) => m.sequence_number ?? 0));
    const before = this.readSeq()[conversationId] ?? 0;
    if (top > before) {
      this.readSeq.update((r) => ({ ...r, [conversationId]: top }));
      const t = this.thread(conversationId);
      this.conversations.update((all) => {
        const c = all[conversationId];
        if (!c) return all;
        const left = top >= c.last_seq ? 0 : t.messages.filter((x) => (x.sequence_number ?? 0) > top && x.from_user_id !== me).length;
        return { ...all, [conversationId]: { ...c, unread_count: left } };
      });
    }
    for (const m of fresh) {
      this.readMarked.add(m.message_id);
      this.api.post(`/v1/messages/${m.message_id}/read`).catch((e) => {
        if (!(e instanceof ApiError) || e.retryable) {
          // try again the next time the thread is seen
          this.readMarked.delete(m.message_id);
        }
      });
    }
  }

  /** Fetches one message (the original of a reply that is not loaded). */
  getMessage(id: string): Promise<Message> {
    return this.api.get<Message>(`/v1/messages/${id}`);
  }

  async findUser(username: string): Promise<User | null> {
    const page = await this.api.get<Page<User>>(`/v1/users?username=${encodeURIComponent(username.trim())}`);
    const u = page.items[0] ?? null;
    if (u) this.learnUsers([u]);
    return u;
  }

  usernameOf(id: string): string {
    return this.usernames()[id] ?? 'Someone';
  }
}

function activity(c: Conversation): string {
  return c.last_message_at ?? c.updated_at ?? c.created_at;
}

function pickLive(c: Conversation): Partial<Conversation> {
  return {
    last_seq: c.last_seq,
    last_message_id: c.last_message_id,
    last_message_at: c.last_message_at,
    last_message_snippet: c.last_message_snippet,
    unread_count: c.unread_count,
  };
}
