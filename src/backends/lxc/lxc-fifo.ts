// The FIFOs through which berth-lxc-init reports to the lxc backend (rt/report at create, one per
// exec --detach): made for any uid, read to end-of-file, and a reader released when nobody writes.
import { chmodSync, closeSync, constants as fsConstants, openSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { runTool } from '../../core/exec.js';

/** Makes a FIFO anyone can open (the init may run as any uid); the error names the command's reason. */
export async function mkfifo(path: string, fail: (why: string) => Error): Promise<void> {
  const r = await runTool(['mkfifo', '-m', '0666', path]);
  if (r.exitCode !== 0) throw fail(`mkfifo ${path}: ${r.stderr.trim()}`);
  chmodSync(path, 0o666); // mkfifo's mode is cut by the umask
}

/** Everything written to the FIFO until its last writer closes, trimmed ("ok", "error: …"). */
export async function readFifo(fifo: string): Promise<string> {
  const fh = await openAsync(fifo, 'r');
  try {
    return (await fh.readFile('utf8')).trim();
  } finally {
    await fh.close();
  }
}

/** Unblocks a reader waiting in open() on a FIFO nobody will write to. */
export function releaseReader(fifo: string): void {
  try {
    closeSync(openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW));
  } catch {
    // no reader waiting
  }
}
