import { ApiError } from './api';
import { FileStatus } from './models';
import { UploadDeps, UploadRecord, UploadTask, bytesStored, chunkRange, missingChunks } from './uploads';

const MB = 1024 * 1024;

function server(total: number, chunk: number, size: number) {
  const received = new Set<number>();
  const puts: number[] = [];
  let completes = 0;
  let aborted = false;
  let holdFrom = Infinity;
  const held: (() => void)[] = [];
  const status = (): FileStatus => ({
    file_id: 'f1', upload_status: 'uploading', chunk_size: chunk, total_chunks: total, received_chunks: [...received].sort((a, b) => a - b),
  });
  const deps: UploadDeps = {
    initiate: async () => status(),
    status: async () => status(),
    putChunk: (_id, n, body, _sha, progress, signal) =>
      new Promise((resolve, reject) => {
        puts.push(n);
        expect(body.size).toBe(chunkRange(n, chunk, size).end - chunkRange(n, chunk, size).start);
        const done = () => {
          progress(body.size);
          received.add(n);
          resolve({});
        };
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        if (n >= holdFrom) held.push(done);
        else setTimeout(done, 0);
      }),
    complete: async () => {
      completes++;
      return { ...status(), upload_status: 'completed' };
    },
    abort: async () => void (aborted = true),
    hash: async () => 'x'.repeat(64),
    save: async () => undefined,
    remove: async () => undefined,
    sleep: async () => undefined,
    now: () => Date.now(),
  };
  return { deps, puts, received, completes: () => completes, aborted: () => aborted, hold: (n: number) => (holdFrom = n), held };
}

function record(size: number): UploadRecord {
  return { key: 'k', conversation_id: 'c', filename: 'big.bin', size, mime: 'application/octet-stream', last_modified: 1, created_at: 'now', blob: new Blob([new Uint8Array(size)]) };
}

describe('upload planning', () => {
  it('cuts chunks of exactly chunk_size, the last one shorter', () => {
    expect(chunkRange(1, 5 * MB, 12 * MB)).toEqual({ start: 0, end: 5 * MB });
    expect(chunkRange(3, 5 * MB, 12 * MB)).toEqual({ start: 10 * MB, end: 12 * MB });
    expect(missingChunks(4, [1, 3])).toEqual([2, 4]);
    expect(bytesStored([1, 3, 3], 5 * MB, 12 * MB)).toBe(7 * MB);
  });
});

describe('upload task', () => {
  it('uploads every chunk once and completes', async () => {
    const s = server(3, 4, 10);
    const t = new UploadTask(record(10), s.deps, () => undefined);
    const done = await t.start();
    expect(done?.upload_status).toBe('completed');
    expect([...s.puts].sort()).toEqual([1, 2, 3]);
    expect(s.completes()).toBe(1);
    expect(t.view.state).toBe('done');
  });

  it('after a pause (or a reload) asks the node and sends only the chunks it lacks', async () => {
    const s = server(4, 4, 14);
    s.hold(3);
    const r = record(14);
    const first = new UploadTask(r, s.deps, () => undefined, 1);
    const run = first.start();
    await vi.waitFor(() => expect(s.held.length).toBe(1));
    expect(first.view.sent).toBe(8);
    first.pause();
    expect(await run).toBeNull();
    expect(first.view.state).toBe('paused');
    // a new page: the record (with file_id) comes back from IndexedDB
    s.hold(Infinity);
    const again = new UploadTask({ ...r }, s.deps, () => undefined, 1);
    const done = await again.start();
    expect(done?.upload_status).toBe('completed');
    expect(s.puts).toEqual([1, 2, 3, 3, 4]);
    expect(s.completes()).toBe(1);
  });

  it('retries a chunk after a network error and fails with a message after several', async () => {
    const s = server(1, 4, 4);
    let calls = 0;
    const put = s.deps.putChunk;
    s.deps.putChunk = (...a) => (++calls <= 2 ? Promise.reject(new ApiError(0, 'network', 'down')) : put(...a));
    const t = new UploadTask(record(4), s.deps, () => undefined);
    expect((await t.start())?.upload_status).toBe('completed');
    expect(calls).toBe(3);

    const s2 = server(1, 4, 4);
    s2.deps.putChunk = () => Promise.reject(new ApiError(400, 'validation_failed', 'bad chunk'));
    const t2 = new UploadTask(record(4), s2.deps, () => undefined);
    expect(await t2.start()).toBeNull();
    expect(t2.view.state).toBe('failed');
    expect(t2.view.error).toBe('bad chunk');
  });

  it('cancel aborts the upload on the node', async () => {
    const s = server(2, 4, 8);
    s.hold(1);
    const t = new UploadTask(record(8), s.deps, () => undefined, 1);
    const run = t.start();
    await vi.waitFor(() => expect(s.held.length).toBe(1));
    await t.cancel();
    expect(await run).toBeNull();
    expect(s.aborted()).toBe(true);
    expect(t.view.state).toBe('cancelled');
  });

  it('needs the file again when a reload could not keep it, and only accepts the same file', () => {
    const s = server(1, 4, 4);
    const r = { ...record(4), blob: undefined, file_id: 'f1' };
    const t = new UploadTask(r, s.deps, () => undefined);
    expect(t.view.state).toBe('needs_file');
    expect(t.provideFile(new File([new Uint8Array(5)], 'big.bin', { lastModified: 1 }))).toBe(false);
    expect(t.provideFile(new File([new Uint8Array(4)], 'big.bin', { lastModified: 1 }))).toBe(true);
    expect(t.view.state).toBe('paused');
  });
});
