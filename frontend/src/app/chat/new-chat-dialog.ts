import { Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { Router } from '@angular/router';
import { Api, describeError } from '../core/api';
import { ChatStore } from '../core/chat-store';
import { hue, initials } from '../core/format';
import { Conversation, User } from '../core/models';
import { Icon } from './icon';

/** Start a private chat (find a user by name) or create a group with a name and members. */
@Component({
  selector: 'c4a-new-chat-dialog',
  imports: [Icon],
  template: `
    <dialog #dlg class="dialog" aria-labelledby="new-title" (close)="reset()">
      <form class="dialog__body" (submit)="$event.preventDefault(); mode() === 'private' ? startPrivate() : createGroup()">
        <header class="dialog__head">
          <h2 id="new-title">{{ mode() === 'private' ? 'New chat' : 'New group' }}</h2>
          <button type="button" class="icon-btn" (click)="dlg.close()" aria-label="Close"><c4a-icon name="close" /></button>
        </header>
        @if (mode() === 'group') {
          <label class="field">
            <span>Group name</span>
            <input [value]="name()" (input)="name.set($any($event.target).value)" maxlength="100" required data-testid="group-name" />
          </label>
        }
        <label class="field">
          <span>{{ mode() === 'private' ? 'Username' : 'Add members by username' }}</span>
          <span class="field__row">
            <input #who [value]="query()" (input)="query.set($any($event.target).value)" (keydown.enter)="$event.preventDefault(); lookUp()"
                   autocomplete="off" spellcheck="false" placeholder="exact username, e.g. alice" data-testid="user-search" />
            <button type="button" class="btn" (click)="lookUp()" [disabled]="!query().trim() || busy()" data-testid="user-search-go">
              {{ mode() === 'private' ? 'Find' : 'Add' }}</button>
          </span>
          <small class="field__hint">Usernames are matched exactly (not case-sensitive).</small>
        </label>
        @if (error()) { <p class="dialog__error" role="alert">{{ error() }}</p> }
        @if (mode() === 'private' && found(); as u) {
          <button type="submit" class="person" data-testid="user-result">
            <span class="avatar avatar--sm" [style.--h]="hueOf(u.user_id)" aria-hidden="true">{{ init(u.username) }}</span>
            <span>Chat with <b>{{ u.username }}</b></span>
          </button>
        }
        @if (mode() === 'group') {
          <ul class="chips" aria-label="Members to add">
            @for (u of picked(); track u.user_id) {
              <li class="chip">{{ u.username }} <button type="button" class="chip__x" (click)="unpick(u)" [attr.aria-label]="'Remove ' + u.username">×</button></li>
            }
          </ul>
          <footer class="dialog__foot">
            <button type="submit" class="btn btn--primary" [disabled]="!name().trim() || busy()" data-testid="create-group">Create group</button>
          </footer>
        }
      </form>
    </dialog>
  `,
})
export class NewChatDialog {
  private readonly api = inject(Api);
  private readonly store = inject(ChatStore);
  private readonly router = inject(Router);
  private readonly dlg = viewChild.required<ElementRef<HTMLDialogElement>>('dlg');
  private readonly who = viewChild.required<ElementRef<HTMLInputElement>>('who');
  readonly mode = signal<'private' | 'group'>('private');
  readonly query = signal('');
  readonly name = signal('');
  readonly found = signal<User | null>(null);
  readonly picked = signal<User[]>([]);
  readonly busy = signal(false);
  readonly error = signal<string | null>(null);
  hueOf = hue;
  init = initials;

  open(mode: 'private' | 'group'): void {
    this.reset();
    this.mode.set(mode);
    this.dlg().nativeElement.showModal();
    queueMicrotask(() => this.who().nativeElement.focus());
  }

  reset(): void {
    this.query.set('');
    this.name.set('');
    this.found.set(null);
    this.picked.set([]);
    this.error.set(null);
  }

  async lookUp(): Promise<void> {
    const q = this.query().trim();
    if (!q) return;
    this.busy.set(true);
    this.error.set(null);
    this.found.set(null);
    try {
      const u = await this.store.findUser(q);
      if (!u) {
        this.error.set(`Nobody is called “${q}”.`);
      } else if (u.user_id === this.store.userId()) {
        this.error.set('That is you.');
      } else if (this.mode() === 'private') {
        this.found.set(u);
      } else {
        if (!this.picked().some((p) => p.user_id === u.user_id)) this.picked.update((l) => [...l, u]);
        this.query.set('');
      }
    } catch (e) {
      this.error.set(describeError(e));
    } finally {
      this.busy.set(false);
    }
  }

  unpick(u: User): void {
    this.picked.update((l) => l.filter((x) => x.user_id !== u.user_id));
  }

  async startPrivate(): Promise<void> {
    const u = this.found();
    if (!u) {
      await this.lookUp();
      return;
    }
    await this.create({ type: 'private', member_ids: [u.user_id] });
  }

  async createGroup(): Promise<void> {
    if (this.query().trim()) await this.lookUp();
    await this.create({ type: 'group', name: this.name().trim(), member_ids: this.picked().map((u) => u.user_id) });
  }

  private async create(body: Record<string, unknown>): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    try {
      const c = await this.api.post<Conversation>('/v1/conversations', body);
      this.store.putConversation(c);
      this.dlg().nativeElement.close();
      await this.router.navigate(['/c', c.conversation_id]);
    } catch (e) {
      this.error.set(describeError(e));
    } finally {
      this.busy.set(false);
    }
  }
}
