import { Component, ElementRef, effect, input, output, signal, viewChild } from '@angular/core';
import { channelLabel } from '../core/format';
import { CHANNELS, ChatMessage } from '../core/models';
import { Icon } from './icon';

export interface Draft {
  text: string;
  channels: string[];
}

/** The message box: Enter sends, Shift+Enter is a new line, Esc cancels a reply or an edit, ↑ edits the last message. */
@Component({
  selector: 'c4a-composer',
  imports: [Icon],
  template: `
    @if (replyTo(); as r) {
      <div class="composer__context" data-testid="reply-preview">
        <c4a-icon name="reply" [size]="16" />
        <span class="composer__context-text"><b>Replying to {{ replyAuthor() }}</b> {{ summary(r) }}</span>
        <button type="button" class="icon-btn icon-btn--sm" (click)="cancel.emit()" aria-label="Cancel reply"><c4a-icon name="close" [size]="16" /></button>
      </div>
    }
    @if (editing(); as e) {
      <div class="composer__context composer__context--edit">
        <c4a-icon name="edit" [size]="16" />
        <span class="composer__context-text"><b>Editing message</b> {{ summary(e) }}</span>
        <button type="button" class="icon-btn icon-btn--sm" (click)="cancel.emit()" aria-label="Cancel editing"><c4a-icon name="close" [size]="16" /></button>
      </div>
    }
    @if (chosen().length) {
      <div class="composer__channels" aria-live="polite">
        Also via:
        @for (c of chosen(); track c) {
          <span class="chip">{{ label(c) }} <button type="button" class="chip__x" (click)="toggle(c)" [attr.aria-label]="'Do not deliver via ' + label(c)">×</button></span>
        }
      </div>
    }
    <div class="composer__row">
      <button type="button" class="icon-btn" (click)="files.click()" aria-label="Attach files" title="Attach files" [disabled]="!!editing()" data-testid="attach"><c4a-icon name="attach" /></button>
      <input #files type="file" multiple hidden (change)="picked($event)" data-testid="file-input" />
      <div class="menu-wrap">
        <button type="button" class="icon-btn" [attr.aria-expanded]="menu()" aria-haspopup="true" (click)="menu.set(!menu())" aria-label="Deliver also via channels" title="Deliver also via WhatsApp, Telegram, …" [class.icon-btn--on]="chosen().length > 0" data-testid="channels-toggle"><c4a-icon name="channel" /></button>
        @if (menu()) {
          <div class="menu" role="group" aria-label="Also deliver via" (keydown.escape)="menu.set(false)">
            <p class="menu__title">Also deliver via the recipients' linked</p>
            @for (c of all; track c) {
              <label class="menu__item"><input type="checkbox" [checked]="chosen().includes(c)" (change)="toggle(c)" /> {{ label(c) }}</label>
            }
            <label class="menu__item"><input type="checkbox" [checked]="chosen().includes('all')" (change)="toggle('all')" /> Every linked channel</label>
          </div>
        }
      </div>
      <textarea #box rows="1" class="composer__input" [placeholder]="editing() ? 'Edit message' : 'Write a message'" aria-label="Message"
                [value]="text()" (input)="onInput($event)" (keydown)="onKey($event)" maxlength="4000" data-testid="composer"></textarea>
      <button type="button" class="icon-btn icon-btn--send" (click)="submit()" [disabled]="!text().trim()" [attr.aria-label]="editing() ? 'Save' : 'Send'" data-testid="send"><c4a-icon [name]="editing() ? 'check' : 'send'" /></button>
    </div>
  `,
  host: { class: 'composer' },
})
export class Composer {
  readonly replyTo = input<ChatMessage | null>(null);
  readonly replyAuthor = input('');
  readonly editing = input<ChatMessage | null>(null);
  readonly send = output<Draft>();
  readonly saveEdit = output<string>();
  readonly cancel = output<void>();
  readonly typing = output<void>();
  readonly attach = output<File[]>();
  readonly editLast = output<void>();
  readonly text = signal('');
  readonly menu = signal(false);
  readonly chosen = signal<string[]>([]);
  readonly all = CHANNELS;
  readonly label = channelLabel;
  private readonly box = viewChild.required<ElementRef<HTMLTextAreaElement>>('box');

  constructor() {
    effect(() => {
      const e = this.editing();
      this.text.set(e?.payload.text ?? '');
      queueMicrotask(() => this.focus());
    });
    effect(() => {
      if (this.replyTo()) queueMicrotask(() => this.focus());
    });
  }

  focus(): void {
    const el = this.box().nativeElement;
    el.focus();
    this.grow();
  }

  summary(m: ChatMessage): string {
    const t = m.payload.type === 'text' ? (m.payload.text ?? '') : (m.payload.file_reference?.filename ?? 'File');
    return t.length > 80 ? t.slice(0, 80) + '…' : t;
  }

  toggle(c: string): void {
    this.chosen.update((l) => {
      if (c === 'all') return l.includes('all') ? [] : ['all'];
      const rest = l.filter((x) => x !== 'all');
      return rest.includes(c) ? rest.filter((x) => x !== c) : [...rest, c];
    });
  }

  onInput(e: Event): void {
    this.text.set((e.target as HTMLTextAreaElement).value);
    this.grow();
    if (!this.editing() && this.text()) this.typing.emit();
  }

  onKey(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.submit();
    } else if (e.key === 'Escape' && (this.replyTo() || this.editing())) {
      e.preventDefault();
      this.cancel.emit();
    } else if (e.key === 'ArrowUp' && !this.text() && !this.editing()) {
      e.preventDefault();
      this.editLast.emit();
    }
  }

  submit(): void {
    const text = this.text().trim();
    if (!text) return;
    if (this.editing()) {
      this.saveEdit.emit(text);
    } else {
      this.send.emit({ text, channels: this.chosen() });
    }
    this.text.set('');
    queueMicrotask(() => this.grow());
  }

  picked(e: Event): void {
    const input = e.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (files.length) this.attach.emit(files);
  }

  channels(): string[] {
    return this.chosen();
  }

  private grow(): void {
    const el = this.box().nativeElement;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }
}
