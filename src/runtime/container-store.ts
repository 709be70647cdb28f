// Container records on disk: <root>/containers/<id>/record.json, one per container, replaced
// atomically. The record holds facts (backend, bundle, pid and its start time, lifecycle
// marks); the status is derived from them when read.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAtomicTempName, writeFileAtomic } from '../core/atomic-file.js';
import { BusyError, CorruptRecordError, errnoCode } from '../core/errors.js';
import { log } from '../core/log.js';
import { LOCK_TIMEOUT_MS, lockDirectory, type Lock } from '../core/lock.js';
import { holderFile } from '../core/lock-holder.js';
import { checkRecord } from './record-check.js';
import type { StorageLocation } from '../storage/driver.js';

/**
 * The image a container was made from and the storage volume that is its rootfs. Version 2
 * records name where the volume is (storage, volume, root id), so delete needs no config;
 * version 1 (0.8.0) named at most the volume, by the id alone, in the config's storage.
 */
export interface ContainerImage {
  /** What the image was asked for by (a ref), if it has one. */
  ref: string | undefined;
  digest: string;
  /** The container's storage volume; absent when the backend keeps the rootfs itself (ownsRootfs). */
  volume?: string;
  /** Version 2, with `volume`: the storage that holds it (driver and dataset or directory). */
  storage?: StorageLocation;
  /** Version 2, with `volume`: the state root id the volume carries as berth:root-id. */
  rootId?: string;
}

/** 2 since records name their volume's storage; 1 was 0.8.0's. Readers take both. */
export const RECORD_VERSION = 2;

export interface ContainerRecord {
  version: 1 | 2;
  id: string;
  backend: string;
  /** Why the router chose this backend, e.g. "--runtime flag" or "route id_glob web-*". */
  backendReason: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** Host pid of the container's init, once the backend created it. */
  pid?: number;
  /** Start time of that pid (clock ticks since boot), so a reused pid is not mistaken for it. */
  pidStartTime?: number;
  started?: boolean;
  /**
   * The identity (dev:ino) of the program the init ran when the backend had created it (the
   * runtime's own, waiting to exec the container's process). An init that runs another program
   * has been started, whatever `started` says (runtime/status.ts).
   */
  initExe?: string;
  paused?: boolean;
  /** Set for a container made from an image: its volume goes when the container goes. */
  image?: ContainerImage;
  /**
   * linux.cgroupsPath the backend was given: berth's choice (runtime/cgroup-path.ts) unless the
   * bundle set its own. Absent in records older than 0.9 and for remote backends.
   */
  cgroupsPath?: string;
  /** Where the backend writes the init's pid (absent for remote backends and in older records). */
  pidFile?: string;
  /** The backend owns the status (ownsStatus): it is asked, there is no pid to watch. */
  remote?: boolean;
}

/**
 * How long `delete --force` waits for a verb that holds the container's lock before it ends
 * that verb (its berth process and every process below it: a hung hook, a stuck backend call).
 */
export const FORCE_TAKEOVER_MS = 5_000;

/** What may be left in a container's directory without its record: nothing of value. */
const HOLLOW_LEFTOVERS: ReadonlySet<string> = new Set(['backend-config.json', 'init.pid']);

export class ContainerStore {
  readonly containersDir: string;

  constructor(readonly root: string) {
    this.containersDir = join(root, 'containers');
  }

  dir(id: string): string {
    return join(this.containersDir, id);
  }

  private recordPath(id: string): string {
    return join(this.dir(id), 'record.json');
  }

