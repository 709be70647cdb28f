// Applies tar entries to a rootfs so that nothing lands outside it. Every parent directory of
// an entry is walked component by component from the rootfs with lstat, and a component that
// is a symlink (planted by an earlier layer, earlier in the same layer, or a directory replaced
// by one) or not a directory is refused; the last component is created with O_EXCL|O_NOFOLLOW
// (or replaced after lstat), never opened through a link. Names with `..` or a leading `/` are
// refused, as are hard links whose target is not an entry inside the rootfs. Directories whose
// walk succeeded are remembered until something under them is removed or replaced.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { errnoCode, ImageError } from '../core/errors.js';
import { lsetxattrSync, makedev, mknodSync, S_IFBLK, S_IFCHR, S_IFIFO } from './libc.js';

/** Names in messages: at most about 200 bytes (the start, the end and the full length), so a 4 KB name stays one short line. */
export function shownName(name: string, max = 200): string {
  if (name.length <= max) return name;
  return `${name.slice(0, 120)}…${name.slice(-60)} (${Buffer.byteLength(name)} bytes)`;
}

export interface EntryHeader {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string | null;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string> | null;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export class RootfsWriter {
  /** Real directories (absolute paths) whose whole walk from the root was checked. */
  private readonly checkedDirs = new Set<string>();
  /** Paths (relative) the current layer created, with their parents: what opaque whiteouts keep. */
  private layerPaths = new Set<string>();
  /** Directory times, applied last (writing into a directory changes its mtime). */
  private readonly dirTimes = new Map<string, number>();
  /** Apparent bytes of each regular file (hard links once), for the image size. */
  private readonly fileSizes = new Map<string, number>();
  xattrsUnsupported = false;
  /** The regular file being written, closed by abort() if unpacking stops half-way. */
  private openFd: number | undefined;

  constructor(readonly root: string) {
    this.checkedDirs.add(root);
  }

  startLayer(): void {
    this.layerPaths = new Set();
  }

  get size(): number {
    let n = 0;
    for (const s of this.fileSizes.values()) n += s;
    return n;
  }

  /** Entry name → components inside the rootfs; `..` and absolute names are refused. */
  private components(name: string, entry: string, what = 'name'): string[] {
    if (name.startsWith('/')) throw new ImageError(`layer entry "${entry}": absolute ${what} "${shownName(name)}" is refused (it would leave the rootfs)`);
    const parts = name.split('/').filter((c) => c !== '' && c !== '.');
    if (parts.includes('..')) throw new ImageError(`layer entry "${entry}": ${what} "${shownName(name)}" has a ".." component (it would leave the rootfs)`);
    if (parts.some((c) => c.includes('\0'))) throw new ImageError(`layer entry "${entry}": ${what} has a NUL byte`);
    return parts;
  }

  /** The parent directory of `parts`, walked without following any symlink; made if missing. */
  private parentDir(parts: string[], entry: string): string {
    let cur = this.root;
    for (const c of parts.slice(0, -1)) {
      const next = `${cur}/${c}`;
      if (!this.checkedDirs.has(next)) {
        const st = lstatOrUndefined(next);
        if (st === undefined) mkdirSync(next, 0o755);
        else if (st.isSymbolicLink()) throw new ImageError(`layer entry "${entry}": its parent "${shownName(next.slice(this.root.length + 1))}" is a symlink; writing through it could leave the rootfs`);
        else if (!st.isDirectory()) throw new ImageError(`layer entry "${entry}": its parent "${shownName(next.slice(this.root.length + 1))}" is not a directory`);
        this.checkedDirs.add(next);
      }
      cur = next;
    }
    return cur;
  }

  private markLayerPath(parts: string[]): void {
    for (let i = parts.length; i > 0; i--) {
      const p = parts.slice(0, i).join('/');
      if (this.layerPaths.has(p)) break;
      this.layerPaths.add(p);
    }
  }

  /** Removes whatever is at `path` (a directory with its contents), forgetting what was under it. */
  private removePath(path: string, st: Stats): void {
    if (st.isDirectory()) {
      rmSync(path, { recursive: true, force: true });
      const prefix = `${path}/`;
      for (const d of this.checkedDirs) if (d === path || d.startsWith(prefix)) this.checkedDirs.delete(d);
      for (const d of this.dirTimes.keys()) if (d === path || d.startsWith(prefix)) this.dirTimes.delete(d);
      for (const f of this.fileSizes.keys()) if (f.startsWith(prefix)) this.fileSizes.delete(f);
    } else {
      unlinkSync(path);
      this.fileSizes.delete(path);
    }
  }

