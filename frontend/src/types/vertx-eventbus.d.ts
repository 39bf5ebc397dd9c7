declare module '@vertx/eventbus-bridge-client.js' {
  export interface BridgeMessage {
    type: string;
    address: string;
    body: unknown;
    headers?: Record<string, string>;
    replyAddress?: string;
  }
  export interface BridgeFailure {
    failureCode?: number;
    failureType?: string;
    message?: string;
  }
  type Callback = (err: BridgeFailure | null, msg: BridgeMessage) => void;
  export default class EventBus {
    constructor(url: string, options?: Record<string, unknown>);
    state: number;
    onopen: (() => void) | null;
    onclose: ((e?: unknown) => void) | null;
    onerror: (err: unknown) => void;
    registerHandler(address: string, headers: Record<string, string>, callback: Callback): void;
    unregisterHandler(address: string, headers: Record<string, string>, callback: Callback): void;
    send(address: string, body: unknown, headers: Record<string, string>, callback?: Callback): void;
    enableReconnect(enable: boolean): void;
    close(): void;
    static OPEN: number;
  }
}
