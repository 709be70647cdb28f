import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { defaultRuntimeConfig } from '../core/oci/default-spec.js';
import { noOperands, stringOption, type VerbContext } from './context.js';

export default async function spec(ctx: VerbContext): Promise<void> {
  noOperands(ctx);
  const dir = resolve(stringOption(ctx, 'bundle') ?? '.');
  if (!existsSync(dir)) throw new InvalidArgumentError(`bundle directory ${dir} does not exist`);
  const path = join(dir, 'config.json');
  try {
    writeFileSync(path, JSON.stringify(defaultRuntimeConfig(), null, 2) + '\n', { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new InvalidArgumentError(`${path} already exists; remove it first`);
    throw err;
  }
}
