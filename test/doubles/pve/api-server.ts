// The DOUBLE of the Proxmox VE REST API (https://HOST:8006/api2/json), for tests only. It serves
// over real TLS with a certificate the test makes with openssl, so that CA verification and
// fingerprint pinning are exercised for real, and shares its state with the pct double.
//
// As PVE's HTTP server: API tokens in `Authorization: PVEAPIToken=USER@REALM!ID=SECRET`
// (401 without or with a wrong one), 403 "Permission check failed (PATH, PRIV)", 400
// "Parameter verification failed." with per-parameter `errors`, other failures 500 with the
// message as the status text and in the body; form-encoded bodies; task-starting calls answer a
// UPID that is polled at …/tasks/UPID/status and whose log is at …/tasks/UPID/log.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeUpid, PveFault, type Caller, type PveModel, type TaskOutcome, type TaskPlan } from './model.js';

interface Task {
  plan: TaskPlan;
  user: string;
  outcome: TaskOutcome | 'running';
}

export interface ApiDouble {
  url: string;
  port: number;
  /** Requests seen, as "METHOD path" (no headers: those carry the token). */
  requests: string[];
  close(): Promise<void>;
}

export async function startApiDouble(model: PveModel, tls: { key: string; cert: string }, port = 0): Promise<ApiDouble> {
  const tasks = new Map<string, Task>();
  const requests: string[] = [];
  let seq = 0;

  const runTask = (plan: TaskPlan, user: string): string => {
    const upid = makeUpid(model.load().node, plan.type, plan.id, user, ++seq);
    tasks.set(upid, { plan, user, outcome: 'running' });
    return upid;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://double');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    const send = (status: number, body: unknown, reason?: string): void => {
      res.writeHead(status, reason?.replace(/[^\t\x20-\x7e]/g, ' '), { 'Content-Type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify(body));
    };
    try {
      if (!url.pathname.startsWith('/api2/json/')) throw new PveFault(501, `Not Implemented`);
      const caller = authenticate(model, req.headers.authorization);
      const body = await readBody(req);
      const params = method === 'GET' || method === 'DELETE' ? Object.fromEntries(url.searchParams) : body.fields;
      const data = route(model, caller, method, url.pathname.slice('/api2/json'.length), params, body, tasks, runTask);
      send(200, { data });
    } catch (err) {
      if (err instanceof PveFault) {
        const out: Record<string, unknown> = { data: null, message: `${err.message}\n` };
        if (err.errors) out.errors = err.errors;
        send(err.status, out, err.message);
      } else {
        send(500, { data: null, message: `${(err as Error).message}\n` }, (err as Error).message);
      }
    }
  };

  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function authenticate(model: PveModel, header: string | undefined): Caller {
  if (!header) throw new PveFault(401, 'No ticket');
  const m = /^PVEAPIToken=([^!\s]+@[^!\s]+)!([^=\s]+)=(\S+)$/.exec(header);
  if (!m) throw new PveFault(401, 'authentication failure');
  const id = `${m[1]}!${m[2]}`;
  const token = model.load().tokens[id];
  if (!token || token.secret !== m[3]) throw new PveFault(401, 'authentication failure');
  return { user: id, privileges: token.privileges };
}

interface Body {
  fields: Record<string, string>;
  file?: { name: string; data: Buffer };
}

async function readBody(req: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  const boundary = /multipart\/form-data;\s*boundary=(.+)$/.exec(type)?.[1];
  if (boundary) return parseMultipart(raw, boundary.replace(/^"|"$/g, ''));
  return { fields: raw.length ? Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) : {} };
}

function parseMultipart(raw: Buffer, boundary: string): Body {
  const body: Body = { fields: {} };
  const sep = Buffer.from(`--${boundary}`);
  let pos = raw.indexOf(sep);
  while (pos >= 0) {
    const next = raw.indexOf(sep, pos + sep.length);
    if (next < 0) break;
    const part = raw.subarray(pos + sep.length + 2, next - 2);
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, headEnd).toString('utf8');
    const data = part.subarray(headEnd + 4);
    const name = /name="([^"]+)"/.exec(head)?.[1];
    const filename = /filename="([^"]+)"/.exec(head)?.[1];
    if (filename) body.file = { name: filename, data: Buffer.from(data) };
    else if (name) body.fields[name] = data.toString('utf8');
    pos = next;
  }
  return body;
}