  read(id: string): ContainerRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.recordPath(id), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new CorruptRecordError(id, this.recordPath(id), `it is not JSON (${text.length} bytes; torn by a crash?)`, { cause: err });
    }
    return checkRecord(value, id, this.recordPath(id));
  }

  /**
   * Every record, and apart the ones that cannot be read as records (reported, never fatal to a
   * listing) and the ids whose directory holds no record at all (see removeHollow).
   */
  readAll(): { records: ContainerRecord[]; unreadable: CorruptRecordError[]; recordless: string[] } {
    const records: ContainerRecord[] = [];
    const unreadable: CorruptRecordError[] = [];
    const recordless: string[] = [];
    for (const id of this.ids()) {
      try {
        const r = this.read(id);
        if (r) records.push(r);
        else recordless.push(id);
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        unreadable.push(err);
      }
    }
    return { records, unreadable, recordless };
  }

  /** The directory holds no record and nothing else of value (what a killed create or delete left). */
  isHollow(id: string): boolean {
    let names: string[];
    try {
      names = readdirSync(this.dir(id));
    } catch {
      return false;
    }
    return !names.includes('record.json') && names.every((n) => isAtomicTempName(n) || HOLLOW_LEFTOVERS.has(n));
  }

  /**
   * Removes the container's directory if it is hollow: no record, and nothing in it but what a
   * create or delete killed midway leaves (temp files, the backend config, the pid file). Such
   * directories named no container and piled up (0.8.0). Call with the lock held; never fails
   * (a read-only root keeps them). True when it was removed.
   */
  removeIfHollow(id: string): boolean {
    if (!this.isHollow(id)) return false;
    try {
      this.remove(id);
      return true;
    } catch {
      return false;
    }
  }

  /** removeIfHollow for a directory another process may be creating in: only when its lock is free. */
  async sweepHollow(id: string): Promise<boolean> {
    let lock: Lock | undefined;
    try {
      lock = await lockDirectory(this.dir(id), { what: `container "${id}"`, timeoutMs: 0 });
    } catch {
      return false; // a create is filling it in right now
    }
    if (!lock) return false;
    try {
      return this.read(id) === undefined && this.removeIfHollow(id);
    } catch {
      return false;
    } finally {
      lock.release();
    }
  }

  write(record: ContainerRecord): void {
    writeFileAtomic(this.recordPath(record.id), JSON.stringify(record, null, 2) + '\n', 0o600);
  }

  ids(): string[] {
    try {
      return readdirSync(this.containersDir).filter((name) => !name.startsWith('.')).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Locks an existing container's directory; undefined when there is no such container. The
   * wait is bounded (`timeoutMs`, default core/lock.ts's); a BusyError names the holder.
   */
  lock(id: string, timeoutMs?: number): Promise<Lock | undefined> {
    return lockDirectory(this.dir(id), {
      what: `container "${id}"`,
      timeoutMs,
      wayOut: `\`berth delete --force ${id}\` ends it after ${FORCE_TAKEOVER_MS / 1000} s and removes the container`,
    });
  }

  /**
   * Makes the container's directory (if needed) and locks it. Who made the directory does not
   * matter: whoever holds the lock decides, from the record, whether the container exists.
   */
  async lockForCreate(id: string): Promise<Lock> {
    mkdirSync(this.containersDir, { recursive: true, mode: 0o700 });
    // One bound for the whole wait, however often the directory is removed under it.
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      mkdirSync(this.dir(id), { recursive: true, mode: 0o700 });
      const lock = await this.lock(id, Math.max(0, deadline - Date.now()));
      if (lock) return lock;
      // Removed between mkdir and lock by a failed create or a delete: try again.
    }
  }

  /** Removes the container's directory and everything in it (call with its lock held). */
  /**
   * delete --force's lock: after FORCE_TAKEOVER_MS, the berth process that holds it (a verb
   * stuck in a hook or a backend call that never returns) is ended with everything below it,
   * and the lock is taken (the kernel drops a dead holder's flock). A holder that is not berth
   * is never killed: the BusyError names it.
   */
  async lockTakingOver(id: string): Promise<Lock | undefined> {
    try {
      return await this.lock(id, FORCE_TAKEOVER_MS);
    } catch (err) {
      const holder = err instanceof BusyError ? err.holder : undefined;
      if (!holder || !/berth/.test(holder.command)) throw err;
      const { killProcessTree } = await import('../core/proc.js');
      const killed = await killProcessTree(holder.pid, holder.startTime);
      await log('warn', `delete --force: ended pid ${holder.pid} (\`${holder.command}\`), which held container "${id}" for more than ${FORCE_TAKEOVER_MS / 1000} s, and what ran below it (pids ${killed.join(' ')})`, { op: 'delete', id });
      return this.lock(id);
    }
  }

  /** The container's directory, and its lock's holder file beside it (a killed holder leaves it). */
  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
    rmSync(holderFile(this.dir(id)), { force: true });
  }

  removeRecord(id: string): void {
    rmSync(this.recordPath(id), { force: true });
  }

  /** Temp files of writes cut short in the container's directory (call with its lock held, or to look). */
  staleTemps(id: string): string[] {
    try {
      return readdirSync(this.dir(id)).filter(isAtomicTempName);
    } catch {
      return [];
    }
  }

  /** Removes temp files that a killed berth left in the container's directory. */
  removeStaleTemps(id: string): void {
    for (const name of this.staleTemps(id)) rmSync(join(this.dir(id), name), { force: true });
  }
}
