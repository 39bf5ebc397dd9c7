import { ApiError, describeError } from './api';
import { FileStatus } from './models';

/** What is kept of an upload across reloads (IndexedDB); `blob` is the file itself when it fits. */
export interface UploadRecord {
  /** the message_id the file message will be sent with (also the record's key) */
  key: string;
  conversation_id: string;
  filename: string;
  size: number;
  mime: string;
  last_modified: number;
  file_id?: string;
  chunk_size?: number;
  total_chunks?: number;
  reply_to_message_id?: string;
  channels?: string[];
  created_at: string;
  blob?: Blob;
}

export type UploadState = 'hashing' | 'uploading' | 'paused' | 'completing' | 'done' | 'failed' | 'needs_file' | 'cancelled';

export interface UploadView {
  key: string;
  conversationId: string;
  filename: string;
  mime: string;
  size: number;
  state: UploadState;
  sent: number;
  /** bytes per second, smoothed */
  speed: number;
  error?: string;
  previewUrl?: string;
}

export interface UploadDeps {
  initiate(r: UploadRecord): Promise<FileStatus>;
  status(fileId: string): Promise<FileStatus>;
  putChunk(fileId: string, n: number, body: Blob, sha256: string, progress: (loaded: number) => void, signal: AbortSignal): Promise<unknown>;
  complete(fileId: string): Promise<FileStatus>;
  abort(fileId: string): Promise<void>;
  hash(body: Blob): Promise<string>;
  save(r: UploadRecord): Promise<void>;
  remove(key: string): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** Chunk n (1-based) of a file: every chunk but the last is exactly chunkSize bytes. */
export function chunkRange(n: number, chunkSize: number, size: number): { start: number; end: number } {
  const start = (n - 1) * chunkSize;
  return { start, end: Math.min(size, start + chunkSize) };
}

export function missingChunks(total: number, received: readonly number[]): number[] {
  const have = new Set(received);
  const out: number[] = [];
  for (let n = 1; n <= total; n++) {
    if (!have.has(n)) {
      out.push(n);
    }
  }
  return out;
}

/** Bytes the node holds of a file, given the chunks it has. */
export function bytesStored(received: readonly number[], chunkSize: number, size: number): number {
  let sum = 0;
  for (const n of new Set(received)) {
    const r = chunkRange(n, chunkSize, size);
    sum += Math.max(0, r.end - r.start);
  }
  return sum;
}

/** Same file as the one an interrupted upload was started with (name, size, modification time). */
export function sameFile(r: UploadRecord, f: File): boolean {
  return f.name === r.filename && f.size === r.size && (!r.last_modified || f.lastModified === r.last_modified);
}

/**
 * One resumable upload: initiate once, then send the chunks the node does not have (it is asked
 * on every (re)start, so nothing it holds is sent twice), then complete and wait for verification.
 * Pause aborts the chunks in flight; resume and reloads start again from the node's answer.
 */
export class UploadTask {
  private controller: AbortController | null = null;
  private running: Promise<FileStatus | null> | null = null;
  private inFlight = new Map<number, number>();
  private stored = 0;
  private lastSample = { t: 0, bytes: 0 };
  view: UploadView;

  constructor(
    readonly record: UploadRecord,
    private readonly deps: UploadDeps,
    private readonly onChange: (v: UploadView) => void,
    private readonly parallel = 2,
  ) {
    this.view = {
      key: record.key,
      conversationId: record.conversation_id,
      filename: record.filename,
      mime: record.mime,
      size: record.size,
      state: record.blob ? 'paused' : 'needs_file',
      sent: 0,
      speed: 0,
    };
  }

  /** Gives the task its file back after a reload that could not keep it. */
  provideFile(f: File): boolean {
    if (!sameFile(this.record, f)) {
      return false;
    }
    this.record.blob = f;
    this.set({ state: 'paused', error: undefined });
    return true;
  }

  /** Runs (or resumes) the upload; resolves with the completed file, or null when paused or cancelled. */
  start(): Promise<FileStatus | null> {
    if (this.running && !this.controller?.signal.aborted) {
      return this.running;
    }
    // a pause may still be unwinding: run again once it has
    const prev = this.running ?? Promise.resolve(null);
    const p: Promise<FileStatus | null> = prev.catch(() => null).then(() => this.run());
    this.running = p;
    void p.finally(() => {
      if (this.running === p) {
        this.running = null;
      }
    });
    return p;
  }

  pause(): void {
    if (this.view.state === 'uploading' || this.view.state === 'hashing') {
      this.controller?.abort();
      this.set({ state: 'paused', speed: 0 });
    }
  }

