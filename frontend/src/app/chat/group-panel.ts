import { Component, ElementRef, afterNextRender, computed, inject, input, output, signal, viewChild } from '@angular/core';
import { Router } from '@angular/router';
import { Api, describeError } from '../core/api';
import { ChatStore } from '../core/chat-store';
import { hue, initials } from '../core/format';
import { Conversation, Member, Role } from '../core/models';
import { Icon } from './icon';

/** Group details: members and roles (owner/admin rules as the node enforces them), add, remove, leave. */
@Component({
  selector: 'c4a-group-panel',
  imports: [Icon],
  host: { class: 'panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'panel-title', '(keydown.escape)': 'closed.emit()' },
  template: `
    <header class="panel__head">
      <h3 id="panel-title" tabindex="-1" #heading>{{ conversation().name }}</h3>
      <button type="button" class="icon-btn" (click)="closed.emit()" aria-label="Close group info"><c4a-icon name="close" /></button>
    </header>
    <p class="panel__sub">{{ conversation().member_count }} members · you are {{ myRole() }}</p>
    @if (canAdd()) {
      <form class="panel__add" (submit)="$event.preventDefault(); add()">
        <label class="field field--inline">
          <span class="sr-only">Add a member by username</span>
          <input [value]="adding()" (input)="adding.set($any($event.target).value)" placeholder="Add by username" autocomplete="off" data-testid="add-member-input" />
        </label>
        <button class="btn btn--sm btn--primary" type="submit" [disabled]="!adding().trim() || busy()" data-testid="add-member">Add</button>
      </form>
    }
    @if (error()) { <p class="panel__error" role="alert">{{ error() }}</p> }
    <ul class="members" role="list">
      @for (m of members(); track m.user_id) {
        <li class="member" data-testid="member">
          <span class="avatar avatar--sm" [style.--h]="hueOf(m.user_id)" aria-hidden="true">{{ init(m.username) }}</span>
          <span class="member__name">{{ m.username }}@if (m.user_id === me()) { (you)}</span>
          @if (myRole() === 'owner' && m.user_id !== me()) {
            <select [value]="m.role" (change)="setRole(m, $any($event.target).value)" [attr.aria-label]="'Role of ' + m.username" data-testid="role-select">
              <option value="member">member</option>
              <option value="admin">admin</option>
              <option value="owner">owner</option>
            </select>
          } @else {
            <span class="role role--{{ m.role }}">{{ m.role }}</span>
          }
          @if (canRemove(m)) {
            <button type="button" class="icon-btn icon-btn--sm" (click)="removeMember(m)" [attr.aria-label]="'Remove ' + m.username" title="Remove from group"><c4a-icon name="close" [size]="16" /></button>
          }
        </li>
      }
    </ul>
    <button type="button" class="btn btn--danger btn--block" (click)="leave()" [disabled]="busy()" data-testid="leave">Leave group</button>
  `,
})
export class GroupPanel {
  private readonly api = inject(Api);
  private readonly store = inject(ChatStore);
  private readonly router = inject(Router);
  readonly conversation = input.required<Conversation>();
  readonly closed = output<void>();
  readonly adding = signal('');
  readonly busy = signal(false);
  readonly error = signal<string | null>(null);
  private readonly heading = viewChild.required<ElementRef<HTMLElement>>('heading');
  readonly me = computed(() => this.store.userId());
  readonly myRole = computed<Role>(() => this.conversation().members.find((m) => m.user_id === this.me())?.role ?? 'member');
  readonly canAdd = computed(() => this.myRole() === 'owner' || this.myRole() === 'admin');
  readonly members = computed(() => {
    const order: Record<Role, number> = { owner: 0, admin: 1, member: 2 };
    return [...this.conversation().members].sort((a, b) => order[a.role] - order[b.role] || a.username.localeCompare(b.username));
  });

  constructor() {
    afterNextRender(() => this.heading().nativeElement.focus());
  }

  hueOf = hue;
  init = initials;

  canRemove(m: Member): boolean {
    if (m.user_id === this.me()) return false;
    return this.myRole() === 'owner' || (this.myRole() === 'admin' && m.role === 'member');
  }

  private get id(): string {
    return this.conversation().conversation_id;
  }

  private async run(fn: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    try {
      await fn();
    } catch (e) {
      this.error.set(describeError(e));
    } finally {
      this.busy.set(false);
    }
  }

  add(): Promise<void> {
    return this.run(async () => {
      const name = this.adding().trim();
      const u = await this.store.findUser(name);
      if (!u) {
        this.error.set(`Nobody is called “${name}”. Usernames must match exactly.`);
        return;
      }
      const c = await this.api.post<Conversation>(`/v1/conversations/${this.id}/members`, { member_ids: [u.user_id] });
      this.store.putConversation(c);
      this.adding.set('');
    });
  }

  setRole(m: Member, role: Role): Promise<void> {
    if (role === 'owner' && !confirm(`Make ${m.username} the owner? You will become an admin.`)) {
      this.store.putConversation({ ...this.conversation() });
      return Promise.resolve();
    }
    return this.run(async () => {
      const c = await this.api.patch<Conversation>(`/v1/conversations/${this.id}/members/${m.user_id}`, { role });
      this.store.putConversation(c);
    });
  }

  removeMember(m: Member): Promise<void> {
    if (!confirm(`Remove ${m.username} from the group?`)) return Promise.resolve();
    return this.run(async () => {
      await this.api.delete(`/v1/conversations/${this.id}/members/${m.user_id}`);
      this.store.putConversation(await this.api.get<Conversation>(`/v1/conversations/${this.id}`));
    });
  }

  leave(): Promise<void> {
    if (!confirm(`Leave ${this.conversation().name}? You will no longer get its messages.`)) return Promise.resolve();
    return this.run(async () => {
      await this.api.post(`/v1/conversations/${this.id}/leave`);
      this.store.dropConversation(this.id);
      await this.router.navigate(['/']);
    });
  }
}
