import { ApiError } from './api';
import { Message } from './models';
import { Outbox, OutboxDeps, OutboxEntry, SendBody } from './outbox';

function setup(stored: OutboxEntry[] = []) {
  const sent: SendBody[] = [];
  const accepted: string[] = [];
  let saved: OutboxEntry[] = stored;
  const timers: (() => void)[] = [];
  let now = 1000;
  const replies: ((b: SendBody) => Promise<Message>)[] = [];
  const deps: OutboxDeps = {
    send: (b) => {
      sent.push(b);
      const r = replies.shift();
      return r ? r(b) : Promise.resolve({ message_id: b.message_id, conversation_id: b.conversation_id } as Message);
    },
    load: () => saved,
    save: (e) => (saved = e),
    now: () => now,
    later: (fn) => timers.push(fn),
    onAccepted: (m) => accepted.push(m.message_id),
    onChange: () => undefined,
  };
  return {
    box: new Outbox(deps),
    sent,
    accepted,
    saved: () => saved,
    replies,
    fire: () => timers.splice(0).forEach((f) => f()),
    advance: (ms: number) => (now += ms),
  };
}
const body = (id: string): SendBody => ({ conversation_id: 'c', message_id: id, payload: { type: 'text', text: id } });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('outbox', () => {
  it('sends in the order written, one at a time', async () => {
    const t = setup();
    t.box.add(body('1'));
    t.box.add(body('2'));
    t.box.add(body('3'));
    await t.box.flush();
    await settle();
    expect(t.sent.map((b) => b.message_id)).toEqual(['1', '2', '3']);
    expect(t.accepted).toEqual(['1', '2', '3']);
    expect(t.saved()).toEqual([]);
  });

  it('keeps messages while offline and sends each once, with the same message_id, when back', async () => {
    const t = setup();
    t.replies.push(() => Promise.reject(new ApiError(0, 'network', 'offline')));
    t.box.add(body('a'));
    t.box.add(body('b'));
    await settle();
    expect(t.saved().map((e) => [e.body.message_id, e.state])).toEqual([
      ['a', 'queued'],
      ['b', 'queued'],
    ]);
    // concurrent reasons to flush (timer, online event, reconnect) send nothing twice
    t.advance(60_000);
    t.box.resume();
    t.fire();
    void t.box.flush();
    await t.box.flush();
    await settle();
    await settle();
    expect(t.sent.map((b) => b.message_id)).toEqual(['a', 'a', 'b']);
    expect(t.accepted).toEqual(['a', 'b']);
  });

  it('survives a reload mid-send: the unknown attempt is sent again under its id', async () => {
    const t = setup([{ body: body('x'), created_at: 'now', state: 'sending', attempts: 1 }]);
    await t.box.flush();
    expect(t.sent.map((b) => b.message_id)).toEqual(['x']);
    expect(t.accepted).toEqual(['x']);
  });

  it('marks refused messages failed without blocking the next, and retries on demand', async () => {
    const t = setup();
    t.replies.push(() => Promise.reject(new ApiError(400, 'validation_failed', 'payload.text is too long')));
    t.box.add(body('bad'));
    t.box.add(body('good'));
    await t.box.flush();
    await settle();
    expect(t.accepted).toEqual(['good']);
    expect(t.saved().map((e) => [e.body.message_id, e.state, e.error])).toEqual([['bad', 'failed', 'payload.text is too long']]);
    t.box.retry('bad');
    await t.box.flush();
    await settle();
    expect(t.accepted).toEqual(['good', 'bad']);
  });

  it('waits as long as a 429 says', async () => {
    const t = setup();
    t.replies.push(() => Promise.reject(new ApiError(429, 'rate_limited', 'slow down', {}, 7)));
    t.box.add(body('r'));
    await settle();
    expect(t.saved()[0].not_before).toBe(1000 + 7000);
  });
});
