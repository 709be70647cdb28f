// Where crun and runc write their JSON log (--log) for one call: a private directory under the
// system's temp dir, never berth's state root. A read-only root must not stop kill, delete or
// exec of a running container, and a full one must not fail a call for its log; and logs left
// by a killed berth piled up in <root>/crun (0.8.0). Files of berth processes that are gone
// (and 0.8.0's .call-PID-N.log in the state directory) are removed by the next berth that
// calls a runtime.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errnoCode } from '../../core/errors.js';

/** <pid>-<seq>.log (or .json) in the directory; .call-<pid>-<seq>.log in a 0.8.0 state directory. */
const OWN = /^(\d+)-\d+\.(log|json)$/;
const LEGACY = /^\.call-(\d+)-\d+\.log$/;

/** One sequence per process: every backend of the process names its logs from it. */
let seq = 0;

export class CallLogs {
  private dir: string | null | undefined;

  /** `legacyDirs`: state directories where 0.8.0 wrote its call logs, swept of dead ones too. */
  constructor(private readonly legacyDirs: readonly string[] = []) {}

  /**
   * A fresh path for one call's log (or, with `.json`, a file handed to the runtime); undefined
   * when no private directory can be made (the call then runs without --log).
   */
  next(suffix: '.log' | '.json' = '.log'): string | undefined {
    const dir = this.directory();
    return dir === null ? undefined : join(dir, `${process.pid}-${seq++}${suffix}`);
  }

  private directory(): string | null {
    if (this.dir !== undefined) return this.dir;
    this.dir = privateDir();
    if (this.dir !== null) sweep(this.dir, OWN);
    for (const d of this.legacyDirs) sweep(d, LEGACY);
    return this.dir;
  }
}

/**
 * <tmpdir>/berth-calls-<uid>, mode 0700, owned by this user: a runtime running as root opens
 * the log path, so nobody else may plant a name there. If that directory is not safely ours,
 * one of this process's own (mkdtemp, removed at exit).
 */
function privateDir(): string | null {
  const uid = process.getuid?.() ?? 0;
  const shared = join(tmpdir(), `berth-calls-${uid}`);
  try {
    mkdirSync(shared, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') return ownDir();
  }
  try {
    const st = lstatSync(shared);
    if (st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0) return shared;
  } catch {
    // fall through
  }
  return ownDir();
}

function ownDir(): string | null {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'berth-calls-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  } catch {
    return null;
  }
}

/** Removes the logs of berth processes that no longer run; never fails (a read-only directory keeps them). */
function sweep(dir: string, pattern: RegExp): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = pattern.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
    try {
      rmSync(join(dir, name), { force: true });
    } catch {
      // read-only or gone: the next sweep tries again
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}
