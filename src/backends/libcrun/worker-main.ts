// The libcrun worker's body (worker.ts imports it and reports a failure to load): a child process
// started from a sealed memfd copy of Node (sealed-node.ts) that loads libcrun through koffi and
// runs one call at a time for its parent, over Node's IPC channel. It has berth's stdio as fds
// 0-2 (containers it creates inherit them, as they inherit the crun CLI's) and must never write
// to them itself. It exits when its parent goes away.
//
// Every libcrun_error_t is turned into {status, msg} and released with libcrun_error_release.
import koffi from 'koffi';
import { layoutFor } from './layouts.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

const [libPath, version] = process.argv.slice(2);

function reply(r: WorkerReply): void {
  process.send!(r);
}

/** Stops loading: worker.ts reports the message to berth as "load failed". */
function fatal(message: string): never {
  throw new Error(message);
}

if (!libPath || !version) fatal('usage: worker.js <libcrun path> <crun version>');
const layout = layoutFor(version);
if (!layout) fatal(`no struct layout for crun ${version}`);

let lib: ReturnType<typeof koffi.load>;
try {
  lib = koffi.load(libPath);
} catch (err) {
  fatal(`${libPath}: ${(err as Error).message}`);
}

const Context = koffi.struct(`libcrun_context_${version.replace(/\W/g, '_')}`, Object.fromEntries(layout.context));
if (koffi.sizeof(Context) !== layout.contextSize) {
  fatal(`libcrun_context_t declared for ${layout.name} is ${koffi.sizeof(Context)} bytes, expected ${layout.contextSize}`);
}
const ErrorStruct = koffi.struct('libcrun_error_s', { status: 'int', msg: 'char *' });
const ContextPtr = koffi.pointer(Context);

type Fn = (...args: unknown[]) => number;
const fn = (decl: string): Fn => {
  try {
    return lib.func(decl) as Fn;
  } catch (err) {
    fatal(`symbol missing: ${(err as Error).message}`);
  }
};
const loadFromFile = lib.func('void *libcrun_container_load_from_file(const char *path, _Out_ void **err)') as (p: string, e: unknown[]) => unknown;
const containerFree = fn('void libcrun_container_free(void *container)');
const create = fn(`int libcrun_container_create(${ContextPtr.name} ctx, void *container, unsigned int options, _Out_ void **err)`);
const start = fn(`int libcrun_container_start(${ContextPtr.name} ctx, const char *id, _Out_ void **err)`);
const state = fn(`int libcrun_container_state(${ContextPtr.name} ctx, const char *id, void *out, _Out_ void **err)`);
const kill = fn(`int libcrun_container_kill(${ContextPtr.name} ctx, const char *id, const char *signal, _Out_ void **err)`);
const killall = fn(`int libcrun_container_killall(${ContextPtr.name} ctx, const char *id, const char *signal, _Out_ void **err)`);
const pause = fn(`int libcrun_container_pause(${ContextPtr.name} ctx, const char *id, _Out_ void **err)`);
const unpause = fn(`int libcrun_container_unpause(${ContextPtr.name} ctx, const char *id, _Out_ void **err)`);
const update = fn(`int libcrun_container_update(${ContextPtr.name} ctx, const char *id, const char *content, size_t len, _Out_ void **err)`);
const del = fn(`int libcrun_container_delete(${ContextPtr.name} ctx, void *def, const char *id, bool force, _Out_ void **err)`);
const errorRelease = fn('int libcrun_error_release(_Inout_ void **err)');
const initLogging = fn('int libcrun_init_logging(_Out_ void **handler, _Out_ void **arg, const char *id, const char *log, _Out_ void **err)');

