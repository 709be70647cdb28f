// A failed call's last words (stderr and the final error log line) never carry a secret, and the
// log line keeps the context of the operation the error came from.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportFailure } from '../../../src/cli/exit.js';
import { BackendError, ToolError } from '../../../src/core/errors.js';
import { configureLog, noteErrorContext } from '../../../src/core/log.js';
import { tempDir } from '../../helpers/bundle.js';

const SECRET = '0d4c1f2e-9b7a-4c55-8e21-secret';

test('reportFailure: the message on stderr and the error line are redacted; the operation context is kept', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const logFile = join(tmp.path, 'log.json');
  configureLog({ file: logFile, format: 'json', level: 'info', levelSource: 'default' });
  const cause = new ToolError(`pct exit 255: 401 authentication failure (Authorization: PVEAPIToken=root@pam!ci=${SECRET})`, {
    exitCode: 255,
    stderr: `token=${SECRET}\n`,
    argv: ['curl', '-H', `Authorization: PVEAPIToken=root@pam!ci=${SECRET}`, 'https://pve:8006/api2/json/nodes'],
  });
  const err = new BackendError(`proxmox create of container "web" failed: PVEAPIToken=root@pam!ci=${SECRET} was refused`, { cause });
  noteErrorContext(err, { op: 'create', id: 'web', backend: 'pve' });
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await reportFailure(err, { op: 'create', id: 'web' }, { log: logFile, logFormat: 'json', debug: false });
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 1);
  assert.equal(stderr, 'berth: proxmox create of container "web" failed: PVEAPIToken=[redacted] was refused\n');
  const text = readFileSync(logFile, 'utf8');
  assert.ok(!text.includes(SECRET), text);
  const line = JSON.parse(text.trim().split('\n').at(-1)!) as Record<string, any>;
  assert.equal(line.level, 'error');
  assert.equal(line.backend, 'pve', 'the operation\'s context is on the last line');
  assert.equal(line.err.causes[0].argv[3], 'https://pve:8006/api2/json/nodes');
});
