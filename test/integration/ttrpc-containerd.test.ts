// berth's ttrpc client against a real Go ttrpc server: containerd 1.6 itself, which listens on
// `<grpc address>.ttrpc` for shims' events (containerd.services.events.ttrpc.v1.Events/Forward).
// `ctr events` is the witness: what it prints went through containerd's ttrpc decoding, its event
// exchange and its gRPC event stream. And containerd's runc shim (containerd-shim-runc-v2, a Go
// ttrpc server of the Task service): berth's client drives a real task through it with the
// generated Task messages. Run under the machine-wide lock:
//   flock /tmp/berth-itest.lock node --test dist/test/integration/ttrpc-containerd.test.js
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { TaskExitSchema } from '../../src/shim/proto/gen/github.com/containerd/containerd/api/events/task_pb.js';
import { Events } from '../../src/shim/proto/gen/github.com/containerd/containerd/api/services/ttrpc/events/v1/events_pb.js';
import { Status as TaskStatus } from '../../src/shim/proto/gen/github.com/containerd/containerd/api/types/task/task_pb.js';
import { Task } from '../../src/shim/proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { TtrpcClient } from '../../src/shim/ttrpc/client.js';
import { Code, TtrpcError } from '../../src/shim/ttrpc/status.js';
import { tempDir } from '../helpers/bundle.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';
import { missing } from '../helpers/host.js';
import { buildBusyboxOciArchive, importImage } from '../helpers/oci-image.js';
import { waitFor } from '../helpers/wait.js';

const skip = missing('containerd', 'ctr');
const skipShim = skip ?? missing('containerd-shim-runc-v2', 'runc', 'tar');
const EVENTS = 'containerd.services.events.ttrpc.v1.Events';

let cd: Containerd;
let events: ChildProcess;
let printed = '';
let client: TtrpcClient;

/** ctr events' lines: `TIMESTAMP NAMESPACE TOPIC JSON` (the timestamp has spaces of its own). */
function eventLines(topic: string): Array<{ namespace: string; event: Record<string, unknown> }> {
  const out: Array<{ namespace: string; event: Record<string, unknown> }> = [];
  for (const line of printed.split('\n')) {
    const m = / (\S+) (\/\S+) (\{.*\})$/.exec(line);
    if (m && m[2] === topic) out.push({ namespace: m[1]!, event: JSON.parse(m[3]!) as Record<string, unknown> });
  }
  return out;
}

function taskExit(containerId: string, pid: number, exitStatus: number): { typeUrl: string; value: Uint8Array } {
  return {
    // containerd's typeurl looks events up by their bare name, not type.googleapis.com/….
    typeUrl: 'containerd.events.TaskExit',
    value: toBinary(TaskExitSchema, create(TaskExitSchema, { containerId, id: containerId, pid, exitStatus, exitedAt: timestampFromDate(new Date()) })),
  };
}

before(async () => {
  if (skip) return;
  cd = await startContainerd({ namespace: 'berth-ttrpc' });
  events = spawn('ctr', ['-a', cd.socket, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
  events.stdout!.setEncoding('utf8').on('data', (d: string) => (printed += d));
  events.stderr!.setEncoding('utf8').on('data', (d: string) => (printed += d));
  // Subscribed once an event containerd publishes itself shows up: create namespaces until one does.
  let n = 0;
  await waitFor('ctr events to subscribe', async () => {
    await cd.ctrOk(['namespaces', 'create', `berth-ttrpc-sync-${++n}`]);
    await new Promise((r) => setTimeout(r, 100));
    return eventLines('/namespaces/create').length > 0 || undefined;
  });
  for (let i = 1; i <= n; i++) await cd.ctr(['namespaces', 'remove', `berth-ttrpc-sync-${i}`]);
  client = await TtrpcClient.connect(`${cd.socket}.ttrpc`);
});

after(async () => {
  client?.close();
  if (events?.pid && events.exitCode === null) {
    events.kill('SIGTERM');
    await new Promise((r) => events.once('exit', r));
  }
  await cd?.stop();
});

test('a TaskExit forwarded over ttrpc reaches containerd and `ctr events` prints it', { skip, timeout: 60_000 }, async () => {
  const id = `berth-ttrpc-${process.pid}`;
  const res = await client.callMethod(
    Events.method.forward,
    { envelope: { timestamp: timestampFromDate(new Date()), namespace: cd.namespace, topic: '/tasks/exit', event: taskExit(id, 4242, 137) } },
    { timeoutMs: 10_000 },
  );
  assert.equal(res.$typeName, 'google.protobuf.Empty');
  const seen = await waitFor('ctr events to print the TaskExit', () => eventLines('/tasks/exit').find((e) => e.event.container_id === id), 10_000);
  assert.equal(seen.namespace, cd.namespace);
  assert.equal(seen.event.exit_status, 137);
  assert.equal(seen.event.pid, 4242);
});

test('concurrent Forwards on one connection are all answered and delivered', { skip, timeout: 60_000 }, async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `berth-ttrpc-many-${i}`);
  await Promise.all(
    ids.map((id, i) =>
      client.callMethod(Events.method.forward, {
        envelope: { timestamp: timestampFromDate(new Date()), namespace: cd.namespace, topic: '/tasks/exit', event: taskExit(id, 1000 + i, i) },
      }),
    ),
  );
  await waitFor('ctr events to print all 12', () => ids.every((id) => eventLines('/tasks/exit').some((e) => e.event.container_id === id)) || undefined, 10_000);
  // ctr prints the event as Go's JSON, which omits a zero exit_status (omitempty).
  for (const [i, id] of ids.entries()) assert.equal(eventLines('/tasks/exit').find((e) => e.event.container_id === id)!.event.exit_status, i || undefined, `exit status of ${id}`);
});

