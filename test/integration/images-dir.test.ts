// The image cache over the dir storage driver (a real directory in a temp dir).
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { DirDriver } from '../../src/storage/dir/dir-driver.js';
import { tempDir } from '../helpers/bundle.js';
import { imageCacheSuite } from '../helpers/image-suite.js';

const tmp = tempDir('berth-images-dir-');
after(() => tmp.remove());
const dir = join(tmp.path, 'storage');
const driver = new DirDriver({ dir });
const entries = (d: string): string[] => (existsSync(d) ? readdirSync(d) : []);

imageCacheSuite('dir', () => ({
  storage: { driver: 'dir', dir },
  driver,
  stateDir: join(tmp.path, 'state'),
  xattrs: true,
  leftovers: async () => [...entries(join(dir, 'images')).map((n) => `images/${n}`), ...entries(join(dir, 'containers')).map((n) => `containers/${n}`)],
  unmount: async (kind, name) => {
    const fs = join(driver.volumeDir(kind, name), 'fs');
    renameSync(fs, `${fs}.away`);
    return async () => renameSync(`${fs}.away`, fs);
  },
}));
