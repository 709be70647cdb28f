// `containerd-shim-berth-v2 delete`: what containerd runs after a shim (here: the engine) went
// away, or after a start that failed. It removes the container by force through the runtime,
// takes the rootfs down and prints a DeleteResponse (binary protobuf on stdout): the container
// was killed, so 128 + SIGKILL, as containerd's own shims report it. containerd also runs it
// after every task's normal end (when its connection closes) and waits for it: a task whose
// record is gone already is answered without loading the runtime.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDeleteResponse } from './delete-response.js';
import type { ShimArgs } from './args.js';
import { shimPaths } from './paths.js';
import { unmountRootfs } from './rootfs.js';
import { berthStateDir } from '../core/state-root.js';

export const KILLED_STATUS = 128 + 9;

export async function deleteAction(args: ShimArgs, io: { stdoutBytes: (b: Uint8Array) => void; env: NodeJS.ProcessEnv }): Promise<number> {
  const paths = shimPaths(args.address, args.namespace, io.env);
  let pid = 0;
  if (existsSync(join(berthStateDir(paths.root), 'containers', args.id))) {
    const { shimRuntime } = await import('./runtime-for.js');
    const runtime = shimRuntime(paths.root, args.debug, 'one-shot', io.env);
    try {
      pid = runtime.store.read(args.id)?.pid ?? 0;
    } catch {
      // an unreadable record: delete --force removes it all the same
    }
    await runtime.delete(args.id, true);
    await unmountRootfs(args.bundle || process.cwd());
  }
  io.stdoutBytes(encodeDeleteResponse(pid, KILLED_STATUS, new Date()));
  return 0;
}
