import { Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { Api, describeError } from '../core/api';
import { channelLabel } from '../core/format';
import { ChannelIdentity, Page } from '../core/models';
import { Session } from '../core/session';
import { Icon } from './icon';

const TYPES = ['whatsapp', 'telegram', 'instagram', 'messenger'];

/** Account and the user's linked channel identities (where others' "also deliver via" reaches them). */
@Component({
  selector: 'c4a-settings-dialog',
  imports: [Icon],
  template: `
    <dialog #dlg class="dialog" aria-labelledby="settings-title">
      <div class="dialog__body">
        <header class="dialog__head">
          <h2 id="settings-title">Settings</h2>
          <button type="button" class="icon-btn" (click)="dlg.close()" aria-label="Close"><c4a-icon name="close" /></button>
        </header>
        <p>Signed in as <b>{{ session.user()?.username }}</b>.</p>
        <h3>Linked channels</h3>
        <p class="field__hint">People who message you can choose to also deliver through these.</p>
        @if (error()) { <p class="dialog__error" role="alert">{{ error() }}</p> }
        <ul class="links" role="list">
          @for (c of linked(); track c.id) {
            <li class="link-row"><span class="badge badge--{{ c.channel_type }}">{{ label(c.channel_type) }}</span> {{ c.channel_user_id }}
              <button type="button" class="link" (click)="unlink(c.channel_type)">Unlink</button></li>
          } @empty {
            <li class="field__hint">No channel linked.</li>
          }
        </ul>
        <form class="field__row" (submit)="$event.preventDefault(); link()">
          <select [value]="type()" (change)="type.set($any($event.target).value)" aria-label="Channel">
            @for (t of types; track t) { <option [value]="t">{{ label(t) }}</option> }
          </select>
          <input [value]="handle()" (input)="handle.set($any($event.target).value)" placeholder="Your id there (phone, handle)" aria-label="Your id on that channel" maxlength="255" />
          <button class="btn" type="submit" [disabled]="!handle().trim()">Link</button>
        </form>
      </div>
    </dialog>
  `,
})
export class SettingsDialog {
  readonly session = inject(Session);
  private readonly api = inject(Api);
  private readonly dlg = viewChild.required<ElementRef<HTMLDialogElement>>('dlg');
  readonly linked = signal<ChannelIdentity[]>([]);
  readonly error = signal<string | null>(null);
  readonly type = signal('whatsapp');
  readonly handle = signal('');
  readonly types = TYPES;
  readonly label = channelLabel;

  open(): void {
    this.error.set(null);
    this.dlg().nativeElement.showModal();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.linked.set((await this.api.get<Page<ChannelIdentity>>('/v1/me/channels')).items);
    } catch (e) {
      this.error.set(describeError(e));
    }
  }

  async link(): Promise<void> {
    this.error.set(null);
    try {
      await this.api.post('/v1/me/channels', { channel_type: this.type(), channel_user_id: this.handle().trim() });
      this.handle.set('');
      await this.load();
    } catch (e) {
      this.error.set(describeError(e));
    }
  }

  async unlink(type: string): Promise<void> {
    try {
      await this.api.delete(`/v1/me/channels/${type}`);
      await this.load();
    } catch (e) {
      this.error.set(describeError(e));
    }
  }
}
