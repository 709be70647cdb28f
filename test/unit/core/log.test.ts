// berth's log lines: runc's keys, the operation's context, an error's whole cause chain, the
// level's sources in order, and no secret in any field or message (checked on the written file).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BackendError, ToolError } from '../../../src/core/errors.js';
import { applyConfigLogLevel, configureLog, errorFields, levelFrom, log, withLogContext, type LogSettings } from '../../../src/core/log.js';
import { redactText, redactValue } from '../../../src/core/redact.js';
import { tempDir } from '../../helpers/bundle.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const SECRET = 's3cr3t-4f1a9c7e-value';

function logTo(file: string, over: Partial<LogSettings> = {}): void {
  configureLog({ file, format: 'json', level: 'info', levelSource: 'default', ...over });
}

function lines(file: string): Record<string, any>[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
}

test('a line has level (label), msg, time (RFC 3339), the operation context and the whole cause chain', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const file = join(tmp.path, 'log.json');
  logTo(file);
  const tool = new ToolError('crun exit 1: executable file `nosuch` not found', { exitCode: 1, stderr: 'executable file `nosuch` not found\n', argv: ['crun', 'create', 'c1'] });
  const err = new BackendError('crun create of container "c1" failed', { cause: tool });
  const subject = { backend: undefined as string | undefined };
  await withLogContext(() => ({ op: 'create', id: 'c1', backend: subject.backend, vmid: undefined }), async () => {
    subject.backend = 'crun-cli'; // learned during the operation: read when the line is written
    await log('error', err.message, errorFields(err));
  });
  const [line] = lines(file);
  assert.equal(line!.level, 'error');
  assert.equal(line!.msg, 'crun create of container "c1" failed');
  assert.match(line!.time, RFC3339);
  assert.equal(line!.op, 'create');
  assert.equal(line!.id, 'c1');
  assert.equal(line!.backend, 'crun-cli');
  assert.ok(!('vmid' in line!), 'unknown context fields are left out');
  assert.ok(!('trace_id' in line!), 'no trace without a tracer');
  assert.deepEqual(line!.err, {
    type: 'BackendError',
    code: 'BERTH_ERR_BACKEND',
    message: 'crun create of container "c1" failed',
    causes: [{ type: 'ToolError', code: 'BERTH_ERR_TOOL', message: tool.message, argv: ['crun', 'create', 'c1'], exit_code: 1, stderr: 'executable file `nosuch` not found\n' }],
  });
});

test('errorFields: plain errors, errno codes, string causes, cycles', () => {
  const inner = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  const outer = new Error('outer', { cause: inner });
  assert.deepEqual(errorFields(outer).err, { type: 'Error', message: 'outer', causes: [{ type: 'Error', message: 'ENOENT: no such file', code: 'ENOENT' }] });
  assert.deepEqual(errorFields(new Error('a', { cause: 'why' })).err.causes, [{ type: 'string', message: 'why' }]);
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  (a as { cause?: unknown }).cause = b;
  assert.equal(errorFields(b).err.causes.length, 1, 'a cycle ends the chain');
});

test('levels: --debug, then BERTH_LOG_LEVEL, then the config file; a bad BERTH_LOG_LEVEL is an error', async (t) => {
  assert.deepEqual(levelFrom(true, { BERTH_LOG_LEVEL: 'error' }), { level: 'debug', levelSource: 'flag' });
  assert.deepEqual(levelFrom(false, { BERTH_LOG_LEVEL: 'WARN' }), { level: 'warn', levelSource: 'env' });
  assert.deepEqual(levelFrom(false, {}), { level: 'info', levelSource: 'default' });
  assert.throws(() => levelFrom(false, { BERTH_LOG_LEVEL: 'verbose' }), (e: any) => e.code === 'BERTH_ERR_INVALID_ARGUMENT' && /BERTH_LOG_LEVEL must be one of debug, info, warn, error, got "verbose"/.test(e.message));

  const tmp = tempDir();
  t.after(tmp.remove);
  const file = join(tmp.path, 'log.json');
  // The config's level applies when neither the flag nor the environment set one ...
  logTo(file, levelFrom(false, {}));
  applyConfigLogLevel('debug');
  await log('debug', 'config says debug');
  // ... and not over the environment.
  logTo(file, levelFrom(false, { BERTH_LOG_LEVEL: 'error' }));
  applyConfigLogLevel('debug');
  await log('debug', 'hidden');
  await log('warn', 'hidden too');
  await log('error', 'shown');
  assert.deepEqual(lines(file).map((l) => [l.level, l.msg]), [['debug', 'config says debug'], ['error', 'shown']]);
});

test('secrets never reach the log: fields at any depth, messages, argv and stderr of failed tools', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const file = join(tmp.path, 'log.json');
  logTo(file, { level: 'debug', levelSource: 'flag' });
  const header = `PVEAPIToken=root@pam!berth=${SECRET}`;
  await log('info', `calling the API with Authorization: ${header}`, {
    request: { headers: { Authorization: header, 'X-Other': 'fine' }, body: { password: SECRET, nested: [{ token: SECRET }, { client_secret: SECRET }] } },
    api_token: SECRET,
    url: `https://root:${SECRET}@pve.example:8006/api2/json`,
    note: `token=${SECRET} and Bearer ${SECRET}`,
  });
  const tool = new ToolError(`curl exit 22: 401 for PVEAPIToken=root@pam!berth=${SECRET}`, {
    exitCode: 22,
    stderr: `< HTTP/1.1 401\n> Authorization: PVEAPIToken=root@pam!berth=${SECRET}\n`,
    argv: ['curl', '-H', `Authorization: PVEAPIToken=root@pam!berth=${SECRET}`, `--password=${SECRET}`, 'https://pve.example:8006/api2/json/version'],
  });
  await log('error', tool.message, errorFields(new BackendError(`create failed: ${tool.message}`, { cause: tool })));
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes(SECRET), `a secret reached the log:\n${text}`);
  const [first, second] = lines(file);
  // What is not secret is still there, so the line stays useful.
  assert.equal(first!.request.headers['X-Other'], 'fine');
  assert.equal(first!.request.headers.Authorization, '[redacted]');
  assert.match(first!.msg, /PVEAPIToken=\[redacted\]/);
  assert.equal(second!.err.causes[0].argv[4], 'https://pve.example:8006/api2/json/version');
  assert.equal(second!.err.causes[0].exit_code, 22);
});

test('redactText and redactValue leave ordinary text alone', () => {
  for (const s of ['container "web" already exists', 'crun create --bundle=/tmp/b --pid-file=/tmp/p c1', 'tokens: 3', 'memory.max=128M']) {
    assert.equal(redactText(s), s);
  }
  assert.deepEqual(redactValue({ op: 'create', n: 3, ok: true, list: ['a'], none: null }), { op: 'create', n: 3, ok: true, list: ['a'], none: null });
});
