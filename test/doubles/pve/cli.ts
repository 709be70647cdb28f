// The DOUBLE of Proxmox's command-line tools `pct`, `pvesh` and `pvesm` (tests put wrappers named
// so first on PATH; see install.ts). State: $PVE_DOUBLE_STATE (model.ts). Grammar as in the pct(1),
// pvesh(1) and pvesm(1) man pages: positional arguments, then `--option value` (or
// `--option=value`); an unknown command or option is "400 unable to parse option" with the
// usage, exit 255, as PVE's CLI handler does. Tasks run in the foreground, printing their log.
import { spawnSync } from 'node:child_process';
import { PveFault, PveModel, ROOT_CALLER, type TaskPlan } from './model.js';

const USAGE: Record<string, string> = {
  create: 'pct create <vmid> <ostemplate> [OPTIONS]',
  set: 'pct set <vmid> [OPTIONS]',
  start: 'pct start <vmid> [OPTIONS]',
  stop: 'pct stop <vmid> [OPTIONS]',
  shutdown: 'pct shutdown <vmid> [OPTIONS]',
  destroy: 'pct destroy <vmid> [OPTIONS]',
  template: 'pct template <vmid>',
  clone: 'pct clone <vmid> <newid> [OPTIONS]',
  exec: 'pct exec <vmid> [<extra-args>]',
  status: 'pct status <vmid> [OPTIONS]',
  config: 'pct config <vmid> [OPTIONS]',
};

const OPTIONS: Record<string, readonly string[] | 'any'> = {
  create: 'any',
  set: 'any',
  start: ['skiplock', 'debug'],
  stop: ['skiplock', 'overrule-shutdown'],
  shutdown: ['timeout', 'forceStop'],
  destroy: ['purge', 'force', 'destroy-unreferenced-disks'],
  template: [],
  clone: ['full', 'hostname', 'description', 'storage', 'pool', 'snapname', 'target', 'bwlimit'],
  status: ['verbose'],
  config: ['current', 'snapshot'],
};

class Usage extends Error {}

function parse(args: string[], positional: number, allowed: readonly string[] | 'any'): { pos: string[]; opts: Record<string, string> } {
  const pos: string[] = [];
  const opts: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--') || (a.startsWith('-') && a.length > 1 && Number.isNaN(Number(a)))) {
      const body = a.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const key = eq >= 0 ? body.slice(0, eq) : body;
      if (allowed !== 'any' && !allowed.includes(key)) throw new Usage(`Unknown option: ${key}`);
      const value = eq >= 0 ? body.slice(eq + 1) : args[++i];
      if (value === undefined) throw new Usage(`Option ${key} requires an argument`);
      opts[key] = value;
    } else {
      pos.push(a);
    }
  }
  if (pos.length !== positional) throw new Usage(pos.length < positional ? 'not enough arguments' : 'too many arguments');
  return { pos, opts };
}

function vmidArg(s: string): number {
  if (!/^\d+$/.test(s)) throw new PveFault(400, 'Parameter verification failed.', { vmid: `type check ('integer') failed - got '${s}'` });
  return Number(s);
}

