// The resident engine (the shim without an action, with -socket): serves containerd's Task API
// for every task of one (containerd address, namespace) over one ttrpc socket, with one Runtime
// over the namespace's state root, kept for the engine's life (libcrun stays loaded where the
// router picks it). It reaps its containers as their subreaper and publishes their events. It
// leaves when containerd's Shutdown finds no task left and no start has handed out its address
// for a task that has not come yet (<socket>.pending/<id>, fresh), under the lock `start` holds:
// a start never hands out the address of an engine that is going away.
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockDirectory } from '../core/lock.js';
import { errorFields, log } from '../core/log.js';
import type { ShimArgs } from './args.js';
import { EventPublisher } from './events.js';
import { shimPaths } from './paths.js';
import { Reaper } from './reaper.js';
import { shimRuntime } from './runtime-for.js';
import { BerthTaskService } from './task-service.js';
import { TtrpcServer } from './ttrpc/server.js';

export const TASK_SERVICE = 'containerd.task.v2.Task';

/** How long a start's pending mark keeps an idle engine: containerd's Create follows at once. */
const PENDING_MS = 10_000;

/** Fresh pending marks; stale ones (a start whose task never came) are removed. */
function pendingTasks(dir: string): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs < PENDING_MS) n++;
      else rmSync(path, { force: true });
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

export async function serveAction(args: ShimArgs, io: { env: NodeJS.ProcessEnv }): Promise<never> {
  const paths = shimPaths(args.address, args.namespace, io.env);
  const socket = args.socket || paths.socket;
  const pendingDir = `${socket}.pending`; // paths.pending for the socket start names
  // For the launcher's fast path (bin/containerd-shim-berth-v2): which process serves the socket.
  // Removed under the lock when the engine leaves; a killed engine's is found dead by its pid.
  const pidFile = `${socket}.pid`;
  const runtime = shimRuntime(paths.root, args.debug, 'long-lived', io.env);
  const reaper = new Reaper();
  reaper.start();
  const events = new EventPublisher(args.ttrpcAddress, args.namespace, (err) => void log('warn', err.message, errorFields(err)));
  const server = new TtrpcServer({ onError: (err) => void log('warn', `ttrpc: ${err.message}`, errorFields(err)) });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let leaving = false;
  const service: BerthTaskService = new BerthTaskService({
    runtime,
    pendingDir,
    reaper,
    events,
    onIdle: () => {
      if (leaving) return;
      leaving = true;
      // After the Shutdown answer is on its way; under start's lock, and only if still idle.
      setTimeout(() => {
        void (async () => {
          const lock = await lockDirectory(resolve(socket, '..'), { what: `the berth shim's socket directory` }).catch(() => undefined);
          try {
            if (service.size > 0) {
              leaving = false;
              return;
            }
            const coming = pendingTasks(pendingDir);
            if (coming > 0) {
              leaving = false;
              // Check again once those starts' tasks had their time to come.
              setTimeout(() => service.size === 0 && service.idle(), PENDING_MS).unref();
              return;
            }
            await server.close();
            rmSync(pendingDir, { recursive: true, force: true });
            rmSync(pidFile, { force: true });
            done();
          } finally {
            lock?.release();
          }
        })();
      }, 20);
    },
  });
  server.register(TASK_SERVICE, service.methods());
  await server.listen(socket);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  await log('info', `berth shim engine ${process.pid} serving namespace "${args.namespace}" of ${args.address} on ${socket}, state root ${paths.root}`);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      rmSync(pidFile, { force: true });
      void server.close().then(done);
    });
  }
  await finished;
  await events.close();
  await log('info', `berth shim engine ${process.pid} leaves: no task left`);
  // What the runtime keeps open (a libcrun worker, timers) is the engine's alone: it ends here.
  process.exit(0);
}
