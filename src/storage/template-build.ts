// Making a template in one step: create, fill (the caller writes the files), seal. Whatever
// fails, nothing is left: the half-made template is destroyed before the error surfaces.
import { BerthError, errnoCode, StorageError, StorageFullError } from '../core/errors.js';
import { errorFields, log } from '../core/log.js';
import { Revert } from '../core/revert.js';
import type { StorageDriver } from './driver.js';

export async function buildTemplate(
  driver: StorageDriver,
  name: string,
  properties: Record<string, string>,
  fill: (path: string) => Promise<void>,
): Promise<string> {
  const path = await driver.createTemplate(name, properties);
  const revert = new Revert();
  revert.add(`destroy template ${name}`, () => driver.destroy('image', name));
  try {
    await fill(path);
    await driver.sealTemplate(name);
    revert.commit();
    return path;
  } catch (err) {
    for (const f of await revert.run()) {
      await log('warn', `cleanup after a failed template build: ${f.what} failed`, { op: 'template-build', ...errorFields(f.error) });
    }
    if (err instanceof BerthError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    if (errnoCode(err) === 'ENOSPC' || errnoCode(err) === 'EDQUOT') {
      throw new StorageFullError(`cannot fill template "${name}": no space left in ${driver.location} (${msg})`, { cause: err });
    }
    throw new StorageError(`cannot fill template "${name}" in ${driver.location}: ${msg}`, { cause: err });
  }
}
