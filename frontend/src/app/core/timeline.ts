import { ChatMessage, Message, Status, StatusEnvelope } from './models';

/**
 * The pure rules of a conversation's message list. History pages, sync pages, live envelopes and
 * local (not yet acknowledged) sends all go through these, in any order and any number of times:
 * the result is the same list, numbered messages by sequence number, each message once.
 */

const RANK: Record<string, number> = { failed: -1, sent: 0, delivered: 1, read: 2 };

export function rank(s: string | undefined): number {
  return RANK[s ?? 'sent'] ?? 0;
}

function time(s: string | undefined): number {
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** Orders: numbered messages by sequence number, then unnumbered ones (pending) by creation time. */
export function compare(a: Message, b: Message): number {
  const sa = a.sequence_number;
  const sb = b.sequence_number;
  if (sa != null && sb != null) {
    return sa - sb;
  }
  if (sa != null) {
    return -1;
  }
  if (sb != null) {
    return 1;
  }
  return time(a.created_at) - time(b.created_at) || a.message_id.localeCompare(b.message_id);
}

/**
 * The newer of two copies of one message. A numbered copy beats an unnumbered one (a 202 reply
 * never un-numbers a message); a tombstone is final; otherwise the later updated_at wins, and
 * statuses only move forward whichever copy wins.
 */
export function newer(a: ChatMessage, b: ChatMessage): ChatMessage {
  if (a.is_deleted && !b.is_deleted) {
    return withSeq(a, b);
  }
  if (b.is_deleted && !a.is_deleted) {
    return withSeq(b, a);
  }
  if (a.sequence_number != null && b.sequence_number == null && !b.local) {
    return mergeStatus(a, b);
  }
  let win: ChatMessage;
  let lose: ChatMessage;
  if (a.local && b.local) {
    // the outbox's newer state of the same unsent message
    return b;
  }
  if (b.local && !a.local) {
    // the server's copy is never replaced by a local one
    [win, lose] = [a, b];
  } else if (a.local && !b.local) {
    [win, lose] = [b, a];
  } else if (b.sequence_number != null && a.sequence_number == null) {
    [win, lose] = [b, a];
  } else {
    // the same copy again (a duplicate delivery) keeps the one the list has
    [win, lose] = time(b.updated_at) > time(a.updated_at) ? [b, a] : [a, b];
  }
  return withSeq(mergeStatus(win, lose), lose);
}

function withSeq(win: ChatMessage, other: ChatMessage): ChatMessage {
  if (win.sequence_number == null && other.sequence_number != null) {
    return { ...win, sequence_number: other.sequence_number };
  }
  return win;
}

/** Keeps the highest status of each recipient from both copies. */
function mergeStatus(win: ChatMessage, lose: ChatMessage): ChatMessage {
  const a = win.recipient_status ?? {};
  const b = lose.recipient_status ?? {};
  let changed = false;
  const out = { ...a };
  for (const [user, st] of Object.entries(b)) {
    if (!out[user] || rank(st.status) > rank(out[user].status)) {
      out[user] = st;
      changed = true;
    }
  }
  const status = rank(lose.status) > rank(win.status) && !win.local ? lose.status : win.status;
  if (!changed && status === win.status) {
    return win;
  }
  return { ...win, recipient_status: out, status };
}

/**
 * Merges messages into a sorted list (returns the same array when nothing changed). Duplicates
 * are matched by message_id, and by sequence number within the list (the feed is at-least-once).
 */
export function merge(list: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) {
    return list as ChatMessage[];
  }
  const byId = new Map<string, ChatMessage>();
  for (const m of list) {
    byId.set(m.message_id, m);
  }
  let changed = false;
  for (const m of incoming) {
    const have = byId.get(m.message_id);
    const next = have ? newer(have, m) : m;
    if (next !== have) {
      byId.set(m.message_id, next);
      changed = true;
    }
  }
  if (!changed) {
    return list as ChatMessage[];
  }
  const bySeq = new Map<number, ChatMessage>();
  const out: ChatMessage[] = [];
  for (const m of byId.values()) {
    if (m.sequence_number != null) {
      const other = bySeq.get(m.sequence_number);
      if (other) {
        continue; // one message per sequence number
      }
      bySeq.set(m.sequence_number, m);
    }
    out.push(m);
  }
  return out.sort(compare);
}

