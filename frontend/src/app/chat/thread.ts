import { Component, DestroyRef, ElementRef, Injector, afterNextRender, computed, effect, inject, input, signal, untracked, viewChild } from '@angular/core';
import { RouterLink } from '@angular/router';
import { describeError } from '../core/api';
import { ChatStore } from '../core/chat-store';
import { conversationTitle, dayKey, dayLabel, fileSize, fullTime, hue, initials, peerId, speed } from '../core/format';
import { ChatMessage, Conversation, Message } from '../core/models';
import { Realtime } from '../core/realtime';
import { Uploads } from '../core/upload-service';
import { UploadView } from '../core/uploads';
import { horizons, recipientStatuses, tick } from '../core/timeline';
import { Composer, Draft } from './composer';
import { GroupPanel } from './group-panel';
import { Icon } from './icon';
import { MessageBubble, Receipt } from './message';

interface Row {
  m: ChatMessage;
  day: string | null;
  unreadDivider: boolean;
  first: boolean;
  mine: boolean;
  tick: ReturnType<typeof tick>;
  receipts: Receipt[];
}

@Component({
  selector: 'c4a-thread',
  imports: [MessageBubble, Composer, Icon, GroupPanel, RouterLink],
  host: { class: 'thread', '(dragenter)': 'drag($event, true)', '(dragover)': 'drag($event, true)', '(dragleave)': 'drag($event, false)', '(drop)': 'drop($event)' },
  template: `
    <header class="thread__head">
      <a class="icon-btn thread__back" routerLink="/" aria-label="Back to conversations"><c4a-icon name="back" /></a>
      <span class="avatar" [style.--h]="avatarHue()" aria-hidden="true">{{ avatarInitials() }}
        @if (peerOnline() !== null) { <span class="presence" [class.presence--on]="peerOnline()"></span> }
      </span>
      <div class="thread__title">
        <h2 data-testid="thread-title">{{ title() }}</h2>
        <p class="thread__sub" aria-live="polite" data-testid="thread-sub">
          @if (typingText()) { <span class="typing" data-testid="typing">{{ typingText() }}</span> } @else { {{ subtitle() }} }
        </p>
      </div>
      @if (conv()?.type === 'group') {
        <button type="button" class="icon-btn" (click)="panel.set(!panel())" [attr.aria-expanded]="panel()" aria-label="Group info" title="Group info" data-testid="group-info"><c4a-icon name="info" /></button>
      }
    </header>
    <div class="thread__body">
      <div class="scroller" #scroller (scroll)="onScroll()" role="log" aria-label="Messages" aria-live="polite" aria-relevant="additions" tabindex="0" (keydown)="keys($event)" data-testid="scroller">
        @if (state().loadingOlder) { <p class="scroller__note" role="status">Loading earlier messages…</p> }
        @else if (state().loaded && !state().olderCursor && rows().length) { <p class="scroller__note">This is the beginning of the conversation.</p> }
        @if (state().loading && !state().loaded) { <p class="scroller__note" role="status">Loading messages…</p> }
        @if (state().error; as err) { <p class="scroller__note scroller__note--error" role="alert">{{ err }}</p> }
        @if (state().loaded && rows().length === 0 && uploadsHere().length === 0) {
          <p class="scroller__note">No messages yet. Say hello!</p>
        }
        @for (r of rows(); track r.m.message_id) {
          @if (r.day) { <div class="day" role="separator"><span>{{ r.day }}</span></div> }
          @if (r.unreadDivider) { <div class="unread-divider" role="separator"><span>Unread messages</span></div> }
          <c4a-message [m]="r.m" [mine]="r.mine" [first]="r.first" [group]="conv()?.type === 'group'" [tick]="r.tick" [receipts]="r.receipts"
                       [quotedMessage]="quoteOf(r.m)" (reply)="startReply($event)" (edit)="startEdit($event)" (remove)="remove($event)"
                       (retry)="store.retry($event.message_id)" (discard)="store.discard($event.conversation_id, $event.message_id)" (jump)="jumpTo($event)" />
        }
        @for (u of uploadsHere(); track u.key) {
          <div class="msg msg--mine msg--first" data-testid="upload">
            <div class="bubble upload">
              @if (u.previewUrl) { <img class="upload__preview" [src]="u.previewUrl" alt="" /> }
              <div class="filecard">
                <c4a-icon name="file" [size]="30" />
                <span class="filecard__meta">
                  <span class="filecard__name">{{ u.filename }}</span>
                  <span class="filecard__info" data-testid="upload-status">{{ uploadText(u) }}</span>
                </span>
              </div>
              <progress class="upload__bar" [max]="u.size || 1" [value]="u.sent" [attr.aria-label]="'Upload of ' + u.filename" data-testid="upload-progress"></progress>
              <div class="upload__actions">
                @switch (u.state) {
                  @case ('uploading') { <button type="button" class="btn btn--sm" (click)="uploads.pause(u.key)" data-testid="upload-pause"><c4a-icon name="pause" [size]="16" /> Pause</button> }
                  @case ('paused') { <button type="button" class="btn btn--sm" (click)="uploads.resume(u.key)" data-testid="upload-resume"><c4a-icon name="play" [size]="16" /> Resume</button> }
                  @case ('failed') { <button type="button" class="btn btn--sm" (click)="uploads.resume(u.key)"><c4a-icon name="retry" [size]="16" /> Retry</button> }
                  @case ('needs_file') {
                    <label class="btn btn--sm">Select {{ u.filename }} again<input type="file" hidden (change)="reselect(u, $event)" /></label>
                  }
                }
                @if (u.state !== 'completing' && u.state !== 'done') {
                  <button type="button" class="btn btn--sm btn--ghost" (click)="uploads.cancel(u.key)" data-testid="upload-cancel"><c4a-icon name="close" [size]="16" /> Cancel</button>
                }
              </div>
              @if (u.error) { <p class="bubble__error" role="alert">{{ u.error }}</p> }
            </div>
          </div>
        }
      </div>
      @if (newBelow() > 0) {
        <button type="button" class="jump" (click)="toBottom(true)" data-testid="new-below"><c4a-icon name="down" [size]="18" /> {{ newBelow() }} new</button>
      }
      @if (dragging()) {
        <div class="dropzone" aria-hidden="true"><c4a-icon name="attach" [size]="40" /><p>Drop files to send them to {{ title() }}</p></div>
      }
    </div>
    @if (actionError()) { <p class="thread__error" role="alert">{{ actionError() }} <button type="button" class="link" (click)="actionError.set(null)">Dismiss</button></p> }
    <c4a-composer [replyTo]="replyTo()" [replyAuthor]="replyAuthor()" [editing]="editing()" (send)="send($event)" (saveEdit)="saveEdit($event)"
                  (cancel)="replyTo.set(null); editing.set(null)" (typing)="typed()" (attach)="attach($event)" (editLast)="editLast()" />
    @if (panel() && conv(); as c) {
      <c4a-group-panel [conversation]="c" (closed)="panel.set(false)" />
    }
  `,
})
export class Thread {
  readonly conversationId = input.required<string>();
  readonly store = inject(ChatStore);
  readonly uploads = inject(Uploads);
  private readonly realtime = inject(Realtime);
  private readonly injector = inject(Injector);
  private readonly scroller = viewChild.required<ElementRef<HTMLElement>>('scroller');
  private readonly composer = viewChild.required(Composer);

