/** Builds a tar with tar-stream, for archives our writer would never make (links, devices, escapes). */
import { type Header, pack } from 'tar-stream';

export type EntryHeader = Partial<Header> & { name: string };

export async function craftTar(entries: { header: EntryHeader; body?: string }[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const end = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const e of entries) p.entry(e.header as Header, e.body ?? '');
  p.finalize();
  await end;
  return Buffer.concat(chunks);
}
