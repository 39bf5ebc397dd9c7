import { Component, computed, effect, inject, input, untracked, viewChild } from '@angular/core';
import { Title } from '@angular/platform-browser';
import { ChatStore } from '../core/chat-store';
import { Realtime } from '../core/realtime';
import { ConversationList } from './conversation-list';
import { Icon } from './icon';
import { NewChatDialog } from './new-chat-dialog';
import { SettingsDialog } from './settings-dialog';
import { Thread } from './thread';

/** The two-pane chat: conversation list and the open thread (one pane at a time on a phone). */
@Component({
  selector: 'c4a-shell',
  imports: [ConversationList, Thread, Icon, NewChatDialog, SettingsDialog],
  template: `
    @switch (connection()) {
      @case ('reconnecting') {
        <div class="banner banner--warn" role="status" aria-live="polite">
          <span class="spinner" aria-hidden="true"></span>
          {{ online() ? 'Reconnecting…' : 'You are offline. Messages you send are kept and go out when you are back.' }}
        </div>
      }
    }
    <div class="app" [class.app--thread]="!!id()">
      <aside class="sidebar" aria-label="Conversations">
        <c4a-conversation-list [activeId]="id() ?? null" (newChat)="newChat().open('private')" (newGroup)="newChat().open('group')" (settings)="settings().open()" />
      </aside>
      <main class="main" id="main">
        @if (id(); as cid) {
          <c4a-thread [conversationId]="cid" />
        } @else {
          <div class="empty">
            <c4a-icon name="chat" [size]="56" />
            <h2>Chat4All</h2>
            <p>Pick a conversation, or start a new one.</p>
            <div class="empty__actions">
              <button class="btn btn--primary" type="button" (click)="newChat().open('private')">New chat</button>
              <button class="btn" type="button" (click)="newChat().open('group')">New group</button>
            </div>
          </div>
        }
      </main>
    </div>
    <c4a-new-chat-dialog />
    <c4a-settings-dialog />
  `,
})
export class Shell {
  readonly id = input<string | undefined>(undefined);
  private readonly store = inject(ChatStore);
  private readonly realtime = inject(Realtime);
  private readonly title = inject(Title);
  readonly connection = this.realtime.state;
  readonly newChat = viewChild.required(NewChatDialog);
  readonly settings = viewChild.required(SettingsDialog);
  readonly online = computed(() => {
    this.connection();
    return navigator.onLine;
  });

  constructor() {
    effect(() => {
      const id = this.id();
      untracked(() => {
        if (id) void this.store.open(id);
        else this.store.activeId.set(null);
      });
    });
    effect(() => {
      const n = this.store.totalUnread();
      this.title.setTitle(n > 0 ? `(${n}) Chat4All` : 'Chat4All');
    });
  }
}
