// Storage driver names → lazy factories: a driver's code is loaded only when it is used.
import type { StorageConfig } from '../core/config.js';
import { InvalidConfigError } from '../core/errors.js';
import type { StorageDriver } from './driver.js';

type Factory = (config: StorageConfig) => Promise<StorageDriver>;

const factories: Record<StorageConfig['driver'], Factory> = {
  dir: async (c) => new (await import('./dir/dir-driver.js')).DirDriver({ dir: c.dir }),
  zfs: async (c) => {
    if (c.dataset === undefined) throw new InvalidConfigError('[storage] driver = "zfs" needs a dataset (for example dataset = "tank/berth")');
    return new (await import('./zfs/zfs-driver.js')).ZfsDriver({ dataset: c.dataset });
  },
};

export const STORAGE_DRIVER_NAMES: readonly string[] = Object.keys(factories);

/**
 * The driver the [storage] section names, instrumented (storage/instrument.ts: metrics and
 * spans). An unknown name is an error, never a fallback.
 */
export async function openStorage(config: StorageConfig): Promise<StorageDriver> {
  if (!Object.hasOwn(factories, config.driver)) {
    throw new InvalidConfigError(`unknown storage driver "${String(config.driver)}" (known drivers: ${STORAGE_DRIVER_NAMES.join(', ')})`);
  }
  const { instrumentDriver } = await import('./instrument.js');
  return instrumentDriver(await factories[config.driver](config));
}
