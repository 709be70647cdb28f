// containerd.task.v2.Task over the runtime: each task is a berth container in the namespace's
// state root, created, started, signalled and deleted through the same Runtime as the CLI's
// verbs (records, router, backends). What the engine adds: the FIFOs, the rootfs mounts, the
// exit status (Reaper), and the events, in order.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { TaskCreateSchema, TaskDeleteSchema, TaskExitSchema, TaskPausedSchema, TaskResumedSchema, TaskStartSchema } from './proto/gen/github.com/containerd/containerd/api/events/task_pb.js';
import { ProcessInfoSchema, Status } from './proto/gen/github.com/containerd/containerd/api/types/task/task_pb.js';
import { create } from '@bufbuild/protobuf';
import type * as pb from './proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { Task as TaskService } from './proto/gen/github.com/containerd/containerd/runtime/v2/task/shim_pb.js';
import { createContainer } from '../runtime/container-create.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ContainerStatus } from '../runtime/status.js';
import { parseSignal } from '../core/signals.js';
import { validateContainerId } from '../core/ids.js';
import { BERTH_VERSION } from '../core/version.js';
import { errorFields, log } from '../core/log.js';
import { Code, TtrpcError } from './ttrpc/status.js';
import { methodsOf, type MethodDef } from './ttrpc/server.js';
import type { EventPublisher } from './events.js';
import type { Exit, Reaper } from './reaper.js';
import { mountRootfs, unmountRootfs } from './rootfs.js';
import { openStdio } from './stdio.js';
import { ShimExecs } from './task-exec.js';
import { newProc, type ExecProc, type Proc, type TaskEntry } from './task-process.js';
import { notFound, toTtrpcError, unimplemented } from './task-errors.js';

const STATUS: Record<ContainerStatus, Status> = {
  creating: Status.UNKNOWN,
  created: Status.CREATED,
  running: Status.RUNNING,
  paused: Status.PAUSED,
  stopped: Status.STOPPED,
};

export interface TaskServiceDeps {
  runtime: Runtime;
  reaper: Reaper;
  events: EventPublisher;
  /** Called when Shutdown finds no task left: the engine may go. */
  onIdle: () => void;
  /** Where start marks the tasks it handed the engine's address for (paths.ts). */
  pendingDir: string;
}

export class BerthTaskService {
  private readonly tasks = new Map<string, TaskEntry>();
  private readonly execs: ShimExecs;

  constructor(private readonly deps: TaskServiceDeps) {
    this.execs = new ShimExecs(deps.runtime, deps.events, deps.reaper);
  }

  /** Calls being answered. */
  private inflight = 0;

  /** Tasks, and calls still being answered (a Delete whose task is gone from the map already). */
  get size(): number {
    return this.tasks.size + this.inflight;
  }

  /** What Shutdown does when no task is left. */
  idle(): void {
    this.deps.onIdle();
  }

  methods(): Record<string, MethodDef> {
    const wrap =
      <I, O>(fn: (req: I) => Promise<O>) =>
      async (req: I): Promise<O> => {
        this.inflight++;
        try {
          return await fn(req);
        } catch (err) {
          throw toTtrpcError(err);
        } finally {
          this.inflight--;
        }
      };
    return methodsOf(TaskService, {
      Create: wrap((r: pb.CreateTaskRequest) => this.create(r)),
      Start: wrap((r: pb.StartRequest) => this.start(r)),
      State: wrap((r: pb.StateRequest) => this.state(r)),
      Wait: wrap((r: pb.WaitRequest) => this.wait(r)),
      Kill: wrap((r: pb.KillRequest) => this.kill(r)),
      Delete: wrap((r: pb.DeleteRequest) => this.delete(r)),
      Pids: wrap((r: pb.PidsRequest) => this.pids(r)),
      Pause: wrap((r: pb.PauseRequest) => this.pause(r)),
      Resume: wrap((r: pb.ResumeRequest) => this.resume(r)),
      Update: wrap((r: pb.UpdateTaskRequest) => this.update(r)),
      Connect: wrap(async (r: pb.ConnectRequest) => ({ shimPid: process.pid, taskPid: this.tasks.get(r.id)?.pid ?? 0, version: BERTH_VERSION })),
      Shutdown: wrap(async () => {
        // The engine checks again (size) once this answer is sent: other calls may still run.
        if (this.tasks.size === 0) this.deps.onIdle();
        return {};
      }),
      CloseIO: wrap(async (r: pb.CloseIORequest) => {
        this.proc(r.id, r.execId);
        // The process reads the stdin FIFO itself: it sees EOF when containerd closes its end.
        return {};
      }),
      Exec: wrap(async (r: pb.ExecProcessRequest) => {
        this.execs.add(this.task(r.id), r);
        return {};
      }),
      ResizePty: wrap(async (r: pb.ResizePtyRequest) => {
        this.proc(r.id, r.execId);
        throw unimplemented('a terminal (ResizePty)');
      }),
      Stats: wrap(async (r: pb.StatsRequest) => {
        this.task(r.id);
        throw unimplemented('Stats (cgroup metrics)');
      }),
      Checkpoint: wrap(async () => {
        throw unimplemented('Checkpoint');
      }),
    });
  }

