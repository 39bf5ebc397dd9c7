import { sha256Portable } from './sha256';

describe('portable sha-256 (pages without Web Crypto)', () => {
  it('matches known digests', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(sha256Portable(enc(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Portable(enc('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Portable(enc('a'.repeat(1000)))).toBe('41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3');
  });
});