/** Applies a status envelope to the message it names (unchanged when it is not in the list). */
export function applyStatus(list: readonly ChatMessage[], e: StatusEnvelope): ChatMessage[] {
  const i = list.findIndex((m) => m.message_id === e.message_id);
  if (i < 0) {
    return list as ChatMessage[];
  }
  const m = list[i];
  const cur = m.recipient_status?.[e.user_id];
  let next = m;
  if (!cur || rank(e.status) > rank(cur.status)) {
    next = { ...next, recipient_status: { ...(m.recipient_status ?? {}), [e.user_id]: { status: e.status, at: e.at } } };
  }
  if (e.message_status && rank(e.message_status) > rank(next.status)) {
    next = { ...next, status: e.message_status };
  }
  if (next === m) {
    return list as ChatMessage[];
  }
  const out = list.slice();
  out[i] = next;
  return out;
}

/** The highest sequence number without a gap below it, counting from `from` (what is loaded). */
export function contiguousTop(list: readonly ChatMessage[], from: number): number {
  let top = from;
  for (const m of list) {
    const s = m.sequence_number;
    if (s == null || s <= from) {
      continue;
    }
    if (s === top + 1) {
      top = s;
    } else if (s > top + 1) {
      break;
    }
  }
  return top;
}

export function lowestSeq(list: readonly ChatMessage[]): number | null {
  for (const m of list) {
    if (m.sequence_number != null) {
      return m.sequence_number;
    }
  }
  return null;
}

export function highestSeq(list: readonly ChatMessage[]): number {
  let top = 0;
  for (const m of list) {
    if (m.sequence_number != null && m.sequence_number > top) {
      top = m.sequence_number;
    }
  }
  return top;
}

/**
 * What each recipient has seen of my messages: a recipient who read (or got) message N has read
 * (or got) every earlier one too, even though clients mark only the newest.
 */
export function horizons(list: readonly ChatMessage[], me: string): Map<string, { delivered: number; read: number }> {
  const out = new Map<string, { delivered: number; read: number }>();
  for (const m of list) {
    if (m.from_user_id !== me || m.sequence_number == null) {
      continue;
    }
    for (const [user, st] of Object.entries(m.recipient_status ?? {})) {
      const h = out.get(user) ?? { delivered: 0, read: 0 };
      if (rank(st.status) >= 1) {
        h.delivered = Math.max(h.delivered, m.sequence_number);
      }
      if (rank(st.status) >= 2) {
        h.read = Math.max(h.read, m.sequence_number);
      }
      out.set(user, h);
    }
  }
  return out;
}

/** Each recipient's status of one of my messages, with the horizons applied. */
export function recipientStatuses(
  m: ChatMessage,
  recipients: readonly string[],
  h: Map<string, { delivered: number; read: number }>,
): { userId: string; status: Status; at?: string }[] {
  return recipients.map((userId) => {
    const own = m.recipient_status?.[userId];
    let status: Status = (own?.status as Status) ?? 'sent';
    const seq = m.sequence_number;
    const hz = h.get(userId);
    if (seq != null && hz) {
      if (hz.read >= seq && rank(status) < 2) {
        status = 'read';
      } else if (hz.delivered >= seq && rank(status) < 1) {
        status = 'delivered';
      }
    }
    return { userId, status, at: own?.at };
  });
}

/** The tick state of one of my messages: the lowest over its recipients. */
export function tick(m: ChatMessage, recipients: readonly string[], h: Map<string, { delivered: number; read: number }>): Status | 'pending' | 'failed' {
  if (m.local) {
    return m.local.state === 'failed' ? 'failed' : 'pending';
  }
  if (recipients.length === 0) {
    return m.sequence_number == null ? 'sent' : rank(m.status) >= 0 ? m.status : 'sent';
  }
  let low = 2;
  for (const r of recipientStatuses(m, recipients, h)) {
    low = Math.min(low, rank(r.status));
  }
  return low >= 2 ? 'read' : low === 1 ? 'delivered' : 'sent';
}
