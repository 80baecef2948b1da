/** Unit tests of src/core/tar.ts: deterministic writing and a guarded reader of the release images' tar subset. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../../src/core/errors.js';
import { readTar, type TarLimits, writeTar } from '../../src/core/tar.js';

const LIMITS: TarLimits = { maxFiles: 100, maxTotalBytes: 1 << 20, maxFileBytes: 1 << 16 };
const file = (path: string, text: string) => ({ path, bytes: Buffer.from(text), mtime: 1_700_000_000 });

test('written files read back in order, with their bytes; the archive is whole 512-byte blocks', () => {
  const files = [file('b.yaml', 'kind: B\n'), file('a/c.yaml', ''), file('x'.repeat(600), 'long\n')];
  const tar = writeTar(files);
  assert.equal(tar.length % 512, 0);
  assert.deepEqual(
    readTar(tar, LIMITS).map((e) => [e.path, e.bytes.toString()]),
    files.map((f) => [f.path, f.bytes.toString()]),
  );
});

test('writing is deterministic: mode 0644, uid/gid 0, the given mtime, no user names', () => {
  const a = writeTar([file('a.yaml', 'x')]);
  assert.deepEqual(writeTar([file('a.yaml', 'x')]), a);
  assert.equal(a.subarray(100, 107).toString('latin1'), '0000644');
  assert.equal(a.subarray(108, 115).toString('latin1'), '0000000');
  assert.equal(a.subarray(116, 123).toString('latin1'), '0000000');
  assert.equal(Number.parseInt(a.subarray(136, 147).toString('latin1'), 8), 1_700_000_000);
  assert.equal(a.subarray(265, 329).toString('latin1').replaceAll('\0', ''), '', 'no user or group names');
  assert.notDeepEqual(writeTar([{ ...file('a.yaml', 'x'), mtime: 1 }]), a);
});

test('paths up to 255 bytes use the ustar prefix; longer ones a pax header', () => {
  const split = `${'d'.repeat(150)}/${'f'.repeat(90)}`;
  const split1 = writeTar([file(split, 'x')]);
  assert.equal(split1.length, 512 * 4, 'one header, one data block, two end blocks: no pax header');
  assert.deepEqual(readTar(split1, LIMITS)[0].path, split);
  const long = `${'d'.repeat(200)}/${'f'.repeat(200)}`;
  assert.deepEqual(readTar(writeTar([file(long, 'x')]), LIMITS)[0].path, long);
});

function refused(tar: Buffer, message: RegExp, code = 'validation_error', limits = LIMITS) {
  assert.throws(
    () => readTar(tar, limits),
    (err: unknown) => err instanceof ForgeError && err.code === code && message.test(err.message),
  );
}

/** A one-file archive whose header is changed by `edit` (the checksum is recomputed). */
function edited(edit: (h: Buffer) => void, path = 'a.yaml'): Buffer {
  const tar = Buffer.from(writeTar([file(path, 'x')]));
  const h = tar.subarray(0, 512);
  edit(h);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return tar;
}

test('limits: file count, per-file and total size are payload_too_large', () => {
  const three = writeTar([file('a', 'xx'), file('b', 'xx'), file('c', 'xx')]);
  refused(three, /more than 2 files/, 'payload_too_large', { ...LIMITS, maxFiles: 2 });
  refused(three, /"a" is 2 bytes, more than the 1 allowed per file/, 'payload_too_large', { ...LIMITS, maxFileBytes: 1 });
  refused(three, /exceed 5 bytes in total/, 'payload_too_large', { ...LIMITS, maxTotalBytes: 5 });
  assert.equal(readTar(three, { maxFiles: 3, maxFileBytes: 2, maxTotalBytes: 6 }).length, 3, 'limits are inclusive');
});

test('only regular files with safe relative paths, each once', () => {
  refused(
    edited((h) => h.write('2', 156, 1, 'latin1')),
    /"a.yaml" is a symbolic link; only regular files are allowed/,
  );
  refused(
    edited((h) => h.write('5', 156, 1, 'latin1')),
    /is a directory/,
  );
  refused(
    edited((h) => h.write('3', 156, 1, 'latin1')),
    /is a character device/,
  );
  for (const bad of ['../etc/passwd', '/etc/passwd', 'a/./b', 'a//b', 'a\\b']) {
    refused(writeTar([file(bad, 'x')]), /unsafe path/);
  }
  assert.equal(readTar(writeTar([file('./a', 'x')]), LIMITS)[0].path, 'a', 'a leading ./ is dropped');
  refused(writeTar([file('a', 'x'), file('./a', 'y')]), /"a" appears twice/);
});

test('damaged archives: bad checksum, truncation, no end marker', () => {
  const tar = Buffer.from(writeTar([file('a.yaml', 'x')]));
  const bad = Buffer.from(tar);
  bad[0] = 'b'.charCodeAt(0);
  refused(bad, /bad header checksum at offset 0/);
  refused(tar.subarray(0, 512), /truncated: entry at offset 0 needs 1 bytes/);
  refused(tar.subarray(0, 1024), /truncated: no end-of-archive marker/);
  refused(
    edited((h) => h.write('0000000009x', 124, 11, 'latin1')),
    /bad numeric field "0000000009x"/,
  );
});
