import { Component, computed, inject, input, output, signal } from '@angular/core';
import { describeError } from '../core/api';
import { ChatStore } from '../core/chat-store';
import { channelLabel, clock, fileSize, fullTime } from '../core/format';
import { ChatMessage, Message, Status } from '../core/models';
import { Uploads } from '../core/upload-service';
import { deliveryStates } from './channels';
import { Icon } from './icon';

export interface Receipt {
  userId: string;
  username: string;
  status: Status;
  at?: string;
}

/** One message in a thread: text or file, reply quote, time, ticks, receipts, channel states, actions. */
@Component({
  selector: 'c4a-message',
  imports: [Icon],
  host: {
    class: 'msg',
    '[class.msg--mine]': 'mine()',
    '[class.msg--first]': 'first()',
    '[class.msg--deleted]': 'm().is_deleted',
    '[class.msg--pending]': '!!m().local',
    '[attr.data-testid]': "'message'",
    '[attr.data-seq]': 'm().sequence_number',
    '[attr.data-id]': 'm().message_id',
    '[attr.tabindex]': '-1',
    '[attr.aria-label]': 'aria()',
    role: 'article',
  },
  template: `
    @let msg = m();
    <div class="bubble">
      @if (first() && !mine() && group()) {
        <span class="bubble__author" [style.--h]="authorHue()">{{ author() }}</span>
      }
      @if (msg.reply_to_message_id && !msg.is_deleted) {
        <button type="button" class="quote" (click)="jump.emit(msg.reply_to_message_id!)" [attr.aria-label]="'Reply to ' + (quoted()?.author ?? 'a message') + ': ' + (quoted()?.text ?? '')">
          <span class="quote__author">{{ quoted()?.author ?? '…' }}</span>
          <span class="quote__text">{{ quoted()?.text ?? 'Original message' }}</span>
        </button>
      }
      @if (msg.is_deleted) {
        <p class="bubble__text bubble__text--deleted"><c4a-icon name="delete" [size]="14" /> This message was deleted</p>
      } @else if (msg.payload.type === 'text') {
        <p class="bubble__text" data-testid="text">{{ msg.payload.text }}</p>
      } @else {
        @let f = file();
        @if (msg.payload.type === 'image' && imageUrl()) {
          <button type="button" class="media" (click)="download()" [attr.aria-label]="'Image ' + f.name + ', download'">
            <img [src]="imageUrl()" [alt]="f.name" loading="lazy" data-testid="image-preview" />
          </button>
        }
        <div class="filecard" data-testid="file-card">
          <c4a-icon name="file" [size]="30" />
          <span class="filecard__meta">
            <span class="filecard__name" data-testid="file-name">{{ f.name }}</span>
            <span class="filecard__info">{{ f.size }} · {{ f.type }}</span>
          </span>
          @if (msg.sequence_number != null || !msg.local) {
            <button type="button" class="icon-btn" (click)="download()" [attr.aria-label]="'Download ' + f.name" data-testid="download"><c4a-icon name="download" /></button>
          }
        </div>
        @if (fileError()) {
          <p class="bubble__error" role="alert">{{ fileError() }}</p>
        }
      }
      @if (channels().length) {
        <ul class="deliveries" aria-label="Delivery through channels">
          @for (c of channels(); track c.channel) {
            <li class="delivery" [class.delivery--failed]="c.failed" data-testid="channel-delivery">
              {{ label(c.channel) }} · {{ c.state }}@if (c.reason) {: {{ c.reason }}}
            </li>
          }
        </ul>
      }
      <span class="bubble__meta">
        @if (msg.is_edited && !msg.is_deleted) {
          <span class="edited">edited</span>
        }
        <time [attr.datetime]="msg.created_at" [title]="full(msg.created_at)">{{ time(msg.created_at) }}</time>
        @if (mine()) {
          <span class="ticks ticks--{{ tick() }}" tabindex="0" [attr.aria-label]="tickLabel()" data-testid="ticks" [attr.data-state]="tick()">
            @switch (tick()) {
              @case ('pending') { <c4a-icon name="clock" [size]="14" /> }
              @case ('failed') { <c4a-icon name="alert" [size]="14" /> }
              @case ('sent') { <c4a-icon name="check" [size]="16" /> }
              @default { <c4a-icon name="checks" [size]="16" /> }
            }
            @if (receipts().length > 1) {
              <span class="receipts" role="tooltip">
                @for (r of receipts(); track r.userId) {
                  <span class="receipts__row" data-testid="receipt"><b>{{ r.username }}</b> {{ r.status }}@if (r.at) { · {{ time(r.at) }}}</span>
                }
              </span>
            }
          </span>
        }
      </span>
      @if (msg.local?.state === 'failed') {
        <p class="bubble__error" role="alert">
          Not sent{{ msg.local?.error ? ': ' + msg.local?.error : '' }}
          <button type="button" class="link" (click)="retry.emit(msg)" data-testid="retry">Retry</button>
          <button type="button" class="link" (click)="discard.emit(msg)">Delete</button>
        </p>
      }
    </div>
    @if (!msg.is_deleted && !msg.local) {
      <div class="msg__actions" role="toolbar" aria-label="Message actions">
        <button type="button" class="icon-btn icon-btn--sm" (click)="reply.emit(msg)" aria-label="Reply" title="Reply" data-testid="action-reply"><c4a-icon name="reply" [size]="16" /></button>
        @if (mine() && msg.payload.type === 'text' && msg.sequence_number != null) {
          <button type="button" class="icon-btn icon-btn--sm" (click)="edit.emit(msg)" aria-label="Edit" title="Edit" data-testid="action-edit"><c4a-icon name="edit" [size]="16" /></button>
        }
        @if (mine() && msg.sequence_number != null) {
          <button type="button" class="icon-btn icon-btn--sm" (click)="remove.emit(msg)" aria-label="Delete" title="Delete" data-testid="action-delete"><c4a-icon name="delete" [size]="16" /></button>
        }
      </div>
    }
  `,
})
export class MessageBubble {
  private readonly store = inject(ChatStore);
  private readonly uploads = inject(Uploads);
  readonly m = input.required<ChatMessage>();
  readonly mine = input(false);
  readonly first = input(true);
  readonly group = input(false);
  readonly tick = input<Status | 'pending' | 'failed'>('sent');
  readonly receipts = input<Receipt[]>([]);
  readonly quotedMessage = input<Message | null>(null);
  readonly reply = output<ChatMessage>();
  readonly edit = output<ChatMessage>();
  readonly remove = output<ChatMessage>();
  readonly retry = output<ChatMessage>();
  readonly discard = output<ChatMessage>();
  readonly jump = output<string>();
  readonly imageUrl = signal<string | null>(null);
  readonly fileError = signal<string | null>(null);
  readonly time = clock;
  readonly full = fullTime;
  readonly label = channelLabel;
  private loadedFor: string | null = null;

