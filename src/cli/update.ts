import { readFileSync } from 'node:fs';
import { InvalidArgumentError, UsageError } from '../core/errors.js';
import { containerId, openRuntime, stringOption, type VerbContext } from './context.js';

export default async function update(ctx: VerbContext): Promise<void> {
  const id = containerId(ctx);
  const source = stringOption(ctx, 'resources');
  if (source === undefined) throw new UsageError('update needs --resources FILE (or - for stdin)');
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read resources from ${source === '-' ? 'stdin' : source}: ${(err as Error).message}`, { cause: err });
  }
  let resources: unknown;
  try {
    resources = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`resources ${source === '-' ? 'on stdin' : `in ${source}`} are not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}`, { cause: err });
  }
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new InvalidArgumentError('resources must be a JSON object (OCI LinuxResources)');
  }
  await (await openRuntime(ctx)).update(id, JSON.stringify(resources));
}