  /**
   * Applies one entry. For a regular file, resolves to a writer for its data (call write for
   * each chunk, then end); for everything else, the entry is complete on return.
   */
  apply(raw: EntryHeader): { write(chunk: Buffer): void; end(): void } | undefined {
    // pax mtime keeps sub-second precision the ustar field cannot hold.
    const paxMtime = raw.pax?.mtime === undefined ? NaN : Number(raw.pax.mtime);
    const h = Number.isFinite(paxMtime) ? { ...raw, mtime: new Date(paxMtime * 1000), mtimeSeconds: paxMtime } : { ...raw, mtimeSeconds: raw.mtime.getTime() / 1000 };
    const entry = shownName(h.name);
    const parts = this.components(h.name, entry);
    if (parts.length === 0) {
      // The rootfs itself ("./"): its owner and mode.
      if (h.type === 'directory') this.finishDir(this.root, h, entry);
      return undefined;
    }
    const base = parts[parts.length - 1]!;
    if (base.startsWith(WHITEOUT)) {
      this.whiteout(parts, base, entry);
      return undefined;
    }
    const parent = this.parentDir(parts, entry);
    const path = `${parent}/${base}`;
    const existing = lstatOrUndefined(path);
    this.markLayerPath(parts);
    switch (h.type) {
      case 'directory':
        if (existing && !existing.isDirectory()) this.removePath(path, existing);
        if (!existing || !existing.isDirectory()) mkdirSync(path, 0o700);
        this.checkedDirs.add(path);
        this.finishDir(path, h, entry);
        return undefined;
      case 'file':
      case 'contiguous-file': {
        if (existing) this.removePath(path, existing);
        const fd = openSync(path, CREATE_FLAGS, 0o600);
        this.openFd = fd;
        let size = 0;
        return {
          write: (chunk) => {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
            size += chunk.length;
          },
          end: () => {
            try {
              fchownSync(fd, h.uid, h.gid);
              fchmodSync(fd, h.mode & 0o7777); // after chown, which clears setuid/setgid
              futimesSync(fd, h.mtimeSeconds, h.mtimeSeconds);
            } finally {
              this.openFd = undefined;
              closeSync(fd);
            }
            this.setXattrs(path, h, entry);
            this.fileSizes.set(path, size);
          },
        };
      }
      case 'symlink':
        if (existing) this.removePath(path, existing);
        symlinkSync(h.linkname ?? '', path);
        lchownSync(path, h.uid, h.gid);
        lutimesSync(path, h.mtimeSeconds, h.mtimeSeconds);
        return undefined;
      case 'link': {
        const targetParts = this.components(h.linkname ?? '', entry, 'hard link target');
        if (targetParts.length === 0) throw new ImageError(`layer entry "${entry}": hard link to the rootfs itself`);
        const target = `${this.parentDir(targetParts, entry)}/${targetParts[targetParts.length - 1]}`;
        const tst = lstatOrUndefined(target);
        if (!tst) throw new ImageError(`layer entry "${entry}": hard link target "${shownName(h.linkname ?? '')}" does not exist in the rootfs`);
        if (tst.isDirectory()) throw new ImageError(`layer entry "${entry}": hard link target "${shownName(h.linkname ?? '')}" is a directory`);
        if (target === path) return undefined;
        if (existing) this.removePath(path, existing);
        linkSync(target, path); // link(2) does not follow a symlink target: the link is to the entry itself
        return undefined;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        if (existing) this.removePath(path, existing);
        const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
        mknodSync(path, kind, h.mode, h.type === 'fifo' ? 0n : makedev(h.devmajor ?? 0, h.devminor ?? 0), entry);
        lchownSync(path, h.uid, h.gid);
        chmodSync(path, h.mode & 0o7777);
        utimesSync(path, h.mtimeSeconds, h.mtimeSeconds);
        this.setXattrs(path, h, entry);
        return undefined;
      }
      default:
        throw new ImageError(`layer entry "${entry}": unsupported tar entry type "${h.type}"`);
    }
  }

  private finishDir(path: string, h: EntryHeader & { mtimeSeconds: number }, entry: string): void {
    lchownSync(path, h.uid, h.gid);
    chmodSync(path, h.mode & 0o7777);
    this.setXattrs(path, h, entry);
    this.dirTimes.set(path, h.mtimeSeconds);
  }

  private setXattrs(path: string, h: EntryHeader, entry: string): void {
    if (!h.pax) return;
    for (const [key, value] of Object.entries(h.pax)) {
      if (!key.startsWith('SCHILY.xattr.')) continue;
      if (!lsetxattrSync(path, key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'utf8'), entry)) this.xattrsUnsupported = true;
    }
  }

  /** `.wh.NAME` removes NAME of lower layers; `.wh..wh..opq` empties its directory of them. */
  private whiteout(parts: string[], base: string, entry: string): void {
    const parent = this.parentDir(parts, entry);
    const dirParts = parts.slice(0, -1);
    if (base === OPAQUE) {
      this.markLayerPath(dirParts);
      const prefix = dirParts.length ? `${dirParts.join('/')}/` : '';
      for (const child of readdirSync(parent)) {
        if (this.layerPaths.has(prefix + child)) continue; // this layer's own entries stay
        const p = `${parent}/${child}`;
        this.removePath(p, lstatSync(p));
      }
      return;
    }
    const name = base.slice(WHITEOUT.length);
    if (name === '' || name === '.' || name === '..') throw new ImageError(`layer entry "${entry}": a whiteout of "${name}" is not valid`);
    if (this.layerPaths.has([...dirParts, name].join('/'))) return;
    const target = `${parent}/${name}`;
    const st = lstatOrUndefined(target);
    if (st) this.removePath(target, st);
  }

  /** Closes a file left open by a failure (an open file keeps a dataset busy). */
  abort(): void {
    if (this.openFd !== undefined) {
      try {
        closeSync(this.openFd);
      } catch {
        // already closed
      }
      this.openFd = undefined;
    }
  }

  /** Sets directory times last, deepest first (setting a child's would not change its parent's). */
  finish(): void {
    const dirs = [...this.dirTimes.entries()].sort((a, b) => b[0].length - a[0].length);
    for (const [path, mtime] of dirs) utimesSync(path, mtime, mtime);
  }
}