  readonly replyTo = signal<ChatMessage | null>(null);
  readonly editing = signal<ChatMessage | null>(null);
  readonly panel = signal(false);
  readonly newBelow = signal(0);
  readonly dragging = signal(false);
  readonly actionError = signal<string | null>(null);
  private readonly quotes = signal<Record<string, Message>>({});
  private readonly unreadFrom = signal<number | null>(null);
  private initial = true;
  private lastTyping = 0;
  private renderedIds: string[] = [];

  readonly me = computed(() => this.store.userId() ?? '');
  readonly conv = computed<Conversation | null>(() => this.store.conversations()[this.conversationId()] ?? null);
  readonly state = computed(() => this.store.thread(this.conversationId()));
  readonly title = computed(() => (this.conv() ? conversationTitle(this.conv()!, this.me()) : ''));
  readonly avatarHue = computed(() => hue(this.conversationId()));
  readonly avatarInitials = computed(() => initials(this.title() || '?'));
  readonly peer = computed(() => (this.conv() ? peerId(this.conv()!, this.me()) : null));
  readonly peerOnline = computed(() => {
    const p = this.peer();
    return p ? this.store.presence()[p]?.status === 'online' : null;
  });
  readonly subtitle = computed(() => {
    const c = this.conv();
    if (!c) return '';
    if (c.type === 'group') {
      const names = c.members.map((m) => (m.user_id === this.me() ? 'You' : m.username));
      return names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
    }
    const p = this.peer();
    const pr = p ? this.store.presence()[p] : undefined;
    if (pr?.status === 'online') return 'online';
    return pr?.last_seen ? `last seen ${fullTime(pr.last_seen)}` : '';
  });
  readonly typingText = computed(() => {
    const who = Object.keys(this.store.typing()[this.conversationId()] ?? {});
    if (!who.length) return '';
    if (this.conv()?.type === 'private') return 'typing…';
    const names = who.map((u) => this.store.usernameOf(u));
    return names.length === 1 ? `${names[0]} is typing…` : `${names.slice(0, 2).join(' and ')} are typing…`;
  });
  readonly uploadsHere = computed(() => this.uploads.list().filter((u) => u.conversationId === this.conversationId() && u.state !== 'cancelled'));