  private task(id: string): TaskEntry {
    const t = this.tasks.get(id);
    if (!t) throw notFound(id);
    return t;
  }

  /** The init (execId '') or an exec of task `id`. */
  private proc(id: string, execId: string): { task: TaskEntry; proc: Proc } {
    const task = this.task(id);
    if (execId === '') return { task, proc: task };
    const proc = task.execs.get(execId);
    if (!proc) throw new TtrpcError(Code.NotFound, `exec "${execId}" of task "${id}" does not exist`);
    return { task, proc };
  }

  private async create(req: pb.CreateTaskRequest): Promise<{ pid: number }> {
    const id = validateContainerId(req.id);
    rmSync(join(this.deps.pendingDir, id), { force: true });
    if (this.tasks.has(id)) throw new TtrpcError(Code.AlreadyExists, `task "${id}" already exists`);
    if (req.terminal) throw unimplemented('a terminal (ctr run -t)');
    if (req.checkpoint !== '') throw unimplemented('restoring from a checkpoint');
    await mountRootfs(req.bundle, req.rootfs);
    let pid: number;
    try {
      const stdio = openStdio(req);
      try {
        await createContainer(this.deps.runtime, { id, bundle: req.bundle, image: undefined, pidFile: undefined, consoleSocket: undefined, noPivot: false, noNewKeyring: false, preserveFds: 0, stdio: stdio.fds });
      } finally {
        stdio.close();
      }
      pid = this.deps.runtime.record(id).pid ?? 0;
    } catch (err) {
      await unmountRootfs(req.bundle);
      throw err;
    }
    const entry: TaskEntry = { ...newProc('', pid, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal }), id, bundle: req.bundle, execs: new Map() };
    this.tasks.set(id, entry);
    void this.deps.events.publish('/tasks/create', TaskCreateSchema, { containerId: id, bundle: req.bundle, rootfs: req.rootfs, io: entry.stdio, pid });
    this.deps.reaper.watch(pid, (exit) => void this.onExit(entry, entry, exit));
    return { pid };
  }

  /** Records a process's exit and publishes it, after its start's event; not for a task deleted meanwhile. */
  private async onExit(task: TaskEntry, proc: Proc, exit: Exit): Promise<void> {
    await proc.starting?.catch(() => undefined);
    proc.exit = exit;
    proc.markExited(exit);
    if (this.tasks.get(task.id) !== task) return; // deleted already (a created task's delete kills it)
    void this.deps.events.publish('/tasks/exit', TaskExitSchema, { containerId: task.id, id: proc.execId || task.id, pid: proc.pid, exitStatus: exit.exitStatus, exitedAt: timestampFromDate(exit.exitedAt) });
  }

  private async start(req: pb.StartRequest): Promise<{ pid: number }> {
    if (req.execId !== '') {
      const { task, proc } = this.proc(req.id, req.execId);
      return { pid: await this.execs.start(task, proc as ExecProc, (exit) => void this.onExit(task, proc, exit)) };
    }
    const t = this.task(req.id);
    const starting = this.deps.runtime.start(t.id).then(() => this.deps.events.publish('/tasks/start', TaskStartSchema, { containerId: t.id, pid: t.pid }));
    t.starting = starting;
    try {
      await starting;
    } finally {
      t.starting = undefined;
    }
    return { pid: t.pid };
  }

  private async state(req: pb.StateRequest): Promise<Partial<pb.StateResponse>> {
    const { task: t, proc: p } = this.proc(req.id, req.execId);
    const common = { id: p.execId || t.id, execId: p.execId, bundle: t.bundle, pid: p.pid, stdin: p.stdio.stdin, stdout: p.stdio.stdout, stderr: p.stdio.stderr, terminal: p.stdio.terminal };
    if (p.exit) return { ...common, status: Status.STOPPED, exitStatus: p.exit.exitStatus, exitedAt: timestampFromDate(p.exit.exitedAt) };
    if (p !== t) return { ...common, status: p.pid === 0 ? Status.CREATED : Status.RUNNING };
    const status = (await this.deps.runtime.state(t.id)).status;
    return { ...common, status: STATUS[status] };
  }

  private async wait(req: pb.WaitRequest): Promise<{ exitStatus: number; exitedAt: ReturnType<typeof timestampFromDate> }> {
    const exit = await this.proc(req.id, req.execId).proc.exited;
    return { exitStatus: exit.exitStatus, exitedAt: timestampFromDate(exit.exitedAt) };
  }

  private async kill(req: pb.KillRequest): Promise<object> {
    if (req.execId !== '') {
      this.execs.kill(this.proc(req.id, req.execId).proc, req.signal);
      return {};
    }
    const t = this.task(req.id);
    // As runc's shim: signalling a process that has exited is "process already finished".
    if (t.exit && !req.all) throw new TtrpcError(Code.NotFound, 'process already finished');
    try {
      await this.deps.runtime.kill(t.id, parseSignal(String(req.signal)), req.all);
    } catch (err) {
      if (t.exit || (await this.deps.runtime.state(t.id).catch(() => undefined))?.status === 'stopped') throw new TtrpcError(Code.NotFound, 'process already finished');
      throw err;
    }
    return {};
  }

  private async delete(req: pb.DeleteRequest): Promise<Partial<pb.DeleteResponse>> {
    if (req.execId !== '') {
      const { task, proc } = this.proc(req.id, req.execId);
      if (proc.pid !== 0 && !proc.exit) throw new TtrpcError(Code.FailedPrecondition, `exec "${proc.execId}" of task "${task.id}" is running`);
      task.execs.delete(proc.execId);
      const exit = proc.exit ?? { exitStatus: 0, exitedAt: new Date() };
      return { pid: proc.pid, exitStatus: exit.exitStatus, exitedAt: timestampFromDate(exit.exitedAt) };
    }
    const t = this.task(req.id);
    await this.deps.runtime.delete(t.id, false);
    this.tasks.delete(t.id);
    await unmountRootfs(t.bundle).catch((err: unknown) => log('warn', `cannot unmount the rootfs of task "${t.id}"`, { id: t.id, ...errorFields(err) }));
    // A created task that never ran: its init is killed by the delete; its status is reaped meanwhile.
    const exit = t.exit ?? (await Promise.race([t.exited, new Promise<Exit>((r) => setTimeout(() => r({ exitStatus: 137, exitedAt: new Date() }), 2_000))]));
    const exitedAt = timestampFromDate(exit.exitedAt);
    void this.deps.events.publish('/tasks/delete', TaskDeleteSchema, { containerId: t.id, id: t.id, pid: t.pid, exitStatus: exit.exitStatus, exitedAt });
    return { pid: t.pid, exitStatus: exit.exitStatus, exitedAt };
  }

  private async pids(req: pb.PidsRequest): Promise<Partial<pb.PidsResponse>> {
    const t = this.task(req.id);
    const pids = await this.deps.runtime.ps(t.id);
    return { processes: pids.map((pid) => create(ProcessInfoSchema, { pid })) };
  }

  private async pause(req: pb.PauseRequest): Promise<object> {
    const t = this.task(req.id);
    await this.deps.runtime.pause(t.id);
    void this.deps.events.publish('/tasks/paused', TaskPausedSchema, { containerId: t.id });
    return {};
  }

  private async resume(req: pb.ResumeRequest): Promise<object> {
    const t = this.task(req.id);
    await this.deps.runtime.resume(t.id);
    void this.deps.events.publish('/tasks/resumed', TaskResumedSchema, { containerId: t.id });
    return {};
  }

  private async update(req: pb.UpdateTaskRequest): Promise<object> {
    const t = this.task(req.id);
    // containerd sends specs.LinuxResources as JSON in the Any (typeurl's encoding of Go structs).
    const resources = req.resources ? new TextDecoder().decode(req.resources.value) : '{}';
    await this.deps.runtime.update(t.id, resources);
    return {};
  }
}
