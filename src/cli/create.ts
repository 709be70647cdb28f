import { UsageError } from '../core/errors.js';
import { createContainer, type CreateOptions } from '../runtime/container-create.js';
import type { ImageRequest } from '../runtime/image-bundle.js';
import { parsePullPolicy } from '../runtime/image-pull-policy.js';
import { containerId, countOption, flag, openRuntime, stringOption, type VerbContext } from './context.js';
import { parseSize } from './units.js';

/** Options that shape a container made from an image; with a bundle, its config.json decides. */
const IMAGE_ONLY = ['platform', 'pull', 'env', 'cwd', 'user', 'hostname', 'memory', 'cpus', 'tty'];

function imageRequest(ctx: VerbContext, ref: string, args: string[]): ImageRequest {
  if (stringOption(ctx, 'bundle') !== undefined) throw new UsageError('--image and --bundle exclude each other: a container comes from one or the other');
  const memory = stringOption(ctx, 'memory');
  const cpus = stringOption(ctx, 'cpus');
  if (cpus !== undefined && !/^\d+(\.\d+)?$/.test(cpus)) throw new UsageError(`--cpus takes a number such as 1 or 0.5, got "${cpus}"`);
  return {
    ref,
    platform: stringOption(ctx, 'platform'),
    pull: parsePullPolicy(stringOption(ctx, 'pull')),
    overrides: {
      args,
      env: (ctx.options.env as string[] | undefined) ?? [],
      cwd: stringOption(ctx, 'cwd'),
      user: stringOption(ctx, 'user'),
      hostname: stringOption(ctx, 'hostname'),
      memory: memory === undefined ? undefined : parseSize(memory, 'memory'),
      cpus: cpus === undefined ? undefined : Number(cpus),
      tty: flag(ctx, 'tty'),
    },
  };
}

export async function createOptions(ctx: VerbContext): Promise<CreateOptions> {
  const ref = stringOption(ctx, 'image');
  if (ref === undefined) {
    const stray = IMAGE_ONLY.find((name) => ctx.options[name] !== undefined);
    if (stray) throw new UsageError(`--${stray} is only for containers made from an image (with --image); a bundle's config.json says it`);
  }
  const id = containerId(ctx, ref === undefined ? 0 : Number.MAX_SAFE_INTEGER);
  return {
    id,
    bundle: stringOption(ctx, 'bundle') ?? '.',
    image: ref === undefined ? undefined : imageRequest(ctx, ref, ctx.operands.slice(1)),
    pidFile: stringOption(ctx, 'pid-file'),
    consoleSocket: stringOption(ctx, 'console-socket'),
    noPivot: flag(ctx, 'no-pivot'),
    noNewKeyring: flag(ctx, 'no-new-keyring'),
    preserveFds: countOption(ctx, 'preserve-fds'),
  };
}

export default async function create(ctx: VerbContext): Promise<void> {
  const opts = await createOptions(ctx);
  await createContainer(await openRuntime(ctx), opts);
}