  readonly rows = computed<Row[]>(() => {
    const list = this.state().messages;
    const me = this.me();
    const c = this.conv();
    const others = (c?.members ?? []).map((m) => m.user_id).filter((u) => u !== me);
    const h = horizons(list, me);
    const out: Row[] = [];
    let prev: ChatMessage | null = null;
    let divider = false;
    for (const m of list) {
      const day = !prev || dayKey(prev.created_at) !== dayKey(m.created_at) ? dayLabel(m.created_at) : null;
      const mine = m.from_user_id === me;
      const recipients = mine ? (m.to_user_ids?.length ? m.to_user_ids : others) : [];
      const from = this.unreadFrom();
      const showDivider = !divider && !mine && from != null && (m.sequence_number ?? 0) > from;
      if (showDivider) divider = true;
      const first = !prev || prev.from_user_id !== m.from_user_id || !!day || Date.parse(m.created_at) - Date.parse(prev.created_at) > 5 * 60_000;
      out.push({
        m,
        day,
        unreadDivider: showDivider,
        first,
        mine,
        tick: mine ? tick(m, recipients, h) : 'sent',
        receipts: mine
          ? recipientStatuses(m, recipients, h).map((r) => ({ ...r, username: this.store.usernameOf(r.userId) }))
          : [],
      });
      prev = m;
    }
    return out;
  });

  constructor() {
    effect(() => {
      this.conversationId();
      untracked(() => {
        this.replyTo.set(null);
        this.editing.set(null);
        this.panel.set(false);
        this.newBelow.set(0);
        this.initial = true;
        this.renderedIds = [];
        this.unreadFrom.set(null);
      });
    });
    // keep the view where the reader is: at the bottom for new messages, in place when older ones load
    effect(() => {
      const rows = this.rows();
      const loaded = this.state().loaded;
      this.uploadsHere().length;
      untracked(() => this.beforeRender(rows, loaded));
    });
    const onVisible = () => this.markVisible();
    document.addEventListener('visibilitychange', onVisible);
    inject(DestroyRef).onDestroy(() => document.removeEventListener('visibilitychange', onVisible));
  }

