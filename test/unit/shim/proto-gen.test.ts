// The committed generated protobuf code (src/shim/proto/gen, from scripts/gen-shim-proto.sh)
// declares what the shim speaks: a regeneration that loses a method or renumbers a field fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Task } from '../../../src/shim/proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { Events, EnvelopeSchema } from '../../../src/shim/proto/gen/github.com/containerd/containerd/api/services/ttrpc/events/v1/events_pb.js';
import { TaskExitSchema } from '../../../src/shim/proto/gen/github.com/containerd/containerd/api/events/task_pb.js';
import { RequestSchema, ResponseSchema } from '../../../src/shim/proto/gen/ttrpc/request_pb.js';

const TASK_METHODS = ['Create', 'Start', 'State', 'Wait', 'Kill', 'Delete', 'Exec', 'ResizePty', 'CloseIO', 'Pids', 'Pause', 'Resume', 'Update', 'Stats', 'Connect', 'Shutdown', 'Checkpoint'];

test('the Task service is containerd.task.v2.Task with every method the shim serves', () => {
  assert.equal(Task.typeName, 'containerd.task.v2.Task');
  assert.deepEqual(Task.methods.map((m) => m.name).sort(), [...TASK_METHODS].sort());
  for (const m of Task.methods) assert.equal(m.methodKind, 'unary', `${m.name} is unary over ttrpc`);
  const byName = new Map(Task.methods.map((m) => [m.name, m]));
  assert.equal(byName.get('Create')!.input.typeName, 'containerd.task.v2.CreateTaskRequest');
  assert.equal(byName.get('Wait')!.output.typeName, 'containerd.task.v2.WaitResponse');
  assert.equal(byName.get('Kill')!.output.typeName, 'google.protobuf.Empty');
});

test('the Events service forwards envelopes: containerd.services.events.ttrpc.v1.Events/Forward', () => {
  assert.equal(Events.typeName, 'containerd.services.events.ttrpc.v1.Events');
  assert.deepEqual(Events.methods.map((m) => m.name), ['Forward']);
  assert.deepEqual(EnvelopeSchema.fields.map((f) => [f.name, f.number]), [['timestamp', 1], ['namespace', 2], ['topic', 3], ['event', 4]]);
});

test('field numbers match the wire format containerd and ttrpc use', () => {
  assert.deepEqual(RequestSchema.fields.map((f) => [f.name, f.number]), [['service', 1], ['method', 2], ['payload', 3], ['timeout_nano', 4], ['metadata', 5]]);
  assert.deepEqual(ResponseSchema.fields.map((f) => [f.name, f.number]), [['status', 1], ['payload', 2]]);
  assert.deepEqual(TaskExitSchema.fields.map((f) => [f.name, f.number]), [['container_id', 1], ['id', 2], ['pid', 3], ['exit_status', 4], ['exited_at', 5]]);
});

test('a TaskExit encodes to the bytes protobuf defines (field tags and varints) and back', () => {
  const bytes = toBinary(TaskExitSchema, create(TaskExitSchema, { containerId: 'c', pid: 300, exitStatus: 7 }));
  // 0x0a len 'c' | 0x18 varint 300 (ac 02) | 0x20 7
  assert.deepEqual([...bytes], [0x0a, 1, 0x63, 0x18, 0xac, 0x02, 0x20, 7]);
  const back = fromBinary(TaskExitSchema, bytes);
  assert.equal(back.containerId, 'c');
  assert.equal(back.exitStatus, 7);
});