test("containerd's own statuses come back: InvalidArgument for a zero timestamp, Unimplemented for unknown methods and services", { skip, timeout: 60_000 }, async () => {
  await assert.rejects(
    client.callMethod(Events.method.forward, { envelope: { namespace: cd.namespace, topic: '/tasks/exit', event: taskExit('zero-ts', 1, 0) } }),
    (err: unknown) => err instanceof TtrpcError && err.code === Code.InvalidArgument && /timestamp must be set/.test(err.message),
  );
  await assert.rejects(client.invoke(EVENTS, 'Frobnicate', new Uint8Array()), (err: unknown) => err instanceof TtrpcError && err.code === Code.Unimplemented && err.message === 'method Frobnicate');
  await assert.rejects(client.invoke('containerd.task.v2.Task', 'State', new Uint8Array()), (err: unknown) => err instanceof TtrpcError && err.code === Code.Unimplemented && err.message === 'service containerd.task.v2.Task');
  // The connection is still good after errors.
  await client.callMethod(Events.method.forward, { envelope: { timestamp: timestampFromDate(new Date()), namespace: cd.namespace, topic: '/tasks/exit', event: taskExit('after-errors', 2, 3) } });
});

test("containerd's runc shim answers berth's Task calls: Connect, State, Pids, Wait across a Kill, NotFound, Unimplemented", { skip: skipShim, timeout: 120_000 }, async (t) => {
  const work = tempDir('berth-ttrpc-shim-');
  t.after(() => work.remove());
  const image = await importImage(cd, buildBusyboxOciArchive(join(work.path, 'image')));
  const id = 'berth-ttrpc-task';
  await cd.ctrOk(['run', '-d', image, id, 'sleep', '300']);
  // containerd 1.6 keeps the shim's address in the task's bundle.
  const address = readFileSync(join(cd.dir, 'state/io.containerd.runtime.v2.task', cd.namespace, id, 'address'), 'utf8').trim();
  assert.match(address, /^unix:\/\//);
  const shim = await TtrpcClient.connect(address.slice('unix://'.length));
  t.after(() => shim.close());

  const conn = await shim.callMethod(Task.method.connect, { id });
  const row = (await cd.ctrOk(['task', 'ls'])).split('\n').find((l) => l.startsWith(id + ' '));
  assert.equal(conn.taskPid, Number(row?.trim().split(/\s+/)[1]), `Connect's task pid is the one ctr task ls shows (${row})`);
  assert.ok(conn.shimPid > 0 && conn.shimPid !== conn.taskPid);

  const state = await shim.callMethod(Task.method.state, { id });
  assert.deepEqual([state.id, state.pid, state.status], [id, conn.taskPid, TaskStatus.RUNNING]);
  assert.ok(state.bundle.endsWith(`/${cd.namespace}/${id}`), `bundle ${state.bundle}`);
  const pids = await shim.callMethod(Task.method.pids, { id });
  assert.ok(pids.processes.some((p) => p.pid === conn.taskPid), `Pids lists ${conn.taskPid}`);

  // Wait goes first and is answered last: the Go server replies out of order on one connection.
  const waited = shim.callMethod(Task.method.wait, { id });
  await shim.callMethod(Task.method.kill, { id, signal: 9 });
  const exit = await waited;
  assert.equal(exit.exitStatus, 137);
  assert.ok(exit.exitedAt && exit.exitedAt.seconds > 0n, 'exited_at is set');
  assert.equal((await shim.callMethod(Task.method.state, { id })).status, TaskStatus.STOPPED);

  await assert.rejects(shim.callMethod(Task.method.state, { id: 'no-such-task' }), (err: unknown) => err instanceof TtrpcError && err.code === Code.NotFound && /container not created/.test(err.message));
  await assert.rejects(shim.invoke('containerd.task.v2.Task', 'Frobnicate', new Uint8Array()), { code: Code.Unimplemented, message: 'method Frobnicate' });
  shim.close();
  await cd.ctrOk(['task', 'delete', id]);
  await cd.ctrOk(['container', 'delete', id]);
});
