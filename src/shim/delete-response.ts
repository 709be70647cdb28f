// DeleteResponse {pid = 1, exit_status = 2, exited_at = 3 (Timestamp {seconds = 1, nanos = 2})}
// encoded by hand: `delete` runs after every task and containerd waits for it, and loading
// @bufbuild/protobuf with the generated descriptors costs more than the rest of the action.
// test/unit/shim/delete-response.test.ts checks the bytes against the generated schema.

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** One varint field (wire type 0), left out when zero as proto3 does. */
function field(num: number, value: number | bigint): number[] {
  return BigInt(value) === 0n ? [] : [(num << 3) | 0, ...varint(value)];
}

export function encodeDeleteResponse(pid: number, exitStatus: number, exitedAt: Date): Uint8Array {
  const ms = exitedAt.getTime();
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const ts = [...field(1, seconds), ...field(2, nanos)];
  return Uint8Array.from([...field(1, pid), ...field(2, exitStatus), (3 << 3) | 2, ...varint(ts.length), ...ts]);
}