  readonly author = computed(() => this.store.usernameOf(this.m().from_user_id));
  readonly authorHue = computed(() => {
    let h = 0;
    for (const ch of this.m().from_user_id) h = (h * 31 + ch.charCodeAt(0)) % 360;
    return h;
  });
  readonly channels = computed(() => (this.mine() ? deliveryStates(this.m()) : []));
  readonly quoted = computed(() => {
    const q = this.quotedMessage();
    if (!q) return null;
    return {
      author: q.from_user_id === this.store.userId() ? 'You' : this.store.usernameOf(q.from_user_id),
      text: q.is_deleted ? 'Message deleted' : q.payload.type === 'text' ? (q.payload.text ?? '') : (q.payload.file_reference?.filename ?? 'File'),
    };
  });
  readonly file = computed(() => {
    const p = this.m().payload;
    const meta = (p.metadata ?? {}) as Record<string, unknown>;
    const ref = p.file_reference;
    return {
      id: ref?.file_id ?? p.file_id ?? '',
      name: ref?.filename ?? (meta['filename'] as string) ?? 'File',
      size: fileSize(ref?.size_bytes ?? (meta['size_bytes'] as number)),
      type: ref?.mime_type ?? (meta['mime_type'] as string) ?? '',
    };
  });
  readonly tickLabel = computed(() => {
    const t = this.tick();
    const who = this.receipts();
    const base = t === 'pending' ? 'Waiting to send' : t === 'failed' ? 'Not sent' : t === 'sent' ? 'Sent' : t === 'delivered' ? 'Delivered' : 'Read';
    return who.length > 1 ? `${base}. ${who.map((r) => `${r.username}: ${r.status}`).join(', ')}` : base;
  });
  readonly aria = computed(() => {
    const m = this.m();
    const who = this.mine() ? 'You' : this.author();
    const what = m.is_deleted ? 'deleted message' : m.payload.type === 'text' ? m.payload.text : `${m.payload.type} ${this.file().name}`;
    return `${who}, ${clock(m.created_at)}: ${what}`;
  });

  ngOnChanges(): void {
    this.loadPreview();
  }

  private loadPreview(): void {
    const m = this.m();
    const id = this.file().id;
    if (m.payload.type !== 'image' || m.is_deleted || !id || this.loadedFor === id) return;
    const local = this.uploads.previewOf(m.message_id);
    if (local) {
      this.imageUrl.set(local);
      this.loadedFor = id;
      return;
    }
    if (m.sequence_number == null && m.local) return;
    this.loadedFor = id;
    this.uploads
      .downloadUrl(id)
      .then((u) => this.imageUrl.set(u))
      .catch(() => (this.loadedFor = null));
  }

  async download(): Promise<void> {
    this.fileError.set(null);
    try {
      const url = await this.uploads.downloadUrl(this.file().id);
      const a = document.createElement('a');
      a.href = url;
      a.download = this.file().name;
      a.rel = 'noopener';
      document.body.appendChild(a);
      a.click();
      a.remove();
    } catch (e) {
      this.fileError.set(describeError(e));
    }
  }
}
