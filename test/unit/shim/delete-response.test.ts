import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { DeleteResponseSchema } from '../../../src/shim/proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { encodeDeleteResponse } from '../../../src/shim/delete-response.js';

test("delete's hand-encoded DeleteResponse is byte for byte the generated schema's", () => {
  const cases: Array<[number, number, Date]> = [
    [0, 137, new Date('2026-12-04T18:50:31.990Z')],
    [4242, 0, new Date('2026-12-04T18:50:31.000Z')],
    [2 ** 31 - 1, 255, new Date(1)],
  ];
  for (const [pid, exitStatus, at] of cases) {
    const mine = encodeDeleteResponse(pid, exitStatus, at);
    assert.deepEqual(mine, toBinary(DeleteResponseSchema, create(DeleteResponseSchema, { pid, exitStatus, exitedAt: timestampFromDate(at) })));
    const back = fromBinary(DeleteResponseSchema, mine);
    assert.equal(back.pid, pid);
    assert.equal(back.exitStatus, exitStatus);
    assert.equal(Number(back.exitedAt!.seconds) * 1000 + back.exitedAt!.nanos / 1e6, at.getTime());
  }
});
