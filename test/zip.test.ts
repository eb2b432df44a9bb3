/**
 * src/items/zip.ts: round trips, and archives checked by an independent reader (the system
 * `unzip`, else python3's zipfile module).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { crc32, crc32Fallback, readZip, writeZip } from '../src/items/zip.js';

function which(cmd: string): boolean {
  try {
    execFileSync('which', [cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const HAS_UNZIP = which('unzip');
const HAS_PYTHON = which('python3');

const PY_LIST = `
import sys, zipfile, json, hashlib
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps([{"name": i.filename, "dir": i.is_dir(), "sha": hashlib.sha256(z.read(i)).hexdigest()} for i in z.infolist()]))
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wmill-zip-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function save(buf: Buffer): string {
  const file = join(dir, `a${n++}.zip`);
  writeFileSync(file, buf);
  return file;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Names and content hashes as an independent reader sees them. */
function externalRead(file: string, names: string[]): { names: string[]; hashes: Record<string, string> } {
  if (HAS_UNZIP) {
    // -Z1: one name per line, exactly as stored (directory entries would end with '/').
    const listed = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const hashes: Record<string, string> = {};
    for (const name of names) {
      // unzip treats its member arguments as wildcards: escape them.
      const pattern = name.replace(/[[\]*?\\]/g, (c) => `\\${c}`);
      hashes[name] = sha(execFileSync('unzip', ['-p', file, pattern], { maxBuffer: 64 << 20 }));
    }
    return { names: listed, hashes };
  }
  const rows = JSON.parse(execFileSync('python3', ['-c', PY_LIST, file], { encoding: 'utf8' })) as {
    name: string;
    dir: boolean;
    sha: string;
  }[];
  return { names: rows.map((r) => r.name), hashes: Object.fromEntries(rows.map((r) => [r.name, r.sha])) };
}

const SAMPLE = [
  { path: 'wmill.yaml', data: 'defaultTs: bun\nincludes:\n  - f/**\n' },
  { path: 'f/examples/greet.py', data: 'def main(name: str):\n    return f"hi {name}"\n' },
  { path: 'f/examples/deep/nested/dir/file.json', data: JSON.stringify({ a: [1, 2, 3] }) },
  { path: 'f/examples/binary.bin', data: randomBytes(4096) },
  { path: 'f/examples/empty.txt', data: '' },
  { path: 'u/zoë/naïve – 日本語.ts', data: 'export const s = "ünïcødé";\n' },
];

describe('writeZip / readZip', () => {
  it('round-trips entries in order, bytes identical', () => {
    for (const deflate of [true, false]) {
      const zip = writeZip(SAMPLE, { deflate });
      const back = readZip(zip);
      expect(back.map((e) => e.path)).toEqual(SAMPLE.map((e) => e.path));
      for (const [i, e] of back.entries()) {
        const want = SAMPLE[i]!.data;
        expect(e.data.equals(typeof want === 'string' ? Buffer.from(want, 'utf8') : want)).toBe(true);
      }
    }
  });

  it('is deterministic', () => {
    expect(writeZip(SAMPLE).equals(writeZip(SAMPLE))).toBe(true);
    const zip = writeZip([{ path: 'a.txt', data: 'x' }]);
    // Local header: DOS time 0, date 1980-01-01; UTF-8 flag (bit 11) set.
    expect(zip.readUInt16LE(6) & 0x0800).toBe(0x0800);
    expect(zip.readUInt16LE(10)).toBe(0);
    expect(zip.readUInt16LE(12)).toBe(0x21);
  });

  it('writes an empty archive', () => {
    const zip = writeZip([]);
    expect(zip.length).toBe(22);
    expect(readZip(zip)).toEqual([]);
  });

  it('has no directory entries, even for deeply nested paths', () => {
    const zip = writeZip(SAMPLE);
    // Count central-directory headers: exactly one per file.
    let count = 0;
    for (let i = 0; i + 4 <= zip.length; i++) if (zip.readUInt32LE(i) === 0x02014b50) count++;
    expect(count).toBe(SAMPLE.length);
    expect(readZip(zip).some((e) => e.path.endsWith('/'))).toBe(false);
  });

  it.skipIf(!HAS_UNZIP && !HAS_PYTHON)('is read identically by an independent reader (unzip or python zipfile)', () => {
    for (const deflate of [true, false]) {
      const file = save(writeZip(SAMPLE, { deflate }));
      const got = externalRead(file, SAMPLE.map((e) => e.path));
      expect(got.names).toEqual(SAMPLE.map((e) => e.path)); // exactly the files, no directories
      for (const e of SAMPLE) {
        const bytes = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
        expect(got.hashes[e.path], e.path).toBe(sha(bytes));
      }
    }
  });

  it.skipIf(!HAS_UNZIP)('passes `unzip -t`', () => {
    const file = save(writeZip(SAMPLE));
    const out = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
    expect(out).toMatch(/No errors detected/);
  });

  it('stores an empty file with method 0 and zero sizes', () => {
    const zip = writeZip([{ path: 'empty', data: Buffer.alloc(0) }]);
    expect(zip.readUInt16LE(8)).toBe(0); // method
    expect(zip.readUInt32LE(18)).toBe(0); // compressed size
    expect(zip.readUInt32LE(22)).toBe(0); // size
    expect(readZip(zip)).toEqual([{ path: 'empty', data: Buffer.alloc(0) }]);
  });

  it('deflates a 1 MB compressible file, and stores incompressible data', () => {
    const line = 'export async function main(x: number) { return x * 2 }\n';
    const big = Buffer.from(line.repeat(Math.ceil((1 << 20) / line.length))).subarray(0, 1 << 20);
    const noise = randomBytes(64 * 1024);
    const zip = writeZip([
      { path: 'big.ts', data: big },
      { path: 'noise.bin', data: noise },
    ]);
    expect(zip.readUInt16LE(8)).toBe(8); // first entry deflated
    expect(zip.length).toBeLessThan(big.length / 10 + noise.length + 1024);
    const back = readZip(zip);
    expect(back[0]!.data.equals(big)).toBe(true);
    expect(back[1]!.data.equals(noise)).toBe(true);
    if (HAS_UNZIP || HAS_PYTHON) {
      const got = externalRead(save(zip), ['big.ts', 'noise.bin']);
      expect(got.hashes['big.ts']).toBe(sha(big));
      expect(got.hashes['noise.bin']).toBe(sha(noise));
    }
    // deflate: false stores everything.
    const stored = writeZip([{ path: 'big.ts', data: big }], { deflate: false });
    expect(stored.readUInt16LE(8)).toBe(0);
    expect(readZip(stored)[0]!.data.equals(big)).toBe(true);
  });

  it('writes UTF-8 names that external readers decode', () => {
    const zip = writeZip([{ path: 'f/café/ñ.txt', data: 'x' }]);
    expect(readZip(zip)[0]!.path).toBe('f/café/ñ.txt');
    expect(zip.includes(Buffer.from('f/café/ñ.txt', 'utf8'))).toBe(true);
    if (HAS_UNZIP || HAS_PYTHON) expect(externalRead(save(zip), []).names).toEqual(['f/café/ñ.txt']);
  });

  it('rejects unsafe and duplicate paths', () => {
    const bad = (path: string) => () => writeZip([{ path, data: 'x' }]);
    expect(bad('../evil')).toThrow(/invalid entry path "\.\.\/evil": contains a "\.\." segment/);
    expect(bad('a/../../b')).toThrow(/contains a "\.\." segment/);
    expect(bad('a/..')).toThrow(/contains a "\.\." segment/);
    expect(bad('/etc/passwd')).toThrow(/is absolute/);
    expect(bad('C:/x')).toThrow(/is absolute/);
    expect(bad('a\\b')).toThrow(/backslash/);
    expect(bad('dir/')).toThrow(/directory entries are not allowed/);
    expect(bad('a//b')).toThrow(/empty segment/);
    expect(bad('')).toThrow(/is empty/);
    expect(() =>
      writeZip([
        { path: 'a.txt', data: '1' },
        { path: 'a.txt', data: '2' },
      ]),
    ).toThrow(/duplicate entry path "a\.txt"/);
    // '..' as part of a name is fine.
    expect(readZip(writeZip([{ path: 'a..b/c..', data: 'ok' }]))[0]!.path).toBe('a..b/c..');
  });
});

