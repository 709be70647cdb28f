// The storage a CLI test's config.toml names, on each real driver: a directory in the test's
// temp dir, or a dataset on a 1 GB pool of a zfs-fuse daemon the test starts (and stops by its
// PID, even when the pool will not go).
import { join } from 'node:path';
import type { StorageConfig } from '../../src/core/config.js';
import { missing } from './host.js';
import { createTestPool, startZfs, zfsSkipReason } from './zfs.js';

export interface CliStorage {
  /** The `[storage]` table's lines for config.toml (without state_dir). */
  toml: string;
  storage: StorageConfig;
  /** The dir driver's directory, to look into; undefined on zfs. */
  storageDir: string | undefined;
  cleanup(): Promise<void>;
}

export interface CliStorageKind {
  name: 'dir' | 'zfs-fuse';
  /** Why this kind cannot run here, or undefined. */
  skip: string | undefined;
  make(dir: string): Promise<CliStorage>;
}

export const CLI_STORAGE_KINDS: readonly CliStorageKind[] = [
  {
    name: 'dir',
    skip: missing('busybox', 'crun'),
    make: async (dir) => {
      const storageDir = join(dir, 'storage');
      return { toml: `driver = "dir"\ndir = "${storageDir}"`, storage: { driver: 'dir', dir: storageDir } as StorageConfig, storageDir, cleanup: async () => undefined };
    },
  },
  {
    name: 'zfs-fuse',
    skip: zfsSkipReason() ?? missing('busybox', 'crun'),
    make: async () => {
      const daemon = await startZfs();
      try {
        const pool = await createTestPool(daemon.cli, '1G');
        const dataset = `${pool.name}/berth`;
        await daemon.cli.create(dataset);
        return {
          toml: `driver = "zfs"\ndataset = "${dataset}"`,
          storage: { driver: 'zfs', dataset } as StorageConfig,
          storageDir: undefined,
          cleanup: async () => {
            try {
              await pool.destroy();
            } finally {
              await daemon.stop(); // never leave a daemon this test started
            }
          },
        };
      } catch (err) {
        await daemon.stop();
        throw err;
      }
    },
  },
];
