import { Component, computed, inject, input, output, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { ChatStore } from '../core/chat-store';
import { channelLabel, conversationTitle, hue, initials, listTime, peerId } from '../core/format';
import { Conversation } from '../core/models';
import { Session } from '../core/session';
import { Uploads } from '../core/upload-service';
import { Icon } from './icon';
import { channelsOf } from './channels';

interface Row {
  c: Conversation;
  title: string;
  time: string;
  snippet: string;
  typing: string | null;
  online: boolean | null;
  unread: number;
  channels: string[];
  hue: number;
  initials: string;
  failed: boolean;
}

@Component({
  selector: 'c4a-conversation-list',
  imports: [RouterLink, Icon],
  template: `
    <header class="side-head">
      <div class="me">
        <span class="avatar avatar--sm" [style.--h]="myHue()" aria-hidden="true">{{ myInitials() }}</span>
        <span class="me__name">{{ session.user()?.username }}</span>
      </div>
      <div class="side-head__actions">
        <button class="icon-btn" type="button" (click)="newChat.emit()" aria-label="New chat" title="New chat"><c4a-icon name="chat" /></button>
        <button class="icon-btn" type="button" (click)="newGroup.emit()" aria-label="New group" title="New group"><c4a-icon name="group" /></button>
        <button class="icon-btn" type="button" (click)="settings.emit()" aria-label="Settings" title="Settings"><c4a-icon name="settings" /></button>
        <button class="icon-btn" type="button" (click)="logout()" aria-label="Sign out" title="Sign out"><c4a-icon name="logout" /></button>
      </div>
    </header>
    <div class="side-search">
      <c4a-icon name="search" [size]="18" />
      <input type="search" placeholder="Search conversations" aria-label="Search conversations" [value]="filter()" (input)="filter.set($any($event.target).value)" />
    </div>
    @if (store.listError(); as err) {
      <p class="side-error" role="alert">{{ err }} <button class="link" type="button" (click)="store.refreshList()">Retry</button></p>
    }
    <nav class="convs" aria-label="Conversation list">
      @if (!store.listLoaded() && !store.listError()) {
        <p class="convs__empty">Loading conversations…</p>
      } @else if (rows().length === 0) {
        <p class="convs__empty">{{ filter() ? 'No conversation matches.' : 'No conversations yet. Start one with the chat button above.' }}</p>
      }
      <ul role="list" (keydown)="keys($event)">
        @for (r of rows(); track r.c.conversation_id) {
          <li>
            <a class="conv" [class.conv--active]="r.c.conversation_id === activeId()" [routerLink]="['/c', r.c.conversation_id]"
               [attr.aria-current]="r.c.conversation_id === activeId() ? 'page' : null"
               [attr.aria-label]="label(r)" data-testid="conversation">
              <span class="avatar" [style.--h]="r.hue" aria-hidden="true">
                {{ r.initials }}
                @if (r.online !== null) {
                  <span class="presence" [class.presence--on]="r.online"></span>
                }
              </span>
              <span class="conv__body">
                <span class="conv__top">
                  <span class="conv__title">{{ r.title }}</span>
                  @for (ch of r.channels; track ch) {
                    <span class="badge badge--{{ ch }}" [title]="'Reached through ' + channelName(ch)">{{ channelName(ch) }}</span>
                  }
                  <time class="conv__time" [class.conv__time--unread]="r.unread > 0">{{ r.time }}</time>
                </span>
                <span class="conv__bottom">
                  @if (r.typing) {
                    <span class="conv__typing">{{ r.typing }}</span>
                  } @else {
                    <span class="conv__snippet">@if (r.failed) {<c4a-icon name="alert" [size]="14" class="icon--danger" />}{{ r.snippet }}</span>
                  }
                  @if (r.unread > 0) {
                    <span class="unread" data-testid="unread">{{ r.unread > 99 ? '99+' : r.unread }}</span>
                  }
                </span>
              </span>
            </a>
          </li>
        }
      </ul>
    </nav>
  `,
})
export class ConversationList {
  readonly store = inject(ChatStore);
  readonly session = inject(Session);
  private readonly uploads = inject(Uploads);
  private readonly router = inject(Router);
  readonly activeId = input<string | null>(null);
  readonly newChat = output<void>();
  readonly newGroup = output<void>();
  readonly settings = output<void>();
  readonly filter = signal('');
  readonly channelName = channelLabel;

  readonly myInitials = computed(() => initials(this.session.user()?.username ?? '?'));
  readonly myHue = computed(() => hue(this.session.user()?.userId ?? ''));

  readonly rows = computed<Row[]>(() => {
    const me = this.session.user()?.userId;
    const typing = this.store.typing();
    const presence = this.store.presence();
    const threads = this.store.threads();
    const names = this.store.usernames();
    const failed = new Set(this.store.outboxEntries().filter((e) => e.state === 'failed').map((e) => e.body.conversation_id));
    const q = this.filter().trim().toLowerCase();
    const out: Row[] = [];
    for (const c of this.store.sorted()) {
      const title = conversationTitle(c, me);
      if (q && !title.toLowerCase().includes(q)) continue;
      const who = Object.keys(typing[c.conversation_id] ?? {});
      const peer = peerId(c, me);
      out.push({
        c,
        title,
        time: listTime(c.last_message_at ?? c.created_at),
        snippet: c.last_message_snippet ?? (c.type === 'group' ? `${c.member_count} members` : 'No messages yet'),
        typing: who.length === 0 ? null : c.type === 'private' ? 'typing…' : `${names[who[0]] ?? 'Someone'} is typing…`,
        online: peer ? presence[peer]?.status === 'online' : null,
        unread: c.unread_count,
        channels: channelsOf(threads[c.conversation_id]?.messages ?? []),
        hue: hue(c.conversation_id),
        initials: initials(title),
        failed: failed.has(c.conversation_id),
      });
    }
    return out;
  });

  label(r: Row): string {
    const parts = [r.title];
    if (r.online) parts.push('online');
    if (r.unread) parts.push(`${r.unread} unread`);
    parts.push(r.typing ?? r.snippet);
    return parts.join(', ');
  }

  /** Arrow keys move between conversations. */
  keys(e: KeyboardEvent): void {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = Array.from((e.currentTarget as HTMLElement).querySelectorAll<HTMLAnchorElement>('a.conv'));
    const i = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = links[Math.max(0, Math.min(links.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  }

  async logout(): Promise<void> {
    const unsent = this.store.outboxEntries().length;
    const uploading = this.uploads.list().length;
    if ((unsent || uploading) && !confirm(`You have ${unsent + uploading} unsent message(s) or upload(s). Sign out and discard them?`)) {
      return;
    }
    this.store.clearOutbox();
    await this.session.logout();
    await this.router.navigate(['/login']);
  }
}
