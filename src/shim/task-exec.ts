// Execs in a task: containerd's Exec registers one (its OCI process and FIFOs), Start runs it
// through the runtime's exec, detached (`crun exec --detach --process FILE --pid-file FILE`),
// with the FIFOs as its stdio. Its process is reparented to the engine, which reaps it by pid
// as it does the init.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskExecAddedSchema, TaskExecStartedSchema } from './proto/gen/github.com/containerd/containerd/api/events/task_pb.js';
import type { ExecProcessRequest } from './proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import type { Runtime } from '../runtime/runtime.js';
import { parseSignal } from '../core/signals.js';
import type { EventPublisher } from './events.js';
import type { Exit, Reaper } from './reaper.js';
import { openStdio } from './stdio.js';
import { newProc, type ExecProc, type TaskEntry } from './task-process.js';
import { Code, TtrpcError } from './ttrpc/status.js';
import { unimplemented } from './task-errors.js';

export class ShimExecs {
  constructor(
    private readonly runtime: Runtime,
    private readonly events: EventPublisher,
    private readonly reaper: Reaper,
  ) {}

  add(task: TaskEntry, req: ExecProcessRequest): void {
    if (task.execs.has(req.execId)) throw new TtrpcError(Code.AlreadyExists, `exec "${req.execId}" of task "${task.id}" already exists`);
    if (req.terminal) throw unimplemented('a terminal for an exec (ctr task exec -t)');
    if (task.exit) throw new TtrpcError(Code.FailedPrecondition, `cannot exec in task "${task.id}": it has exited`);
    const spec = req.spec ? new TextDecoder().decode(req.spec.value) : '';
    if (spec === '') throw new TtrpcError(Code.InvalidArgument, `exec "${req.execId}" of task "${task.id}" comes without a process spec`);
    const proc: ExecProc = { ...newProc(req.execId, 0, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal }), spec };
    task.execs.set(req.execId, proc);
    void this.events.publish('/tasks/exec-added', TaskExecAddedSchema, { containerId: task.id, execId: req.execId });
  }

  /** Runs the exec; resolves to its pid, and calls onExit when it has exited. */
  async start(task: TaskEntry, proc: ExecProc, onExit: (exit: Exit) => void): Promise<number> {
    if (proc.pid !== 0) throw new TtrpcError(Code.FailedPrecondition, `exec "${proc.execId}" of task "${task.id}" has started already`);
    const run = async (): Promise<void> => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-shim-exec-'));
      try {
        const processFile = join(dir, 'process.json');
        const pidFile = join(dir, 'pid');
        writeFileSync(processFile, proc.spec, { mode: 0o600 });
        const stdio = openStdio(proc.stdio);
        try {
          await this.runtime.exec({ id: task.id, processFile, args: [], detach: true, pidFile, tty: false, consoleSocket: undefined, env: [], cwd: undefined, preserveFds: 0, stdio: stdio.fds });
        } finally {
          stdio.close();
        }
        proc.pid = Number(readFileSync(pidFile, 'utf8').trim());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      await this.events.publish('/tasks/exec-started', TaskExecStartedSchema, { containerId: task.id, execId: proc.execId, pid: proc.pid });
    };
    proc.starting = run();
    try {
      await proc.starting;
    } finally {
      proc.starting = undefined;
    }
    // Watched after the start: a process that exited already is a zombie until reaped.
    this.reaper.watch(proc.pid, onExit);
    return proc.pid;
  }

  kill(proc: ExecProc | { pid: number; exit: Exit | undefined }, signal: number): void {
    if (proc.pid === 0 || proc.exit) throw new TtrpcError(Code.NotFound, 'process already finished');
    process.kill(proc.pid, parseSignal(String(signal)).number);
  }
}
