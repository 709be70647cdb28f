// Where each member of a tar archive is, found by reading its headers only: blobs of an
// `oci-archive` tar are then streamed straight from the archive (each read once, verified on
// the way), without extracting the archive first. ustar, GNU long names and pax paths.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ImageError } from '../core/errors.js';

export interface TarMember {
  offset: number;
  size: number;
}

const BLOCK = 512;

function field(buf: Buffer, start: number, length: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + length ? start + length : end);
}

function numberField(buf: Buffer, start: number, length: number): number {
  if (buf[start]! & 0x80) {
    // base-256 (GNU) for sizes of 8 GiB and more
    let n = 0;
    for (let i = start + 1; i < start + length; i++) n = n * 256 + buf[i]!;
    return n;
  }
  const text = field(buf, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  let path: string | undefined;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(data.toString('ascii', pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    pos += len;
  }
  return path;
}

/** Member name → offset and size of its data, for regular files. Later members win (as tar -x). */
export function indexTar(file: string): Map<string, TarMember> {
  const fd = openSync(file, 'r');
  try {
    const total = fstatSync(fd).size;
    const members = new Map<string, TarMember>();
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | undefined;
    while (offset + BLOCK <= total) {
      if (readSync(fd, header, 0, BLOCK, offset) !== BLOCK) break;
      if (header.every((b) => b === 0)) break;
      const magic = header.toString('ascii', 257, 262);
      if (magic !== 'ustar') throw new ImageError(`${file} is not a tar archive (no ustar header at byte ${offset})`);
      const size = numberField(header, 124, 12);
      const type = String.fromCharCode(header[156]!);
      const dataAt = offset + BLOCK;
      if (dataAt + size > total) throw new ImageError(`${file} is truncated: member at byte ${offset} needs ${size} bytes, the file ends before`);
      const readData = (): Buffer => {
        const data = Buffer.alloc(size);
        readSync(fd, data, 0, size, dataAt);
        return data;
      };
      if (type === 'L') longName = field(readData(), 0, size);
      else if (type === 'x') longName = paxPath(readData()) ?? longName;
      else if (type !== 'g') {
        const prefix = field(header, 345, 155);
        const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
        longName = undefined;
        if (type === '0' || type === '\0' || type === '7') members.set(normalizeMember(name), { offset: dataAt, size });
      }
      offset = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    }
    return members;
  } finally {
    closeSync(fd);
  }
}

/** "./blobs/sha256/x" and "blobs/sha256/x" are the same member. */
export function normalizeMember(name: string): string {
  return name.split('/').filter((c) => c !== '' && c !== '.').join('/');
}
