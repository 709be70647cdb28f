// Storage driver names → lazy factories: a driver's code is loaded only when it is used.
import type { StorageConfig } from '../core/config.js';
import { DATASET_NAME, DEFAULT_STORAGE_DIR } from '../core/config-schema.js';
import { InvalidConfigError } from '../core/errors.js';
import type { StorageDriver, StorageLocation } from './driver.js';

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

/**
 * The storage a container record names ({driver, location}), whatever today's config says: a
 * delete destroys the volume where it was made. The recorded values are checked as a config's.
 */
export async function openStorageAt(where: StorageLocation): Promise<StorageDriver> {
  const bad = (why: string): never => {
    throw new InvalidConfigError(`recorded storage ${JSON.stringify(where)} is not usable: ${why}`);
  };
  if (where.driver === 'zfs') {
    if (!DATASET_NAME.test(where.location) || where.location.split('/').some((c) => c === '.' || c === '..')) bad('not a ZFS dataset name');
    return openStorage({ driver: 'zfs', dataset: where.location, dir: DEFAULT_STORAGE_DIR });
  }
  if (where.driver === 'dir') {
    if (!where.location.startsWith('/') || where.location.split('/').includes('..')) bad('not an absolute directory');
    return openStorage({ driver: 'dir', dir: where.location });
  }
  return bad(`unknown storage driver (known drivers: ${STORAGE_DRIVER_NAMES.join(', ')})`);
}