  private beforeRender(rows: Row[], loaded: boolean): void {
    const el = this.scroller()?.nativeElement;
    if (!el) return;
    if (this.unreadFrom() == null && loaded) {
      // the divider marks what was unread when the thread opened, not what arrives while reading
      const read = this.store.readSeq()[this.conversationId()] ?? 0;
      const unread = rows.some((r) => !r.mine && (r.m.sequence_number ?? 0) > read);
      this.unreadFrom.set(unread ? read : Number.MAX_SAFE_INTEGER);
    }
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    const prevHeight = el.scrollHeight;
    const prevTop = el.scrollTop;
    const ids = rows.map((r) => r.m.message_id);
    const oldFirst = this.renderedIds[0];
    const oldLast = this.renderedIds[this.renderedIds.length - 1];
    const prepended = !!oldFirst && ids[0] !== oldFirst && ids.includes(oldFirst);
    const lastRow = rows[rows.length - 1];
    const appended = !!lastRow && lastRow.m.message_id !== oldLast && !this.renderedIds.includes(lastRow.m.message_id);
    const ownNew = appended && lastRow.mine;
    this.renderedIds = ids;
    afterNextRender(
      () => {
        if (this.initial && loaded) {
          this.initial = false;
          const divider = el.querySelector('.unread-divider') as HTMLElement | null;
          if (divider && divider.offsetTop > el.clientHeight) el.scrollTop = divider.offsetTop - 60;
          else el.scrollTop = el.scrollHeight;
        } else if (prepended) {
          el.scrollTop = prevTop + (el.scrollHeight - prevHeight);
        } else if (atBottom || ownNew) {
          el.scrollTop = el.scrollHeight;
          this.newBelow.set(0);
        } else if (appended && !lastRow.mine) {
          this.newBelow.update((n) => n + 1);
        }
        // a short history that does not fill the view: load more until it scrolls
        if (loaded && el.scrollHeight <= el.clientHeight + 40 && this.state().olderCursor) {
          void this.store.loadOlder(this.conversationId());
        }
        this.markVisible();
      },
      { injector: this.injector },
    );
  }