function route(
  model: PveModel,
  caller: Caller,
  method: string,
  path: string,
  params: Record<string, string>,
  body: Body,
  tasks: Map<string, Task>,
  runTask: (plan: TaskPlan, user: string) => string,
): unknown {
  const node = model.load().node;
  const parts = path.split('/').filter(Boolean);
  const task = (plan: TaskPlan): string => runTask(plan, caller.user);
  if (method === 'GET' && path === '/version') return model.version();
  if (method === 'GET' && path === '/cluster/nextid') {
    if (params.vmid !== undefined) {
      if (model.vmids().includes(Number(params.vmid))) throw new PveFault(400, 'Parameter verification failed.', { vmid: `VM ${params.vmid} already exists` });
      return params.vmid;
    }
    return model.nextId();
  }
  if (parts[0] !== 'nodes' || !parts[1]) throw new PveFault(501, `Method '${method} ${path}' not implemented`);
  if (parts[1] !== node) throw new PveFault(595, `no such cluster node '${parts[1]}'`);
  const rest = parts.slice(2);

  if (rest[0] === 'tasks' && rest[1]) {
    const upid = decodeURIComponent(rest[1]);
    const t = tasks.get(upid);
    if (!t) throw new PveFault(500, `no such task`);
    const hung = (model.load().faults.hangTasks ?? []).includes(t.plan.type);
    if (t.outcome === 'running' && !hung) t.outcome = t.plan.poll();
    if (rest[2] === 'status') {
      const m = upid.split(':');
      const out: Record<string, unknown> = { upid, node, pid: parseInt(m[2]!, 16), pstart: parseInt(m[3]!, 16), starttime: parseInt(m[4]!, 16), type: t.plan.type, id: t.plan.id, user: t.user };
      if (t.outcome === 'running' || hung) out.status = 'running';
      else {
        out.status = 'stopped';
        out.exitstatus = t.outcome.ok ? 'OK' : t.outcome.error;
      }
      return out;
    }
    if (rest[2] === 'log') {
      const lines = [...t.plan.log];
      if (t.outcome !== 'running' && !hung) lines.push(t.outcome.ok ? 'TASK OK' : `TASK ERROR: ${t.outcome.error}`);
      return lines.map((t2, i) => ({ n: i + 1, t: t2 }));
    }
  }

  if (rest[0] === 'storage' && rest[1]) {
    const storage = rest[1];
    if (method === 'POST' && rest[2] === 'upload') {
      if (!body.file) throw new PveFault(400, 'Parameter verification failed.', { filename: 'property is missing and it is not optional' });
      if (body.fields.content !== 'vztmpl') throw new PveFault(400, 'Parameter verification failed.', { content: `upload of content type '${body.fields.content}' not supported` });
      const dest = model.uploadTarget(caller, storage, body.file.name);
      // PVE::API2::Storage::Status upload makes the template directory (make_path) first.
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, body.file.data);
      return task({ type: 'imgcopy', id: '', log: [`target file: ${dest}`, `file size is: ${body.file.data.length}`], poll: () => ({ ok: true }) });
    }
    if (method === 'DELETE' && rest[2] === 'content' && rest[3]) {
      model.freeVolume(caller, decodeURIComponent(rest[3]));
      return task({ type: 'imgdel', id: '', log: [`Removed volume '${decodeURIComponent(rest[3])}'`], poll: () => ({ ok: true }) });
    }
  }

  if (rest[0] === 'lxc') {
    if (rest.length === 1) {
      if (method === 'GET') return model.list();
      if (method === 'POST') {
        const { vmid, ...opts } = params;
        return task(model.create(caller, Number(vmid), opts));
      }
    }
    const vmid = Number(rest[1]);
    if (!Number.isInteger(vmid)) throw new PveFault(400, 'Parameter verification failed.', { vmid: `type check ('integer') failed - got '${rest[1]}'` });
    const sub = rest.slice(2).join('/');
    if (sub === 'config' && method === 'GET') return model.config(vmid);
    if (sub === 'config' && method === 'PUT') {
      if (Object.keys(params).some((k) => k.startsWith('lxc'))) throw new PveFault(400, 'Parameter verification failed.', { lxc: 'property is not defined in schema and the schema does not allow additional properties' });
      model.setConfig(caller, vmid, params);
      return null;
    }
    if (sub === 'status/current' && method === 'GET') return model.status(vmid);
    if (sub === 'status/start' && method === 'POST') return task(model.start(caller, vmid));
    if (sub === 'status/stop' && method === 'POST') return task(model.stop(caller, vmid));
    if (sub === 'status/shutdown' && method === 'POST') return task(model.shutdown(caller, vmid, Number(params.timeout ?? 60), params.forceStop === '1'));
    if (sub === 'template' && method === 'POST') {
      model.template(caller, vmid);
      return null;
    }
    if (sub === 'clone' && method === 'POST') return task(model.clone(caller, vmid, params));
    if (sub === '' && method === 'DELETE') return task(model.destroy(caller, vmid, params.purge === '1', params.force === '1'));
  }
  throw new PveFault(501, `Method '${method} ${path}' not implemented`);
}
