import { Injectable, computed, effect, inject, signal, untracked } from '@angular/core';
import { Api, ApiError, toError } from './api';
import { ChatStore } from './chat-store';
import { DownloadUrl, FileStatus, Payload } from './models';
import { Session } from './session';
import { sha256Hex } from './sha256';
import { uuid } from './format';
import { UploadDeps, UploadRecord, UploadTask, UploadView } from './uploads';

const DB = 'c4a-uploads';
const STORE = 'uploads';
/** Files up to this size are kept in IndexedDB so an upload resumes by itself after a reload. */
const KEEP_BLOB_MAX = 2 * 1024 * 1024 * 1024;

/**
 * The user's uploads: started from the composer, shown in their thread, kept in IndexedDB (with
 * the file itself) so a reload resumes them: the node is asked which chunks it has and only the
 * rest is sent. When a file is completed, the file message goes through the outbox with the
 * message_id chosen when the upload began.
 */
@Injectable({ providedIn: 'root' })
export class Uploads {
  private readonly api = inject(Api);
  private readonly session = inject(Session);
  private readonly store = inject(ChatStore);
  private readonly tasks = new Map<string, UploadTask>();
  readonly views = signal<Record<string, UploadView>>({});
  readonly list = computed(() => Object.values(this.views()));
  private owner: string | null = null;
  private readonly previews = new Map<string, string>();
  private readonly downloadUrls = new Map<string, { url: string; until: number }>();

  constructor() {
    effect(() => {
      const user = this.session.user();
      untracked(() => {
        if (user?.userId !== this.owner) {
          for (const t of this.tasks.values()) t.pause();
          this.tasks.clear();
          this.views.set({});
          this.owner = user?.userId ?? null;
          if (user) void this.restore(user.userId);
        }
      });
    });
  }

  forConversation(id: string): UploadView[] {
    return this.list().filter((v) => v.conversationId === id && v.state !== 'cancelled');
  }

  async add(conversationId: string, file: File, opts: { replyTo?: string; channels?: string[] } = {}): Promise<void> {
    const record: UploadRecord = {
      key: uuid(),
      conversation_id: conversationId,
      filename: file.name || 'file',
      size: file.size,
      mime: file.type || 'application/octet-stream',
      last_modified: file.lastModified,
      reply_to_message_id: opts.replyTo,
      channels: opts.channels,
      created_at: new Date().toISOString(),
      blob: file,
    };
    if (file.type.startsWith('image/')) this.previews.set(record.key, URL.createObjectURL(file));
    await this.persist(record);
    this.run(this.track(record));
  }

  pause(key: string): void {
    this.tasks.get(key)?.pause();
  }

  resume(key: string): void {
    const t = this.tasks.get(key);
    if (t) this.run(t);
  }

  async cancel(key: string): Promise<void> {
    const t = this.tasks.get(key);
    if (!t) return;
    await t.cancel();
    this.tasks.delete(key);
    this.views.update((v) => {
      const n = { ...v };
      delete n[key];
      return n;
    });
  }

  /** After a reload that could not keep the file: the user picks it again. */
  provideFile(key: string, file: File): boolean {
    const t = this.tasks.get(key);
    if (!t || !t.provideFile(file)) return false;
    void this.persist(t.record);
    this.run(t);
    return true;
  }

  previewOf(key: string): string | undefined {
    return this.previews.get(key);
  }

  /** A presigned URL for a completed file (cached until shortly before it expires). */
  async downloadUrl(fileId: string): Promise<string> {
    const c = this.downloadUrls.get(fileId);
    if (c && c.until > Date.now()) return c.url;
    const d = await this.api.get<DownloadUrl>(`/v1/files/${fileId}/download?redirect=false`);
    const until = Date.parse(d.expires_at) - 30_000;
    this.downloadUrls.set(fileId, { url: d.url, until: Number.isNaN(until) ? Date.now() + 60_000 : until });
    return d.url;
  }

  private run(t: UploadTask): void {
    void t.start().then((done) => {
      if (done) this.sendFileMessage(t.record, done);
    });
  }

  private sendFileMessage(r: UploadRecord, f: FileStatus): void {
    const mime = f.mime_type ?? r.mime;
    const type: Payload['type'] = /^image\/(png|jpe?g|gif|webp|avif|bmp)$/.test(mime)
      ? 'image'
      : mime.startsWith('video/')
        ? 'video'
        : mime.startsWith('audio/')
          ? 'audio'
          : 'file';
    this.store.send(
      r.conversation_id,
      { type, file_id: f.file_id, metadata: { filename: r.filename, size_bytes: r.size, mime_type: mime } },
      { replyTo: r.reply_to_message_id, channels: r.channels, messageId: r.key },
    );
    this.views.update((v) => {
      const n = { ...v };
      delete n[r.key];
      return n;
    });
    this.tasks.delete(r.key);
  }

