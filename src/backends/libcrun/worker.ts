// The libcrun worker's entry point, run from the sealed copy of Node:
//
//   node worker.js <libcrun path> <crun version>
//
// Loading (koffi, the library, the layout, every symbol) happens while worker-main.js is
// imported; if that fails, berth gets the reason as a "load" reply before the worker exits
// (sent with a callback: process.exit() right after send() may drop the message).
import type { WorkerReply } from './protocol.js';

try {
  await import('./worker-main.js');
} catch (err) {
  const reply: WorkerReply = { seq: 0, ok: false, status: 0, msg: err instanceof Error ? err.message : String(err), kind: 'load' };
  await new Promise<void>((resolve) => process.send!(reply, () => resolve()));
  process.exit(1);
}