  async cancel(): Promise<void> {
    this.controller?.abort();
    this.set({ state: 'cancelled', speed: 0 });
    if (this.record.file_id) {
      try {
        await this.deps.abort(this.record.file_id);
      } catch {
        // expired or already gone: nothing to abort
      }
    }
    await this.deps.remove(this.record.key);
  }

  private async run(): Promise<FileStatus | null> {
    if (this.view.state === 'cancelled' || this.view.state === 'done') {
      return null;
    }
    const blob = this.record.blob;
    if (!blob) {
      this.set({ state: 'needs_file' });
      return null;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.set({ state: 'uploading', error: undefined, speed: 0 });
    try {
      let status: FileStatus;
      if (!this.record.file_id) {
        status = await this.deps.initiate(this.record);
        this.record.file_id = status.file_id;
        this.record.chunk_size = status.chunk_size;
        this.record.total_chunks = status.total_chunks;
        await this.deps.save(this.record);
      } else {
        status = await this.deps.status(this.record.file_id);
      }
      if (controller.signal.aborted) {
        return null;
      }
      if (status.upload_status === 'completed') {
        return await this.finish(status);
      }
      if (status.upload_status !== 'uploading' && status.upload_status !== 'verifying') {
        throw new ApiError(409, 'conflict', `The upload ${status.upload_status === 'expired' ? 'expired' : 'was stopped'}; send the file again.`);
      }
      const chunkSize = status.chunk_size;
      const missing = status.upload_status === 'verifying' ? [] : missingChunks(status.total_chunks, status.received_chunks);
      this.stored = bytesStored(status.received_chunks, chunkSize, this.record.size);
      this.inFlight.clear();
      this.lastSample = { t: this.deps.now(), bytes: this.stored };
      this.progress();
      const queue = [...missing];
      const worker = async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          await this.sendChunk(blob, n, chunkSize, controller.signal);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.parallel, Math.max(1, queue.length)) }, worker));
      if (controller.signal.aborted) {
        return null;
      }
      this.set({ state: 'completing', speed: 0 });
      let done = status.upload_status === 'verifying' ? status : await this.deps.complete(this.record.file_id!);
      while (done.upload_status === 'verifying') {
        await this.deps.sleep(1000);
        if (controller.signal.aborted) {
          return null;
        }
        done = await this.deps.status(this.record.file_id!);
      }
      if (done.upload_status !== 'completed') {
        throw new ApiError(409, 'conflict', done.failure_reason || 'The file could not be verified; send it again.');
      }
      return await this.finish(done);
    } catch (e) {
      if (controller.signal.aborted || (e as Error)?.name === 'AbortError') {
        return null;
      }
      this.set({ state: 'failed', speed: 0, error: describeError(e) });
      return null;
    }
  }

  private async finish(status: FileStatus): Promise<FileStatus> {
    this.set({ state: 'done', sent: this.record.size, speed: 0 });
    await this.deps.remove(this.record.key);
    return status;
  }

  private async sendChunk(blob: Blob, n: number, chunkSize: number, signal: AbortSignal): Promise<void> {
    const { start, end } = chunkRange(n, chunkSize, this.record.size);
    const body = blob.slice(start, end);
    const sha = await this.deps.hash(body);
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) {
        return;
      }
      try {
        this.inFlight.set(n, 0);
        await this.deps.putChunk(
          this.record.file_id!,
          n,
          body,
          sha,
          (loaded) => {
            this.inFlight.set(n, loaded);
            this.progress();
          },
          signal,
        );
        this.inFlight.delete(n);
        this.stored += end - start;
        this.progress();
        return;
      } catch (e) {
        this.inFlight.delete(n);
        if (signal.aborted || (e as Error)?.name === 'AbortError') {
          return;
        }
        const again = e instanceof ApiError && (e.retryable || e.code === 'checksum_mismatch');
        if (!again || attempt >= 4) {
          throw e;
        }
        await this.deps.sleep(Math.min(8000, 500 * 2 ** attempt));
      }
    }
  }

  private progress(): void {
    let sent = this.stored;
    for (const v of this.inFlight.values()) {
      sent += v;
    }
    sent = Math.min(sent, this.record.size);
    const now = this.deps.now();
    const dt = now - this.lastSample.t;
    let speed = this.view.speed;
    if (dt >= 250) {
      const inst = ((sent - this.lastSample.bytes) * 1000) / dt;
      speed = speed ? speed * 0.6 + inst * 0.4 : inst;
      this.lastSample = { t: now, bytes: sent };
    }
    this.set({ sent, speed: Math.max(0, speed) });
  }

  private set(p: Partial<UploadView>): void {
    this.view = { ...this.view, ...p };
    this.onChange(this.view);
  }
}
