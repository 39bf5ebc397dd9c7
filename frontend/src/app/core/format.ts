import { Conversation, Message } from './models';

/** A random UUID v4 (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function uuid(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) {
    return c.randomUUID();
  }
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const longDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** The list's time column: today a time, this week a weekday, else a date (the user's locale). */
export function listTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  const days = Math.round((startOfDay(now) - startOfDay(d)) / 86_400_000);
  if (days <= 0) {
    return timeFmt.format(d);
  }
  if (days === 1) {
    return 'Yesterday';
  }
  if (days < 7) {
    return dayFmt.format(d);
  }
  return dateFmt.format(d);
}

export function clock(iso: string | null | undefined): string {
  return iso ? timeFmt.format(new Date(iso)) : '';
}

export function fullTime(iso: string | null | undefined): string {
  return iso ? fullFmt.format(new Date(iso)) : '';
}

/** Day separator label in a thread. */
export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const days = Math.round((startOfDay(now) - startOfDay(d)) / 86_400_000);
  if (days === 0) {
    return 'Today';
  }
  if (days === 1) {
    return 'Yesterday';
  }
  return d.getFullYear() === now.getFullYear() ? longDayFmt.format(d) : dateFmt.format(d);
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function fileSize(bytes: number | undefined): string {
  if (bytes == null) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function speed(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${fileSize(bytesPerSecond)}/s` : '';
}

export function initials(name: string): string {
  const parts = name.replace(/[._-]+/g, ' ').trim().split(/\s+/);
  const s = parts.length > 1 ? parts[0][0] + parts[1][0] : name.slice(0, 2);
  return s.toUpperCase();
}

/** A stable hue per id, for avatars. */
export function hue(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) {
    h = (h * 31 + id.charCodeAt(i)) % 360;
  }
  return h;
}

export function snippet(m: Message): string {
  if (m.is_deleted) {
    return 'Message deleted';
  }
  const p = m.payload;
  if (p.type === 'text') {
    return p.text ?? '';
  }
  const name = p.file_reference?.filename;
  const label = p.type === 'image' ? 'Photo' : p.type === 'video' ? 'Video' : p.type === 'audio' ? 'Audio' : 'File';
  return name ? `${label}: ${name}` : label;
}

export function conversationTitle(c: Conversation, me: string | undefined): string {
  if (c.type === 'group') {
    return c.name ?? 'Group';
  }
  const other = c.members.find((m) => m.user_id !== me);
  return other?.username ?? 'Conversation';
}

export function peerId(c: Conversation, me: string | undefined): string | null {
  return c.type === 'private' ? (c.members.find((m) => m.user_id !== me)?.user_id ?? null) : null;
}

export const CHANNEL_LABEL: Record<string, string> = {
  whatsapp: 'WhatsApp',
  telegram: 'Telegram',
  instagram: 'Instagram',
  messenger: 'Messenger',
  internal: 'Internal',
  all: 'all linked channels',
};

export function channelLabel(c: string): string {
  return CHANNEL_LABEL[c] ?? c;
}