const libc = koffi.load('libc.so.6');
const strerror = libc.func('const char *strerror(int errnum)') as (n: number) => string;
const openMemstream = libc.func('void *open_memstream(void *bufp, void *sizep)') as (b: unknown, s: unknown) => unknown;
const fclose = libc.func('int fclose(void *f)') as (f: unknown) => number;
const free = libc.func('void free(void *p)') as (p: unknown) => void;
const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)') as (fd: number, cmd: number, arg: number) => number;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
// Node marks its stdio close-on-exec; a container's process must inherit it, as it inherits the
// crun CLI's. (Checked before each create: Node may set the flag again when it touches stdio.)
function inheritableStdio(): void {
  for (const fd of [0, 1, 2]) {
    const flags = fcntl(fd, F_GETFD, 0);
    if (flags >= 0 && flags & FD_CLOEXEC) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
}
const waitpid = libc.func('int waitpid(int pid, void *status, int options)') as (pid: number, st: null, opts: number) => number;
const WNOHANG = 1;

class LibcrunCallError extends Error {
  constructor(
    readonly status: number,
    readonly libcrunMsg: string,
  ) {
    super(libcrunMsg);
  }
}

/** Reads and releases a libcrun_error_t (every time, whatever it held). */
function takeError(slot: unknown[], what: string): LibcrunCallError {
  const ptr = slot[0];
  if (!ptr) return new LibcrunCallError(0, `${what} failed without an error message`);
  let status = 0;
  let msg = '';
  try {
    const e = koffi.decode(ptr, ErrorStruct) as { status: number; msg: string | null };
    status = e.status;
    msg = e.msg ?? '';
  } finally {
    errorRelease(slot);
  }
  return new LibcrunCallError(status, msg);
}

/** crun's own rendering of an error: "msg: strerror(status)" when there is a status. */
function render(e: LibcrunCallError): string {
  return e.status ? `${e.libcrunMsg}: ${strerror(e.status)}` : e.libcrunMsg;
}

// The output handler crun itself uses without --log: warnings to stderr.
const handlerSlot: unknown[] = [null];
const handlerArgSlot: unknown[] = [null];
{
  const err: unknown[] = [null];
  if (initLogging(handlerSlot, handlerArgSlot, 'berth', null, err) < 0) fatal(render(takeError(err, 'libcrun_init_logging')));
}

interface ContextInput {
  stateRoot: string;
  id: string;
  bundle?: string;
  consoleSocket?: string;
  pidFile?: string;
  systemdCgroup?: boolean;
  noPivot?: boolean;
  noNewKeyring?: boolean;
}

function context(c: ContextInput): Record<string, unknown> {
  return {
    state_root: c.stateRoot,
    id: c.id,
    bundle: c.bundle ?? null,
    console_socket: c.consoleSocket ?? null,
    pid_file: c.pidFile ?? null,
    notify_socket: process.env.NOTIFY_SOCKET ?? null,
    handler: null,
    preserve_fds: 0,
    listen_fds: 0,
    output_handler: handlerSlot[0],
    output_handler_arg: handlerArgSlot[0],
    fifo_exec_wait_fd: -1,
    systemd_cgroup: c.systemdCgroup ?? false,
    detach: false,
    no_subreaper: false,
    no_new_keyring: c.noNewKeyring ?? false,
    force_no_cgroup: false,
    no_pivot: c.noPivot ?? false,
    argv: null,
    argc: 0,
    handler_manager: null,
  };
}

function check(ret: number, err: unknown[], what: string): number {
  if (ret < 0) throw takeError(err, what);
  if (err[0]) takeError(err, what); // released even when the call succeeded
  return ret;
}

/** Container init processes are this worker's children until it exits: reap the dead ones. */
const children = new Set<number>();
function reap(): void {
  for (const pid of children) if (waitpid(pid, null, WNOHANG) !== 0) children.delete(pid);
}

/** An operation that takes only the container id: call, check, release the error. */
function byId(call: (ctx: unknown, id: unknown, err: unknown[]) => number, what: string): (a: Record<string, unknown>) => unknown {
  return (a) => {
    const err: unknown[] = [null];
    check(call(context(a as unknown as ContextInput), a.id, err), err, what);
    return undefined;
  };
}

const ops: Record<string, (a: Record<string, unknown>) => unknown> = {
  create(a) {
    const c = a as unknown as ContextInput & { bundle: string; config: string; pidFile: string };
    // As crun create: the config's relative paths (rootfs) are relative to the bundle.
    process.chdir(c.bundle);
    inheritableStdio();
    const err: unknown[] = [null];
    // The backend config (runtime/backend-config.ts), not <bundle>/config.json: as crun --config.
    const container = loadFromFile(c.config, err);
    if (!container) throw takeError(err, `loading ${c.config}`);
    try {
      check(create(context(c), container, 0, err), err, 'libcrun_container_create');
    } finally {
      containerFree(container);
    }
    return undefined;
  },
  start: byId(start, 'libcrun_container_start'),
  state(a) {
    const bufSlot = koffi.alloc('void *', 1);
    const sizeSlot = koffi.alloc('size_t', 1);
    const stream = openMemstream(bufSlot, sizeSlot);
    if (!stream) throw new LibcrunCallError(0, 'open_memstream failed');
    const err: unknown[] = [null];
    let ret: number;
    try {
      ret = state(context(a as unknown as ContextInput), a.id, stream, err);
    } finally {
      fclose(stream);
    }
    const buf = koffi.decode(bufSlot, 'void *');
    const size = Number(koffi.decode(sizeSlot, 'size_t'));
    const text = size > 0 ? (koffi.decode(buf, 'char', size) as string) : '';
    free(buf);
    koffi.free(bufSlot);
    koffi.free(sizeSlot);
    check(ret, err, 'libcrun_container_state');
    return text;
  },
  kill(a) {
    const err: unknown[] = [null];
    const f = a.all ? killall : kill;
    check(f(context(a as unknown as ContextInput), a.id, String(a.signal), err), err, 'libcrun_container_kill');
    return undefined;
  },
  pause: byId(pause, 'libcrun_container_pause'),
  resume: byId(unpause, 'libcrun_container_unpause'),
  update(a) {
    const err: unknown[] = [null];
    const resources = String(a.resources);
    check(update(context(a as unknown as ContextInput), a.id, resources, Buffer.byteLength(resources), err), err, 'libcrun_container_update');
    return undefined;
  },
  delete(a) {
    const err: unknown[] = [null];
    check(del(context(a as unknown as ContextInput), null, a.id, Boolean(a.force), err), err, 'libcrun_container_delete');
    reap();
    return undefined;
  },
  adopt(a) {
    children.add(Number(a.pid));
    reap();
    return undefined;
  },
};

process.on('message', (m: WorkerRequest) => {
  try {
    const op = ops[m.op];
    if (!op) throw new LibcrunCallError(0, `unknown worker operation ${m.op}`);
    reply({ seq: m.seq, ok: true, value: op(m.args) });
  } catch (err) {
    if (err instanceof LibcrunCallError) reply({ seq: m.seq, ok: false, status: err.status, msg: render(err), kind: 'libcrun', libcrunMsg: err.libcrunMsg });
    else reply({ seq: m.seq, ok: false, status: 0, msg: (err as Error).message, kind: 'internal' });
  }
});
process.on('disconnect', () => process.exit(0));
reply({ seq: 0, ok: true, value: { pid: process.pid } });
