// Container ids become directory names and backend arguments: reject anything that could
// escape berth's root or confuse a tool.
import { InvalidIdError } from './errors.js';

/** An id names directories (<root>/containers/<id>, the backends' state): NAME_MAX is 255 bytes. */
export const MAX_ID_BYTES = 255;

export function validateContainerId(id: string | undefined): string {
  if (id === undefined || id === '') throw new InvalidIdError('container id must not be empty');
  if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) {
    throw new InvalidIdError(`container id is ${Buffer.byteLength(id, 'utf8')} bytes long; the limit is ${MAX_ID_BYTES} (an id names directories, and a directory name is at most ${MAX_ID_BYTES} bytes)`);
  }
  if (id.includes('/')) throw new InvalidIdError(`container id ${quote(id)} must not contain "/"`);
  if (id === '.' || id.includes('..')) throw new InvalidIdError(`container id ${quote(id)} must not contain ".."`);
  if (id.startsWith('.') || id.startsWith('-')) {
    throw new InvalidIdError(`container id ${quote(id)} must not start with "${id[0]}"`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/u.test(id)) {
    throw new InvalidIdError(`container id ${quote(id)} must not contain whitespace or control characters`);
  }
  return id;
}

/** The id in double quotes, control characters escaped, so an error message stays one line. */
function quote(id: string): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(id).replace(/[\x7f-\x9f]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
