import { ContainerNotFoundError } from '../core/errors.js';
import { containerId, flag, openRuntime, type VerbContext } from './context.js';

export default async function del(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  const force = flag(ctx, 'force');
  try {
    await (await openRuntime(ctx)).delete(id, force);
  } catch (err) {
    // As runc and crun: `delete --force` of an unknown container succeeds. containerd's shim
    // runs it after every task's delete (shim cleanup) and logs a warning otherwise.
    if (force && err instanceof ContainerNotFoundError) return;
    throw err;
  }
}
