import { ChatMessage, StatusEnvelope } from './models';
import { applyStatus, horizons, merge, tick } from './timeline';

const ME = 'me';
function msg(id: string, seq: number | null, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    message_id: id,
    conversation_id: 'c',
    from_user_id: 'other',
    sequence_number: seq,
    payload: { type: 'text', text: id },
    status: 'sent',
    created_at: `2026-01-01T10:00:${String(seq ?? 59).padStart(2, '0')}.000Z`,
    updated_at: `2026-01-01T10:00:${String(seq ?? 59).padStart(2, '0')}.000Z`,
    ...extra,
  };
}
const ids = (l: ChatMessage[]) => l.map((m) => m.message_id);

describe('timeline merge', () => {
  it('orders by sequence number whatever the arrival order, pending messages last', () => {
    let l = merge([], [msg('c', 3), msg('a', 1)]);
    l = merge(l, [msg('p', null, { from_user_id: ME, local: { state: 'queued' } })]);
    l = merge(l, [msg('b', 2)]);
    expect(ids(l)).toEqual(['a', 'b', 'c', 'p']);
  });

  it('keeps each message once when history, sync and live deliver it again', () => {
    const page = [msg('a', 1), msg('b', 2)];
    let l = merge([], page);
    l = merge(l, [msg('b', 2), msg('c', 3)]); // sync overlapping history
    l = merge(l, [msg('c', 3)]); // the live copy
    l = merge(l, page);
    expect(ids(l)).toEqual(['a', 'b', 'c']);
  });

  it('returns the same list when nothing changed (no re-render)', () => {
    const l = merge([], [msg('a', 1)]);
    expect(merge(l, [msg('a', 1)])).toBe(l);
  });

  it('replaces a local send by the node copy, which keeps its number once it has one', () => {
    const local = msg('x', null, { from_user_id: ME, local: { state: 'sending' } });
    let l = merge([msg('a', 1)], [local]);
    l = merge(l, [msg('x', 2, { from_user_id: ME })]); // live copy, numbered
    l = merge(l, [msg('x', null, { from_user_id: ME })]); // the late 202 reply
    expect(l.map((m) => [m.message_id, m.sequence_number, !!m.local])).toEqual([
      ['a', 1, false],
      ['x', 2, false],
    ]);
  });

  it('applies edits by time and never brings a deleted message back', () => {
    let l = merge([], [msg('a', 1)]);
    l = merge(l, [msg('a', 1, { payload: { type: 'text', text: 'edited' }, is_edited: true, updated_at: '2026-01-01T11:00:00.000Z' })]);
    expect(l[0].payload.text).toBe('edited');
    l = merge(l, [msg('a', 1, { is_deleted: true, payload: { type: 'text' }, updated_at: '2026-01-01T12:00:00.000Z' })]);
    l = merge(l, [msg('a', 1, { payload: { type: 'text', text: 'edited' }, is_edited: true, updated_at: '2026-01-01T11:00:00.000Z' })]);
    expect(l[0].is_deleted).toBe(true);
  });

  it('does not let an older copy lower a recipient status', () => {
    const read = msg('a', 1, { from_user_id: ME, recipient_status: { bob: { status: 'read', at: 't' } } });
    const l = merge([read], [msg('a', 1, { from_user_id: ME, recipient_status: { bob: { status: 'delivered', at: 't' } }, updated_at: '2026-01-02T00:00:00.000Z' })]);
    expect(l[0].recipient_status!['bob'].status).toBe('read');
  });
});

describe('receipts', () => {
  const status = (user: string, s: 'delivered' | 'read', id = 'a'): StatusEnvelope => ({
    type: 'status', message_id: id, conversation_id: 'c', sequence_number: 1, user_id: user, status: s, at: 'now',
  });

  it('moves statuses forward only', () => {
    let l = [msg('a', 1, { from_user_id: ME })];
    l = applyStatus(l, status('bob', 'read'));
    l = applyStatus(l, status('bob', 'delivered'));
    expect(l[0].recipient_status!['bob'].status).toBe('read');
  });

  it('ticks are the lowest over recipients, with later reads covering earlier messages', () => {
    let l = [msg('a', 1, { from_user_id: ME }), msg('b', 2, { from_user_id: ME })];
    l = applyStatus(l, { ...status('bob', 'read', 'b'), sequence_number: 2 });
    const h = horizons(l, ME);
    expect(tick(l[0], ['bob'], h)).toBe('read');
    expect(tick(l[0], ['bob', 'carol'], h)).toBe('sent');
    l = applyStatus(l, status('carol', 'delivered'));
    expect(tick(l[0], ['bob', 'carol'], horizons(l, ME))).toBe('delivered');
    expect(tick(msg('p', null, { from_user_id: ME, local: { state: 'queued' } }), ['bob'], h)).toBe('pending');
  });
});