  private track(record: UploadRecord): UploadTask {
    const t = new UploadTask(record, this.deps(), (v) =>
      this.views.update((all) => ({ ...all, [v.key]: { ...v, previewUrl: this.previews.get(v.key) } })),
    );
    this.tasks.set(record.key, t);
    this.views.update((all) => ({ ...all, [record.key]: { ...t.view, previewUrl: this.previews.get(record.key) } }));
    return t;
  }

  private async restore(userId: string): Promise<void> {
    let records: UploadRecord[] = [];
    try {
      records = (await this.all()).filter((r) => (r as UploadRecord & { owner?: string }).owner === userId);
    } catch {
      return;
    }
    for (const r of records) {
      if (this.tasks.has(r.key)) continue;
      if (r.blob && r.mime.startsWith('image/')) this.previews.set(r.key, URL.createObjectURL(r.blob));
      const t = this.track(r);
      if (r.blob) this.run(t);
    }
  }

  private deps(): UploadDeps {
    return {
      initiate: (r) =>
        this.api.post<FileStatus>('/v1/files', {
          filename: r.filename,
          size_bytes: r.size,
          mime_type: r.mime,
          conversation_id: r.conversation_id,
        }),
      status: (id) => this.api.get<FileStatus>(`/v1/files/${id}`),
      putChunk: (id, n, body, sha, progress, signal) => this.putChunk(id, n, body, sha, progress, signal),
      complete: (id) => this.api.post<FileStatus>(`/v1/files/${id}/complete`),
      abort: (id) => this.api.delete<void>(`/v1/files/${id}`),
      hash: (b) => sha256Hex(b),
      save: (r) => this.persist(r),
      remove: (key) => this.removeRecord(key),
      sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
      now: () => performance.now(),
    };
  }

  /** PUT one chunk with XMLHttpRequest (fetch reports no upload progress); renews the token once. */
  private putChunk(
    fileId: string,
    n: number,
    body: Blob,
    sha: string,
    progress: (loaded: number) => void,
    signal: AbortSignal,
    retried = false,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', `/v1/files/${fileId}/chunks/${n}`);
      const token = this.session.accessToken();
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.setRequestHeader('X-Checksum-SHA256', sha);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => progress(e.loaded);
      const onAbort = () => xhr.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
      xhr.onerror = () => reject(new ApiError(0, 'network', 'The server cannot be reached.'));
      xhr.onload = async () => {
        signal.removeEventListener('abort', onAbort);
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(JSON.parse(xhr.responseText || '{}'));
          return;
        }
        const err = await toError(new Response(xhr.responseText, { status: xhr.status, headers: { 'Retry-After': xhr.getResponseHeader('Retry-After') ?? '' } }));
        if (xhr.status === 401 && !retried && err.code !== 'token_revoked' && (await this.session.recover(err.code))) {
          resolve(this.putChunk(fileId, n, body, sha, progress, signal, true));
          return;
        }
        reject(err);
      };
      xhr.send(body);
    });
  }

  // ---- IndexedDB

  private db(): Promise<IDBDatabase> {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  private async tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.db();
    try {
      return await new Promise<T>((resolve, reject) => {
        const t = db.transaction(STORE, mode);
        const req = fn(t.objectStore(STORE));
        t.oncomplete = () => resolve(req.result);
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error);
      });
    } finally {
      db.close();
    }
  }

  private all(): Promise<UploadRecord[]> {
    return this.tx('readonly', (s) => s.getAll() as IDBRequest<UploadRecord[]>);
  }

  private async persist(r: UploadRecord): Promise<void> {
    const row = { ...r, owner: this.owner, blob: r.blob && r.size <= KEEP_BLOB_MAX ? r.blob : undefined };
    try {
      await this.tx('readwrite', (s) => s.put(row));
    } catch {
      // quota: keep what can be kept; after a reload the user is asked for the file again
      try {
        await this.tx('readwrite', (s) => s.put({ ...row, blob: undefined }));
      } catch {
        // no IndexedDB (private mode): the upload still runs, it just cannot survive a reload
      }
    }
  }

  private async removeRecord(key: string): Promise<void> {
    try {
      await this.tx('readwrite', (s) => s.delete(key));
    } catch {
      // nothing stored
    }
  }
}
