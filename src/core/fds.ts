// --preserve-fds N hands descriptors 3 … 3+N-1 of berth's own process to the container. Each
// must be open in berth, or spawning the backend fails with a bare "spawn EBADF".
import { fstatSync } from 'node:fs';
import { InvalidArgumentError, errnoCode } from './errors.js';

/** Throws naming the first descriptor of 3 … 2+count that is not open. */
export function assertFdsOpen(count: number, flag = '--preserve-fds'): void {
  for (let fd = 3; fd < 3 + count; fd++) {
    try {
      fstatSync(fd);
    } catch (err) {
      if (errnoCode(err) !== 'EBADF') throw err;
      const open = fd === 3 ? 'none is open after stdio' : `3 … ${fd - 1} are open`;
      throw new InvalidArgumentError(
        `${flag} ${count} asks for descriptors 3 … ${2 + count}, but descriptor ${fd} is not open in berth (${open}); pass only as many descriptors as berth was given after stdio`,
        { cause: err },
      );
    }
  }
}