  onScroll(): void {
    const el = this.scroller().nativeElement;
    if (el.scrollTop < 400) void this.store.loadOlder(this.conversationId());
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 80) this.newBelow.set(0);
    this.markVisible();
  }

  toBottom(smooth = false): void {
    const el = this.scroller().nativeElement;
    el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    this.newBelow.set(0);
  }

  /**
   * Marks as read, while the page is visible, the newest message on screen of each other author
   * (receipts are per message: each author's ticks need their own mark; earlier ones follow).
   */
  private markVisible(): void {
    if (document.visibilityState !== 'visible') return;
    const el = this.scroller()?.nativeElement;
    if (!el) return;
    const bottom = el.scrollTop + el.clientHeight;
    const nodes = el.querySelectorAll<HTMLElement>('c4a-message');
    const rows = this.rows();
    const newest = new Map<string, Message>();
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      if (n.offsetTop + n.offsetHeight < el.scrollTop) break;
      const row = rows[i];
      if (n.offsetTop + Math.min(n.offsetHeight, 40) > bottom + 1 || !row || row.mine || row.m.sequence_number == null) continue;
      if (!newest.has(row.m.from_user_id)) newest.set(row.m.from_user_id, row.m);
    }
    if (newest.size) this.store.markRead(this.conversationId(), [...newest.values()]);
  }

  keys(e: KeyboardEvent): void {
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    const items = Array.from(this.scroller().nativeElement.querySelectorAll<HTMLElement>('c4a-message'));
    if (!items.length) return;
    const i = items.findIndex((x) => x === document.activeElement || x.contains(document.activeElement));
    const next = i < 0 ? items[items.length - 1] : items[Math.max(0, Math.min(items.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    e.preventDefault();
    next.focus();
  }

  quoteOf(m: ChatMessage): Message | null {
    const id = m.reply_to_message_id;
    if (!id) return null;
    const here = this.state().messages.find((x) => x.message_id === id);
    if (here) return here;
    const cached = this.quotes()[id];
    if (cached) return cached;
    queueMicrotask(() => {
      if (this.quotes()[id]) return;
      this.store
        .getMessage(id)
        .then((q) => this.quotes.update((all) => ({ ...all, [id]: q })))
        .catch(() => undefined);
    });
    return null;
  }

  jumpTo(id: string): void {
    const node = this.scroller().nativeElement.querySelector<HTMLElement>(`c4a-message[data-id="${CSS.escape(id)}"]`);
    if (node) {
      node.scrollIntoView({ block: 'center', behavior: 'smooth' });
      node.classList.add('msg--flash');
      setTimeout(() => node.classList.remove('msg--flash'), 1200);
      node.focus({ preventScroll: true });
    }
  }

  replyAuthor(): string {
    const r = this.replyTo();
    return !r ? '' : r.from_user_id === this.me() ? 'yourself' : this.store.usernameOf(r.from_user_id);
  }

  startReply(m: ChatMessage): void {
    this.editing.set(null);
    this.replyTo.set(m);
  }

  startEdit(m: ChatMessage): void {
    this.replyTo.set(null);
    this.editing.set(m);
  }

  editLast(): void {
    const mine = [...this.state().messages].reverse().find((m) => m.from_user_id === this.me() && m.payload.type === 'text' && !m.is_deleted && m.sequence_number != null);
    if (mine) this.startEdit(mine);
  }

  send(d: Draft): void {
    const id = this.conversationId();
    this.store.send(id, { type: 'text', text: d.text }, { replyTo: this.replyTo()?.message_id, channels: d.channels });
    this.replyTo.set(null);
    this.toBottom();
  }

  async saveEdit(text: string): Promise<void> {
    const m = this.editing();
    this.editing.set(null);
    if (!m || text === m.payload.text) return;
    try {
      await this.store.edit(m, text);
    } catch (e) {
      this.actionError.set(`The message could not be edited: ${describeError(e)}`);
    }
  }

  async remove(m: ChatMessage): Promise<void> {
    if (!confirm('Delete this message for everyone?')) return;
    try {
      await this.store.remove(m);
    } catch (e) {
      this.actionError.set(`The message could not be deleted: ${describeError(e)}`);
    }
  }

  typed(): void {
    const now = Date.now();
    if (now - this.lastTyping > 2000) {
      this.lastTyping = now;
      this.realtime.typing(this.conversationId());
    }
  }

  attach(files: File[]): void {
    const channels = this.composer().channels();
    for (const f of files) {
      void this.uploads.add(this.conversationId(), f, { replyTo: this.replyTo()?.message_id, channels });
    }
    this.replyTo.set(null);
    queueMicrotask(() => this.toBottom());
  }

  reselect(u: UploadView, e: Event): void {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    input.value = '';
    if (f && !this.uploads.provideFile(u.key, f)) {
      this.actionError.set(`That is not the same file (${u.filename}, ${fileSize(u.size)}).`);
    }
  }

  uploadText(u: UploadView): string {
    const pct = u.size ? Math.floor((u.sent / u.size) * 100) : 0;
    const sizes = `${fileSize(u.sent)} of ${fileSize(u.size)}`;
    switch (u.state) {
      case 'uploading':
        return `${pct}% · ${sizes}${u.speed ? ' · ' + speed(u.speed) : ''}`;
      case 'paused':
        return `Paused at ${pct}% · ${sizes}`;
      case 'completing':
        return 'Checking the file…';
      case 'needs_file':
        return `Interrupted at ${pct}% — select the file again to continue`;
      case 'failed':
        return 'Upload failed';
      default:
        return sizes;
    }
  }

  drag(e: DragEvent, on: boolean): void {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    if (on) this.dragging.set(true);
    else if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node)) this.dragging.set(false);
  }

  drop(e: DragEvent): void {
    e.preventDefault();
    this.dragging.set(false);
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (files.length) this.attach(files);
  }
}
