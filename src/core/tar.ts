/**
 * The tar (POSIX ustar, with pax headers for long paths) subset that release images use:
 * writing is deterministic (same files, same bytes), reading accepts only regular files and
 * enforces limits, so an image from an untrusted registry cannot escape or exhaust anything.
 */
import { ForgeError } from './errors.js';

const BLOCK = 512;

export interface TarFileInput {
  path: string;
  bytes: Buffer;
  /** Seconds since the epoch. */
  mtime: number;
}

export interface TarEntry {
  path: string;
  bytes: Buffer;
}

export interface TarLimits {
  maxFiles: number;
  maxTotalBytes: number;
  maxFileBytes: number;
}

/** Regular files, mode 0644, uid/gid 0, empty user/group names, in the order given; no directory entries. */
export function writeTar(files: TarFileInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const split = ustarName(file.path);
    if (!split) {
      const record = paxRecord('path', file.path);
      parts.push(header({ name: paxName(file.path), prefix: '', size: record.length, mtime: file.mtime, type: 'x' }), pad(record));
    }
    const { name, prefix } = split ?? { name: paxName(file.path).replace('PaxHeaders/', ''), prefix: '' };
    parts.push(header({ name, prefix, size: file.bytes.length, mtime: file.mtime, type: '0' }), pad(file.bytes));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function ustarName(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  return undefined;
}

function paxName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return `PaxHeaders/${Buffer.from(base)
    .subarray(0, 80)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '_')}`;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return Buffer.from(`${len}${body}`);
}

function header(h: { name: string; prefix: string; size: number; mtime: number; type: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, 0o644);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.fill(0x20, 148, 156);
  b.write(h.type, 156, 1, 'latin1');
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number) {
  b.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'latin1');
}

function pad(bytes: Buffer): Buffer {
  const rest = bytes.length % BLOCK;
  return rest ? Buffer.concat([bytes, Buffer.alloc(BLOCK - rest)]) : bytes;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '5': 'directory',
  '6': 'FIFO',
  K: 'GNU long link name',
  S: 'GNU sparse file',
};

function malformed(message: string, details: Record<string, unknown> = {}): ForgeError {
  return new ForgeError('validation_error', `tar archive: ${message}`, details);
}

/** Reads a tar archive that must hold only regular files with safe relative paths, within `limits`. */
export function readTar(buf: Buffer, limits: TarLimits): TarEntry[] {
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  let offset = 0;
  let pending: { path?: string; size?: number } = {};
  for (;;) {
    if (offset + BLOCK > buf.length) throw malformed('truncated: no end-of-archive marker');
    const h = buf.subarray(offset, offset + BLOCK);
    if (h.every((byte) => byte === 0)) break;
    checkChecksum(h, offset);
    const type = String.fromCharCode(h[156]!);
    const size = pending.size ?? parseOctal(h.subarray(124, 136), offset);
    const dataStart = offset + BLOCK;
    if (dataStart + size > buf.length) throw malformed(`truncated: entry at offset ${offset} needs ${size} bytes`);
    const data = buf.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x') {
      pending = parsePax(data);
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      pending = { ...pending, path: cString(data) };
      continue;
    }
    const rawPath = pending.path ?? headerPath(h);
    pending = {};
    if (type !== '0' && type !== '\0' && type !== '7') {
      throw malformed(`"${rawPath}" is a ${TYPE_NAMES[type] ?? `entry of type "${type}"`}; only regular files are allowed`, {
        path: rawPath,
      });
    }
    const path = normalisePath(rawPath);
    if (seen.has(path)) throw malformed(`"${path}" appears twice`, { path });
    seen.add(path);
    if (entries.length + 1 > limits.maxFiles) {
      throw new ForgeError('payload_too_large', `tar archive holds more than ${limits.maxFiles} files`, { limit: limits.maxFiles });
    }
    if (size > limits.maxFileBytes) {
      throw new ForgeError('payload_too_large', `"${path}" is ${size} bytes, more than the ${limits.maxFileBytes} allowed per file`, {
        path,
        limit: limits.maxFileBytes,
      });
    }
    total += size;
    if (total > limits.maxTotalBytes) {
      throw new ForgeError('payload_too_large', `tar archive files exceed ${limits.maxTotalBytes} bytes in total`, {
        limit: limits.maxTotalBytes,
      });
    }
    entries.push({ path, bytes: Buffer.from(data) });
  }
  return entries;
}

function checkChecksum(h: Buffer, offset: number) {
  const stored = parseOctal(h.subarray(148, 156), offset);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (sum !== stored) throw malformed(`bad header checksum at offset ${offset}`);
}

function parseOctal(field: Buffer, offset: number): number {
  if (field[0]! & 0x80) throw malformed(`base-256 numeric field at offset ${offset} (too large)`);
  const text = cString(field).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw malformed(`bad numeric field "${text}" at offset ${offset}`);
  return parseInt(text, 8);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end === -1 ? b.length : end).toString('utf8');
}

function headerPath(h: Buffer): string {
  const name = cString(h.subarray(0, 100));
  const isUstar = h.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(h.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function parsePax(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) throw malformed('bad pax header');
    const len = parseInt(data.subarray(i, space).toString('latin1'), 10);
    if (!(len > 0) || i + len > data.length) throw malformed('bad pax record length');
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    if (key === 'size') {
      if (!/^\d+$/.test(value)) throw malformed(`bad pax size "${value}"`);
      out.size = Number(value);
    }
    i += len;
  }
  return out;
}

function normalisePath(raw: string): string {
  const path = raw.replace(/^(\.\/)+/, '');
  const bad =
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.includes('\0') ||
    path.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad) throw malformed(`unsafe path "${raw}": paths must be relative, without "..", "." or empty segments`, { path: raw });
  return path;
}
