/** Wire types of the node's REST API and live envelopes (docs/api.md, docs/realtime.md). */

export type Role = 'owner' | 'admin' | 'member';
export type Status = 'sent' | 'delivered' | 'read' | 'failed';
export type ChannelType = 'whatsapp' | 'instagram' | 'telegram' | 'messenger';

export const CHANNELS: readonly ChannelType[] = ['whatsapp', 'telegram', 'instagram', 'messenger'];

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in?: number;
  user_id: string;
}

export interface Account {
  user_id: string;
  username: string;
  email: string;
  status?: string;
  created_at?: string;
}

export interface User {
  user_id: string;
  username: string;
}

export interface Member {
  user_id: string;
  username: string;
  role: Role;
  joined_at: string;
}

export interface Conversation {
  conversation_id: string;
  type: 'private' | 'group';
  name: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  members: Member[];
  member_count: number;
  last_message_id: string | null;
  last_message_at: string | null;
  last_message_snippet: string | null;
  last_seq: number;
  unread_count: number;
}

export interface FileReference {
  file_id: string;
  filename?: string;
  size_bytes?: number;
  mime_type?: string;
  checksum?: string;
}

export interface Payload {
  type: 'text' | 'file' | 'image' | 'video' | 'audio';
  text?: string;
  file_id?: string;
  file_reference?: FileReference;
  metadata?: Record<string, unknown>;
}

export interface RecipientStatus {
  status: Status;
  at: string;
}

/** Per-channel outcome as the delivery workers record it (shape kept open: channels are young). */
export interface ChannelDelivery {
  status?: string;
  error?: string;
  failure_reason?: string;
  reason?: string;
  at?: string;
  updated_at?: string;
  [k: string]: unknown;
}

export interface Message {
  message_id: string;
  conversation_id: string;
  from_user_id: string;
  to_user_ids?: string[];
  sequence_number: number | null;
  payload: Payload;
  reply_to_message_id?: string | null;
  channels?: string[];
  target_channels?: string[];
  channel_delivery?: Record<string, ChannelDelivery>;
  status: Status;
  recipient_status?: Record<string, RecipientStatus>;
  is_edited?: boolean;
  is_deleted?: boolean;
  created_at: string;
  updated_at?: string;
}

/** Client-side state of a message that is not (yet) confirmed by the node. */
export interface LocalState {
  state: 'queued' | 'sending' | 'failed';
  error?: string;
}

export interface ChatMessage extends Message {
  local?: LocalState;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface MessagePage extends Page<Message> {
  last_seq?: number;
}

export interface MessageEnvelope {
  type: 'message' | 'message_updated';
  message: Message;
  cursor?: string;
}

export interface StatusEnvelope {
  type: 'status';
  message_id: string;
  conversation_id: string;
  sequence_number: number;
  user_id: string;
  status: Status;
  at: string;
  message_status?: Status;
  cursor?: string;
}

export interface TypingEnvelope {
  type: 'typing';
  conversation_id: string;
  user_id: string;
  at: string;
}

export interface PresenceEnvelope {
  type: 'presence';
  user_id: string;
  status: 'online' | 'offline';
  last_seen?: string | null;
}

export type Envelope = MessageEnvelope | StatusEnvelope | TypingEnvelope | PresenceEnvelope;

export interface SyncPage {
  items: Envelope[];
  next_cursor: string;
  resync_required: boolean;
}

export interface FileStatus {
  file_id: string;
  upload_status: 'uploading' | 'verifying' | 'completed' | 'failed' | 'aborted' | 'expired';
  filename?: string;
  size_bytes?: number;
  mime_type?: string;
  conversation_id?: string;
  chunk_size: number;
  total_chunks: number;
  received_chunks: number[];
  failure_reason?: string;
  checksum_sha256?: string;
}

export interface DownloadUrl {
  url: string;
  expires_at: string;
  file?: FileReference;
}

export interface ChannelIdentity {
  id: string;
  channel_type: string;
  channel_user_id: string;
  verified?: boolean;
  created_at?: string;
}
