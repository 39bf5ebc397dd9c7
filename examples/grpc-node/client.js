#!/usr/bin/env node
// A Chat4All gRPC client: logs in, opens the private conversation with a peer, subscribes to the
// live events (resuming from the last cursor after a broken stream), says it is typing, sends a
// message and prints every event until the peer answers. See docs/grpc.md.
//
//   CHAT4ALL_GRPC=localhost:9090 CHAT4ALL_USERNAME=alice CHAT4ALL_PASSWORD='correct horse battery' \
//   CHAT4ALL_PEER=<bob's user id> node client.js
//
// Settings (environment): CHAT4ALL_GRPC (host:port, default localhost:9090), CHAT4ALL_USERNAME,
// CHAT4ALL_PASSWORD, CHAT4ALL_PEER (user id), CHAT4ALL_TEXT (default "hello from node"),
// CHAT4ALL_TIMEOUT_MS (give up after this, default 120000), CHAT4ALL_PROTO_DIR (the .proto root,
// default ../../proto/src/main/proto from this file).
'use strict';

const path = require('node:path');
const crypto = require('node:crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const env = process.env;
const address = env.CHAT4ALL_GRPC || 'localhost:9090';
const protoDir =
  env.CHAT4ALL_PROTO_DIR || path.join(__dirname, '..', '..', 'proto', 'src', 'main', 'proto');
const text = env.CHAT4ALL_TEXT || 'hello from node';
const timeoutMs = Number(env.CHAT4ALL_TIMEOUT_MS || 120000);

const definition = protoLoader.loadSync(
  [
    'chat4all/v1/auth.proto',
    'chat4all/v1/conversations.proto',
    'chat4all/v1/messages.proto',
    'chat4all/v1/realtime.proto',
  ],
  // proto field names (snake_case), int64 as strings, every field present, oneof names set
  { includeDirs: [protoDir], keepCase: true, longs: String, defaults: true, oneofs: true },
);
const v1 = grpc.loadPackageDefinition(definition).chat4all.v1;

const credentials = grpc.credentials.createInsecure(); // h2c; use createSsl() behind TLS
const options = {
  // HTTP/2 pings while the stream is quiet, on top of the server's heartbeat events
  'grpc.keepalive_time_ms': 30000,
  'grpc.keepalive_timeout_ms': 10000,
};
const auth = new v1.AuthService(address, credentials, options);
const conversations = new v1.ConversationService(address, credentials, options);
const messages = new v1.MessageService(address, credentials, options);
const realtime = new v1.RealtimeService(address, credentials, options);

/** A unary call as a promise; a failure carries the server's chat4all-error-code. */
function call(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, (err, reply) => {
      if (err) {
        err.chat4allCode = errorCode(err);
        reject(err);
      } else {
        resolve(reply);
      }
    });
  });
}

/** The error model's code (validation_failed, token_expired, …) of a failed call. */
function errorCode(err) {
  const values = err && err.metadata ? err.metadata.get('chat4all-error-code') : [];
  return values.length ? String(values[0]) : undefined;
}

function log(...parts) {
  console.log(parts.join(' '));
}

async function main() {
  const timer = setTimeout(() => {
    log('timeout: no reply from the peer');
    process.exit(2);
  }, timeoutMs);

  // 1. log in (AuthService/Token needs no token)
  const tokens = await call(auth, 'Token', {
    username: env.CHAT4ALL_USERNAME,
    password: env.CHAT4ALL_PASSWORD,
  });
  log('logged in as', tokens.user_id);
  const me = tokens.user_id;
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${tokens.access_token}`);

  // 2. the private conversation with the peer (created, or the existing one)
  const created = await call(
    conversations,
    'CreateConversation',
    { type: 'private', member_ids: [env.CHAT4ALL_PEER] },
    metadata,
  );
  const conversationId = created.conversation.conversation_id;
  log('conversation', conversationId);

  // 3. subscribe; on a broken stream, subscribe again from the last cursor: nothing is missed
  let cursor = '';
  let sent = false;
  let retries = 0;
  const done = (code) => {
    clearTimeout(timer);
    process.exit(code);
  };

  const subscribe = () => {
    const stream = realtime.Subscribe({ cursor }, metadata);
    stream.on('data', async (event) => {
      if (event.cursor) {
        cursor = event.cursor; // remember the feed position of every event processed
      }
      switch (event.type) {
        case 'ready':
          retries = 0;
          log('ready', 'cursor=' + event.cursor);
          if (!sent) {
            sent = true;
            // 4. typing, then the message (message_id is the client's idempotency key)
            await call(realtime, 'SendTyping', { conversation_id: conversationId }, metadata);
            const messageId = crypto.randomUUID();
            await call(
              messages,
              'SendMessage',
              {
                conversation_id: conversationId,
                message_id: messageId,
                payload: { type: 'text', text },
              },
              metadata,
            );
            log('sent', messageId);
          }
          break;
        case 'message': {
          const m = event.message;
          log('message', 'seq=' + m.sequence_number, 'from=' + m.from_user_id, 'text=' + m.payload.text);
          if (m.from_user_id !== me) {
            await call(messages, 'MarkRead', { message_id: m.message_id }, metadata);
            log('reply received');
            stream.cancel();
            done(0);
          }
          break;
        }
        case 'message_updated':
          log('updated', event.message.message_id, 'text=' + event.message.payload.text);
          break;
        case 'status':
          log('status', event.status.message_id, event.status.status, 'by=' + event.status.user_id);
          break;
        case 'typing':
          log('typing', event.typing.user_id, 'in', event.typing.conversation_id);
          break;
        case 'presence':
          log('presence', event.presence.user_id, event.presence.status);
          break;
        case 'resync_required':
          log('resync_required: reload conversations and history');
          break;
        case 'heartbeat':
          break; // keepalive only
        default:
          log('event', event.type, event.json);
      }
    });
    stream.on('error', (err) => {
      if (err.code === grpc.status.CANCELLED) {
        return; // we cancelled it
      }
      const code = errorCode(err);
      log('stream ended:', grpc.status[err.code], code || '', err.details);
      if (err.code === grpc.status.UNAUTHENTICATED) {
        done(1); // token_expired / token_revoked: refresh or log in again, then subscribe
      } else if (err.code === grpc.status.INVALID_ARGUMENT) {
        done(1);
      } else if (retries++ < 5) {
        setTimeout(subscribe, 500 * retries); // UNAVAILABLE, a lost connection: resume
      } else {
        done(1);
      }
    });
  };
  subscribe();
}

main().catch((err) => {
  log('failed:', err.chat4allCode || '', err.details || err.message);
  process.exit(1);
});
