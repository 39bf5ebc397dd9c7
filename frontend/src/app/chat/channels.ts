import { ChannelDelivery, Message } from '../core/models';

const KNOWN = new Set(['whatsapp', 'telegram', 'instagram', 'messenger']);

/**
 * Channels a conversation reaches people through, from what its messages say: the channels a
 * message was delivered to (channel_delivery, target_channels) and where an inbound message came
 * from (payload.metadata.channel / source_channel, as connectors record it).
 */
export function channelsOf(messages: readonly Message[]): string[] {
  const out = new Set<string>();
  for (const m of messages) {
    for (const c of Object.keys(m.channel_delivery ?? {})) if (KNOWN.has(c)) out.add(c);
    for (const c of m.target_channels ?? m.channels ?? []) if (KNOWN.has(c)) out.add(c);
    const meta = m.payload?.metadata ?? {};
    for (const k of ['channel', 'source_channel', 'origin_channel']) {
      const v = meta[k];
      if (typeof v === 'string' && KNOWN.has(v)) out.add(v);
    }
  }
  return [...out].sort();
}

export interface ChannelState {
  channel: string;
  state: string;
  reason?: string;
  failed: boolean;
}

/** Per-channel delivery of one message: what the node recorded, or "queued" while it has nothing yet. */
export function deliveryStates(m: Message): ChannelState[] {
  const delivery = m.channel_delivery ?? {};
  const wanted = (m.target_channels ?? m.channels ?? []).filter((c) => c !== 'all');
  const names = new Set([...wanted, ...Object.keys(delivery)]);
  const asked = m.target_channels ?? m.channels ?? [];
  if (names.size === 0 && asked.includes('all')) {
    return [{ channel: 'all', state: m.sequence_number == null ? 'queued' : 'no linked channel yet', failed: false }];
  }
  return [...names].sort().map((channel) => {
    const d: ChannelDelivery | undefined = delivery[channel];
    const state = (typeof d === 'string' ? d : d?.status) ?? 'queued';
    const reason = d && typeof d === 'object' ? (d.failure_reason ?? d.error ?? d.reason) : undefined;
    return { channel, state: String(state), reason: reason ? String(reason) : undefined, failed: String(state) === 'failed' };
  });
}
