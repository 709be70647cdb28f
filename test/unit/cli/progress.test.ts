import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressLine, whileSlow } from '../../../src/cli/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { out: string } {
  const s = { isTTY, columns: 60, out: '', write(chunk: string) {
    s.out += chunk;
    return true;
  } };
  return s as unknown as NodeJS.WriteStream & { out: string };
}
const text = { globals: { logFormat: 'text' as const } } as Parameters<typeof progressLine>[0];
const json = { globals: { logFormat: 'json' as const } } as Parameters<typeof progressLine>[0];

test('a progress line only on a terminal with a text log; cut to the width; cleared', () => {
  assert.equal(progressLine(text, fakeStream(false)), undefined, 'piped: none');
  assert.equal(progressLine(json, fakeStream(true)), undefined, 'a JSON log: none');
  const s = fakeStream(true);
  const line = progressLine(text, s)!;
  line.update('x'.repeat(100), true);
  assert.equal(s.out, `\r\x1b[K${'x'.repeat(58)}…`);
  line.clear();
  assert.ok(s.out.endsWith('\r\x1b[K'));
});

test('whileSlow: nothing for quick work; the seconds for slow work, then cleared', async () => {
  const quick = fakeStream(true);
  assert.equal(await whileSlow(text, 'deleting c1', async () => 7, { stream: quick, afterMs: 200 }), 7);
  assert.equal(quick.out, '');
  const slow = fakeStream(true);
  await whileSlow(text, 'deleting c2', () => new Promise((r) => setTimeout(r, 400)), { stream: slow, afterMs: 100 });
  assert.match(slow.out, /^\r\x1b\[Kdeleting c2… 0 s\r\x1b\[K$/);
  const failing = fakeStream(true);
  await assert.rejects(whileSlow(text, 'x', () => Promise.reject(new Error('boom')), { stream: failing, afterMs: 100 }), /boom/);
});