/** Runs a task in the foreground, as the CLI does: its log on stdout, failure on stderr. */
function runTask(plan: TaskPlan): number {
  let printed = 0;
  for (;;) {
    const outcome = plan.poll();
    for (; printed < plan.log.length; printed++) process.stdout.write(`${plan.log[printed]}\n`);
    if (outcome === 'running') {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (outcome.ok) return 0;
    process.stderr.write(`${outcome.error}\n`);
    return 255;
  }
}

function pct(model: PveModel, argv: string[]): number {
  const [cmd, ...args] = argv;
  if (!cmd || !(cmd in USAGE)) throw new Usage(`unknown command 'pct ${cmd ?? ''}'`);
  const c = ROOT_CALLER;
  switch (cmd) {
    case 'create': {
      const { pos, opts } = parse(args, 2, OPTIONS.create!);
      return runTask(model.create(c, vmidArg(pos[0]!), { ...opts, ostemplate: pos[1]! }));
    }
    case 'set': {
      const { pos, opts } = parse(args, 1, OPTIONS.set!);
      model.setConfig(c, vmidArg(pos[0]!), opts);
      return 0;
    }
    case 'start':
      return runTask(model.start(c, vmidArg(parse(args, 1, OPTIONS.start!).pos[0]!)));
    case 'stop':
      return runTask(model.stop(c, vmidArg(parse(args, 1, OPTIONS.stop!).pos[0]!)));
    case 'shutdown': {
      const { pos, opts } = parse(args, 1, OPTIONS.shutdown!);
      return runTask(model.shutdown(c, vmidArg(pos[0]!), Number(opts.timeout ?? 60), opts.forceStop === '1'));
    }
    case 'destroy': {
      const { pos, opts } = parse(args, 1, OPTIONS.destroy!);
      return runTask(model.destroy(c, vmidArg(pos[0]!), opts.purge === '1', opts.force === '1'));
    }
    case 'template':
      model.template(c, vmidArg(parse(args, 1, OPTIONS.template!).pos[0]!));
      return 0;
    case 'clone': {
      const { pos, opts } = parse(args, 2, OPTIONS.clone!);
      return runTask(model.clone(c, vmidArg(pos[0]!), { ...opts, newid: pos[1]! }));
    }
    case 'status': {
      const { pos, opts } = parse(args, 1, OPTIONS.status!);
      const st = model.status(vmidArg(pos[0]!));
      if (opts.verbose === '1') for (const [k, v] of Object.entries(st)) process.stdout.write(`${k}: ${String(v)}\n`);
      else process.stdout.write(`status: ${String(st.status)}\n`);
      return 0;
    }
    case 'config': {
      const cfg = model.config(vmidArg(parse(args, 1, OPTIONS.config!).pos[0]!));
      for (const [k, v] of Object.entries(cfg)) {
        if (k === 'lxc') for (const [lk, lv] of v as string[][]) process.stdout.write(`${lk}: ${lv}\n`);
        else if (k !== 'digest') process.stdout.write(`${k}: ${String(v).replace(/\n/g, '\\n')}\n`);
      }
      return 0;
    }
    case 'exec': {
      const dash = args.indexOf('--');
      const vmid = vmidArg(args[0] ?? '');
      const cmdline = dash >= 0 ? args.slice(dash + 1) : args.slice(1);
      model.execTarget(vmid);
      if (cmdline.length === 0) throw new Usage('missing command');
      const r = spawnSync(cmdline[0]!, cmdline.slice(1), { stdio: 'inherit' });
      if (r.error) {
        process.stderr.write(`lxc-attach: ${vmid}: ${r.error.message}\n`);
        return 255;
      }
      return r.status ?? 128 + 9;
    }
  }
  return 255;
}

/** `pvesh get PATH [--output-format json]`: berth reads only. */
function pvesh(model: PveModel, argv: string[]): number {
  const [verb, path, ...rest] = argv;
  if (verb !== 'get' || !path) throw new Usage(`unknown command 'pvesh ${verb ?? ''}'`);
  const { opts } = parse(rest, 0, ['output-format', 'vmid']);
  const node = model.load().node;
  let data: unknown;
  let m: RegExpExecArray | null;
  if (path === '/version') data = model.version();
  else if (path === '/cluster/nextid') data = model.nextId();
  else if ((m = new RegExp(`^/nodes/${node}/lxc/?$`).exec(path))) data = model.list();
  else if ((m = new RegExp(`^/nodes/${node}/lxc/(\\d+)/status/current$`).exec(path))) data = model.status(Number(m[1]));
  else if ((m = new RegExp(`^/nodes/${node}/lxc/(\\d+)/config$`).exec(path))) data = model.config(Number(m[1]));
  else if (/^\/nodes\/[^/]+\//.test(path)) throw new PveFault(500, `hostname lookup '${path.split('/')[2]}' failed - failed to get address info for: ${path.split('/')[2]}: Name or service not known`);
  else throw new PveFault(400, `no such resource '${path}'`);
  const format = opts['output-format'] ?? 'text';
  process.stdout.write(format.startsWith('json') ? `${JSON.stringify(data)}\n` : `${typeof data === 'string' ? data : JSON.stringify(data, null, 1)}\n`);
  return 0;
}

/** `pvesm path VOLID`, `pvesm free VOLID`, `pvesm import`-less: what berth needs for templates. */
function pvesm(model: PveModel, argv: string[]): number {
  const [verb, volid, ...rest] = argv;
  parse(rest, 0, []);
  if (!volid) throw new Usage('not enough arguments');
  if (verb === 'path') {
    const path = model.vztmplPath(model.load(), volid);
    model.uploadTarget(ROOT_CALLER, volid.split(':')[0]!, volid.split('/').pop()!);
    process.stdout.write(`${path}\n`);
    return 0;
  }
  if (verb === 'free') {
    model.freeVolume(ROOT_CALLER, volid);
    process.stdout.write(`Removed volume '${volid}'\n`);
    return 0;
  }
  throw new Usage(`unknown command 'pvesm ${verb ?? ''}'`);
}

export function main(tool: 'pct' | 'pvesh' | 'pvesm', argv: string[]): void {
  const dir = process.env.PVE_DOUBLE_STATE;
  if (!dir) {
    process.stderr.write(`${tool} (double): PVE_DOUBLE_STATE is not set\n`);
    process.exit(255);
  }
  const model = new PveModel(dir);
  let code: number;
  try {
    code = tool === 'pct' ? pct(model, argv) : tool === 'pvesh' ? pvesh(model, argv) : pvesm(model, argv);
  } catch (err) {
    if (err instanceof Usage) {
      process.stderr.write(`${err.message}\n400 unable to parse option\n${USAGE[argv[0] ?? ''] ?? `${tool} <command> [ARGS] [OPTIONS]`}\n`);
    } else if (err instanceof PveFault) {
      const details = err.errors ? Object.entries(err.errors).map(([k, v]) => `${k}: ${v}\n`).join('') : '';
      process.stderr.write(err.status === 400 ? `400 ${err.message}\n${details}` : `${err.message}\n`);
    } else {
      process.stderr.write(`${(err as Error).message}\n`);
    }
    code = 255;
  }
  process.exitCode = code;
}