describe('readZip on foreign and corrupt archives', () => {
  it.skipIf(!HAS_PYTHON)('reads python zipfile output (directory entries skipped, deflate + stored)', () => {
    const file = join(dir, 'py.zip');
    execFileSync('python3', [
      '-c',
      `import zipfile,sys
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("f/", "")
    z.writestr(zipfile.ZipInfo("f/stored.txt"), "stored text")
    z.writestr("f/deflated.txt", "deflated " * 1000, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr("f/ünï.txt", "u")
    z.comment = b"an archive comment"`,
      file,
    ]);
    const got = readZip(readFileSync(file));
    expect(got.map((e) => e.path)).toEqual(['f/stored.txt', 'f/deflated.txt', 'f/ünï.txt']);
    expect(got[0]!.data.toString()).toBe('stored text');
    expect(got[1]!.data.toString()).toBe('deflated '.repeat(1000));
  });

  it('rejects truncated, CRC-corrupted and unsafe archives with a clear error', () => {
    const zip = writeZip([{ path: 'a.txt', data: 'hello hello hello hello hello' }], { deflate: false });
    expect(() => readZip(Buffer.from('not a zip at all, definitely not'))).toThrow(/^corrupt zip archive: end of central directory not found/);
    expect(() => readZip(Buffer.alloc(3))).toThrow(/corrupt zip archive: too short/);
    expect(() => readZip(zip.subarray(0, zip.length - 30))).toThrow(/corrupt zip archive/);

    const flipped = Buffer.from(zip);
    flipped[30 + 'a.txt'.length + 2]! ^= 0xff; // a data byte
    expect(() => readZip(flipped)).toThrow(/corrupt zip archive: CRC mismatch in entry "a\.txt"/);

    const deflated = Buffer.from(writeZip([{ path: 'a.txt', data: 'abc'.repeat(500) }]));
    deflated[30 + 5 + 1]! ^= 0x55;
    expect(() => readZip(deflated)).toThrow(/corrupt zip archive: (cannot inflate|CRC mismatch|entry "a\.txt" has the wrong size)/);

    // A hand-made archive with a '..' name is refused (zip-slip).
    const evil = Buffer.from(writeZip([{ path: 'xx/evil', data: 'x' }]));
    for (let i = 0; i + 7 <= evil.length; i++) if (evil.subarray(i, i + 7).toString() === 'xx/evil') evil.write('../evil', i);
    expect(() => readZip(evil)).toThrow(/unsafe entry path "\.\.\/evil"/);
  });
});

describe('crc32', () => {
  it('matches the table fallback and known values', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Fallback(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Fallback(Buffer.alloc(0))).toBe(0);
    const data = randomBytes(10_000);
    expect(crc32Fallback(data)).toBe(crc32(data));
    const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
    if (native) expect(crc32(data)).toBe(native(data) >>> 0);
  });
});
