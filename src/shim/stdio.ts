// A task's stdio from containerd's FIFO paths, as fds for the container's init. The container
// gets the FIFOs themselves (no copying through the engine), opened so that nothing blocks:
// - stdout and stderr O_RDWR: the open never waits for a reader, and a write never fails with
//   EPIPE when containerd's reader is gone (the fd is a reader itself). containerd's reader
//   sees EOF once the container's processes have all exited.
// - stdin O_RDONLY|O_NONBLOCK (no wait for containerd's writer), then made blocking, so the
//   container reads it as a plain stdin and sees EOF when containerd closes its end.
// An empty path (or no FIFO at all) is /dev/null. Only plain FIFO paths are taken in this slice:
// `binary://` and `file://` log URIs are refused with a clear error.
import { closeSync, constants, openSync } from 'node:fs';
import type { ContainerStdio } from '../backends/backend.js';
import { UnsupportedError } from '../core/errors.js';
import { setBlocking } from './libc.js';

export interface StdioPaths {
  stdin: string;
  stdout: string;
  stderr: string;
}

export interface OpenStdio {
  fds: ContainerStdio;
  /** Closes the engine's copies once the backend handed them on. */
  close(): void;
}

function assertPlainPath(path: string, which: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) throw new UnsupportedError(`${which} "${path}": the berth shim takes FIFO paths only so far, not log URIs`);
}

export function openStdio(paths: StdioPaths): OpenStdio {
  const opened: number[] = [];
  const open = (path: string, flags: number): number => {
    const fd = openSync(path, flags);
    opened.push(fd);
    return fd;
  };
  const close = (): void => {
    for (const fd of opened.splice(0)) closeSync(fd);
  };
  try {
    for (const [which, path] of Object.entries(paths)) if (path) assertPlainPath(path, which);
    let stdin: number;
    if (paths.stdin) {
      stdin = open(paths.stdin, constants.O_RDONLY | constants.O_NONBLOCK);
      setBlocking(stdin);
    } else stdin = open('/dev/null', constants.O_RDONLY);
    const stdout = open(paths.stdout || '/dev/null', paths.stdout ? constants.O_RDWR : constants.O_WRONLY);
    const stderr = open(paths.stderr || '/dev/null', paths.stderr ? constants.O_RDWR : constants.O_WRONLY);
    return { fds: { stdin, stdout, stderr }, close };
  } catch (err) {
    close();
    throw err;
  }
}
