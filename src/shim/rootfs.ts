// The task's root filesystem: containerd hands the shim its snapshot as mounts (overlay, bind)
// to make at <bundle>/rootfs, and takes them down itself only after a dead shim. mount(8)
// does the work: the options are containerd's, in mount's own syntax.
import { join } from 'node:path';
import { BackendError } from '../core/errors.js';
import { runTool } from '../core/exec.js';
import type { Mount } from './proto/gen/github.com/containerd/containerd/api/types/mount_pb.js';

export function rootfsOf(bundle: string): string {
  return join(bundle, 'rootfs');
}

export async function mountRootfs(bundle: string, mounts: readonly Mount[]): Promise<void> {
  const target = rootfsOf(bundle);
  for (const m of mounts) {
    const argv = ['mount', '-t', m.type, ...(m.options.length > 0 ? ['-o', m.options.join(',')] : []), m.source, target];
    const r = await runTool(argv);
    if (r.exitCode !== 0) throw new BackendError(`cannot mount the task's rootfs (${m.type} ${m.source}) at ${target}: ${r.stderr.trim() || `mount exited ${r.exitCode}`}`);
  }
}

/** Takes down every mount at <bundle>/rootfs; an unmounted rootfs is no error. */
export async function unmountRootfs(bundle: string): Promise<void> {
  const target = rootfsOf(bundle);
  for (let i = 0; i < 8; i++) {
    const r = await runTool(['umount', target]);
    if (r.exitCode !== 0) return;
  }
}
