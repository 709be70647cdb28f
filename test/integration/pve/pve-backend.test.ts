// The pve backend driven end to end over BOTH transports, against the Proxmox DOUBLE (there is
// no Proxmox host here): lifecycle with a real init process, template → linked clone, VMID
// mapping and collision retry, and bad input that must leave nothing behind.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PveBackend } from '../../../src/backends/pve/pve-backend.js';
import { ProxmoxPermissionError, ProxmoxTaskError, ProxmoxTimeoutError } from '../../../src/backends/pve/pve-errors.js';
import { parseVmidRange } from '../../../src/backends/pve/vmid-allocator.js';
import { BerthError } from '../../../src/core/errors.js';
import { IMAGE_DIGEST_ANNOTATION } from '../../../src/core/oci/annotations.js';
import { parseSignal } from '../../../src/core/signals.js';
import { makeBusyboxBundle, tempDir } from '../../helpers/bundle.js';
import { missing } from '../../helpers/host.js';
import { readProcStat } from '../../../src/core/proc.js';
import { waitFor } from '../../helpers/wait.js';
import { loadMapOciToLxc } from '../../../src/backends/pve/lxc-mapping-link.js';

const mapOciToLxc = await loadMapOciToLxc();
import { makeRig, type Rig } from '../../doubles/pve/transports.js';

const skip = missing('busybox', 'tar', 'openssl');

/** A live process (a zombie waiting for its reaper is dead for this purpose). */
function alive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

interface Ctx {
  rig: Rig;
  root: string;
  backend: PveBackend;
}

function backendFor(rig: Rig, root: string, over: Partial<ConstructorParameters<typeof PveBackend>[0]> = {}): PveBackend {
  return new PveBackend({
    proxmox: rig.proxmox,
    root,
    storage: 'local-zfs',
    templateStorage: 'local',
    bridge: 'vmbr0',
    unprivileged: true,
    vmidRange: parseVmidRange('100-999'),
    mapOciToLxc,
    stopTimeoutS: 2,
    ...over,
  });
}

/**
 * A bundle the API transport can create too: no tmpfs (a raw key, root-only). Its capabilities,
 * rlimits, masked paths … are degradations through a token (Proxmox's defaults stand in).
 */
function bundle(dir: string, rig: Rig, edit?: (c: Record<string, any>) => void, marker?: string): string {
  const made = makeBusyboxBundle(dir, {
    edit: (c) => {
      if (rig.transport === 'api') c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/tmp');
      c.linux.resources = { ...(c.linux.resources ?? {}), memory: { limit: 256 * 1024 * 1024, swap: 512 * 1024 * 1024 }, cpu: { quota: 50_000, period: 100_000, cpus: '0-1' } };
      edit?.(c);
    },
  });
  // Other content, other template key.
  if (marker) writeFileSync(join(made, 'rootfs/etc/marker'), `${marker}\n`);
  return made;
}

/** Proxmox containers that are not templates. */
function containers(rig: Rig): number[] {
  return rig.double.model.list().filter((c) => c.template !== 1).map((c) => Number(c.vmid));
}

function templates(rig: Rig): number[] {
  return rig.double.model.list().filter((c) => c.template === 1).map((c) => Number(c.vmid));
}

/** Every tarball berth has uploaded so far (the double records each upload). */
function uploads(rig: Rig): string[] {
  return rig.double.model.load().uploads ?? [];
}

/** A made-up manifest digest: each test its own image. */
function newDigest(prefix = ''): string {
  return `sha256:${prefix}${randomBytes(32).toString('hex').slice(prefix.length)}`;
}

/** A bundle as the runtime makes it from a cached image: the annotation names its digest. */
function imageBundle(dir: string, rig: Rig, digest: string): string {
  return bundle(dir, rig, (c) => (c.annotations = { ...(c.annotations ?? {}), [IMAGE_DIGEST_ANNOTATION]: digest }), `image ${digest}`);
}

/** The vztmpl files of storage local; Proxmox removes the directory with the last of them. */
function vztmplFiles(rig: Rig): string[] {
  const dir = rig.double.model.templateDir('local');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Nothing of container `id` is left: no map entry, no Proxmox container, no work files. */
function assertNothingLeft(ctx: Ctx, id: string, containersBefore: number[] = []): void {
  assert.equal(ctx.backend.map.read().containers[id], undefined, 'no map entry');
  assert.deepEqual(containers(ctx.rig), containersBefore, 'no Proxmox container left');
  const tmp = join(ctx.root, 'pve/tmp');
  assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'no work files');
  assert.deepEqual(vztmplFiles(ctx.rig), [], 'no uploaded tarball');
}

for (const transport of ['pct', 'api'] as const) {
  describe(`pve backend over ${transport} (Proxmox double)`, { skip }, () => {
    const ctx = {} as Ctx;
    let dirs: ReturnType<typeof tempDir>;

    before(async () => {
      dirs = tempDir('berth-pve-');
      ctx.rig = await makeRig(transport);
      ctx.root = join(dirs.path, 'root');
      ctx.backend = backendFor(ctx.rig, ctx.root);
    });
    after(async () => {
      await ctx.rig.close();
      dirs.remove();
    });

    test('create → created, start → running with the real host pid of its init, kill TERM → stopped, delete → nothing left', async () => {
      const b = bundle(join(dirs.path, 'b1'), ctx.rig);
      const made = await ctx.backend.createFromBundle('web-1', b);
      assert.equal(made.status, 'created');
      assert.ok(made.vmid >= 100 && made.vmid <= 999);
      assert.equal(ctx.backend.map.read().containers['web-1']?.vmid, made.vmid);
      assert.deepEqual(await ctx.backend.state('web-1'), { id: 'web-1', vmid: made.vmid, status: 'created', pid: undefined });

      // The clone carries the mapped options; the template is linked, recorded and verifiable.
      const conf = ctx.rig.double.model.config(made.vmid) as Record<string, string>;
      assert.equal(conf.hostname, 'berth-test');
      assert.equal(conf.memory, '256');
      assert.equal(conf.swap, '256');
      assert.equal(conf.cpulimit, '0.5');
      assert.equal(conf.cores, '2');
      assert.equal(conf.unprivileged, '1');
      // An API token may set nesting alone (pve-container's check_ct_modify_config_perm, in the
      // double): keyctl only through pct, as root@pam. Before, the API create was refused after
      // the template and clone were made (issue 17).
      assert.equal(conf.features, transport === 'pct' ? 'nesting=1,keyctl=1' : 'nesting=1');
      assert.equal(conf.net0, 'name=eth0,bridge=vmbr0,ip=dhcp');
      assert.match(conf.tags!, /^berth;berth-root-[0-9a-f]{10}$/);
      assert.match(conf.description!, /^berth container web-1\nberth root: [0-9a-f]{10}/);
      assert.equal(conf.entrypoint, 'sleep 300');
      assert.equal(conf.env, 'PATH=/bin:/usr/bin:/sbin:/usr/sbin\0TERM=xterm');
      assert.equal(made.linked, true);
      assert.match(conf.rootfs!, new RegExp(`^local-zfs:basevol-${made.template}-disk-0/subvol-${made.vmid}-disk-0,`));
      assert.deepEqual(templates(ctx.rig), [made.template]);
      const tconf = ctx.rig.double.model.config(made.template) as Record<string, string>;
      assert.match(tconf.description!, /^berth template\nkey: sha256:[0-9a-f]{64}\nunprivileged: 1$/);
      assert.deepEqual(vztmplFiles(ctx.rig), [], 'the tarball is removed once the template holds the rootfs');

      await ctx.backend.start('web-1');
      const running = await ctx.backend.state('web-1');
      assert.equal(running.status, 'running');
      assert.ok(running.pid && alive(running.pid), 'the init is a live host process');

      await ctx.backend.kill('web-1', parseSignal('TERM'));
      await waitFor('the init to die', () => !alive(running.pid!));
      assert.equal((await ctx.backend.state('web-1')).status, 'stopped');
      await assert.rejects(ctx.backend.start('web-1'), { code: 'BERTH_ERR_STATE' });

      await ctx.backend.delete('web-1', false);
      assertNothingLeft(ctx, 'web-1');
      assert.deepEqual(templates(ctx.rig), [made.template], 'the template stays for the next container');
    });

    test('a second container from the same rootfs is a linked clone of the same template', async () => {
      const b = bundle(join(dirs.path, 'b1'), ctx.rig);
      const t0 = templates(ctx.rig);
      const a = await ctx.backend.createFromBundle('same-1', b);
      const c = await ctx.backend.createFromBundle('same-2', b);
      assert.equal(a.template, c.template);
      assert.deepEqual(templates(ctx.rig), t0.length ? t0 : [a.template]);
      assert.notEqual(a.vmid, c.vmid);
      const list = await ctx.backend.list();
      assert.deepEqual(list.map((e) => [e.id, e.vmid, e.status]).sort(), [['same-1', a.vmid, 'created'], ['same-2', c.vmid, 'created']]);
      await ctx.backend.delete('same-1', false);
      await ctx.backend.delete('same-2', false);
      assertNothingLeft(ctx, 'same-1');
    });

    test('stop: an init that ignores the shutdown signal is stopped after the timeout; KILL is a Proxmox stop', async () => {
      ctx.rig.double.update((s) => (s.faults.initIgnoresTerm = true));
      try {
        await ctx.backend.createFromBundle('stubborn', bundle(join(dirs.path, 'b1'), ctx.rig));
        await ctx.backend.start('stubborn');
        const { pid } = await ctx.backend.state('stubborn');
        await ctx.backend.stop('stubborn', 1);
        assert.equal((await ctx.backend.state('stubborn')).status, 'stopped');
        await waitFor('the init to be gone', () => !alive(pid!));

        await ctx.backend.createFromBundle('killed', bundle(join(dirs.path, 'b1'), ctx.rig));
        await ctx.backend.start('killed');
        const k = await ctx.backend.state('killed');
        await ctx.backend.kill('killed', parseSignal('KILL'));
        assert.equal((await ctx.backend.state('killed')).status, 'stopped');
        assert.equal(alive(k.pid!), false);
      } finally {
        ctx.rig.double.update((s) => delete s.faults.initIgnoresTerm);
        await ctx.backend.delete('stubborn', true);
        await ctx.backend.delete('killed', true);
      }
      assertNothingLeft(ctx, 'stubborn');
    });

    test('delete of a running container needs force; force stops and destroys it', async () => {
      await ctx.backend.createFromBundle('busy', bundle(join(dirs.path, 'b1'), ctx.rig));
      await ctx.backend.start('busy');
      const { pid } = await ctx.backend.state('busy');
      await assert.rejects(ctx.backend.delete('busy', false), { code: 'BERTH_ERR_STATE', message: /running; stop it first or use delete --force/ });
      await ctx.backend.delete('busy', true);
      assert.equal(alive(pid!), false);
      assertNothingLeft(ctx, 'busy');
    });

    test('exec runs in the container over pct; the API has none and says so', async () => {
      await ctx.backend.createFromBundle('ex', bundle(join(dirs.path, 'b1'), ctx.rig));
      await ctx.backend.start('ex');
      try {
        if (transport === 'pct') {
          const out = await ctx.backend.execArgv('ex', ['echo', 'hello from', 'ex'], 'capture');
          assert.deepEqual([out.exitCode, out.stdout], [0, 'hello from ex\n']);
          assert.equal((await ctx.backend.execArgv('ex', ['sh', '-c', 'exit 3'], 'capture')).exitCode, 3);
        } else {
          await assert.rejects(ctx.backend.execArgv('ex', ['true'], 'capture'), { code: 'BERTH_ERR_UNSUPPORTED', message: /no exec for containers; use transport = "pct"/ });
        }
      } finally {
        await ctx.backend.delete('ex', true);
      }
    });

    test('a storage that cannot make linked clones gets a full copy', async () => {
      const root = join(dirs.path, 'root-dir-storage');
      const backend = backendFor(ctx.rig, root, { storage: 'local' });
      // Other content, so a new template is made, on the dir storage.
      const b = bundle(join(dirs.path, 'b-dir'), ctx.rig, undefined, 'on-dir-storage');
      const made = await backend.createFromBundle('full-1', b);
      assert.equal(made.linked, false);
      const rootfs = (ctx.rig.double.model.config(made.vmid) as Record<string, string>).rootfs!;
      assert.match(rootfs, new RegExp(`^local:${made.vmid}/vm-${made.vmid}-disk-0\\.raw,`));
      await backend.delete('full-1', false);
      assert.equal(backend.map.read().containers['full-1'], undefined);
    });

    test('VMID collision: another client takes the VMID first → berth retries with another and maps that one', async () => {
      const b = bundle(join(dirs.path, 'b1'), ctx.rig);
      await ctx.backend.createFromBundle('warm', b); // the template exists: the next step is a clone
      const before = new Set(ctx.rig.double.model.vmids());
      ctx.rig.double.update((s) => (s.faults.stealNextCreate = true));
      const made = await ctx.backend.createFromBundle('racer', b);
      const stolen = ctx.rig.double.model.vmids().filter((v) => !before.has(v) && v !== made.vmid);
      assert.equal(stolen.length, 1, 'someone else holds the first VMID');
      assert.equal((ctx.rig.double.model.config(stolen[0]!) as Record<string, string>).hostname, 'someone-else');
      assert.equal(ctx.backend.map.read().containers.racer?.vmid, made.vmid);
      assert.ok(!Object.values(ctx.backend.map.read().containers).some((e) => e.vmid === stolen[0]), 'the stolen VMID is not mapped');
      await ctx.backend.delete('racer', false);
      await ctx.backend.delete('warm', false);
      ctx.rig.double.update(() => undefined);
      // the other client's container is not berth's to remove
      ctx.rig.double.model.destroy({ user: 'root@pam', privileges: 'all' }, stolen[0]!, true, true).poll();
    });

    test('VMIDs stay inside vmid_range; a full range is a clear error that leaves nothing', async () => {
      const root = join(dirs.path, 'root-range');
      const vmidsNow = ctx.rig.double.model.vmids();
      const lo = Math.max(...vmidsNow) + 50;
      const backend = backendFor(ctx.rig, root, { vmidRange: { lo, hi: lo } });
      const made = await backend.createFromBundle('ranged', bundle(join(dirs.path, 'b1'), ctx.rig));
      assert.equal(made.vmid, lo);
      const before = containers(ctx.rig);
      await assert.rejects(backend.createFromBundle('no-room', bundle(join(dirs.path, 'b1'), ctx.rig)), { message: `no free VMID in vmid_range ${lo}-${lo}` });
      assert.equal(backend.map.read().containers['no-room'], undefined);
      assert.deepEqual(containers(ctx.rig), before);
      await backend.delete('ranged', false);
    });

    test('bad input: missing storage → clear error naming it, nothing left', async () => {
      const root = join(dirs.path, 'root-nostorage');
      const backend = backendFor(ctx.rig, root, { storage: 'nope' });
      const tBefore = templates(ctx.rig);
      await assert.rejects(backend.createFromBundle('nostore', bundle(join(dirs.path, 'b2'), ctx.rig, undefined, 'no-storage')), (err: Error) => {
        assert.ok(err instanceof BerthError);
        assert.match(err.message, /storage 'nope' does not exist/);
        return true;
      });
      assertNothingLeft({ ...ctx, root, backend }, 'nostore', containers(ctx.rig));
      assert.deepEqual(templates(ctx.rig), tBefore);
      assert.deepEqual(Object.keys(backend.map.read().templates), [], 'no template map entry');
    });

    test('bad input: a task that fails → the error carries the task log, nothing left', async () => {
      const before = containers(ctx.rig);
      ctx.rig.double.update((s) => (s.faults.failTask = { type: 'vzclone', message: 'zfs error: out of space', log: ['create linked clone of mount point rootfs', 'cannot create snapshot: out of space'] }));
      await assert.rejects(ctx.backend.createFromBundle('doomed', bundle(join(dirs.path, 'b1'), ctx.rig)), (err: Error) => {
        assert.ok(err instanceof ProxmoxTaskError, `${err.name}: ${err.message}`);
        assert.match(err.message, /clone failed: zfs error: out of space/);
        assert.match(err.message, /cannot create snapshot: out of space/);
        return true;
      });
      assertNothingLeft(ctx, 'doomed', before);
    });

    test('bad input: a template that cannot be made → nothing left (no template, no tarball, no map entries)', async () => {
      const root = join(dirs.path, 'root-tplfail');
      const backend = backendFor(ctx.rig, root);
      const tBefore = templates(ctx.rig);
      ctx.rig.double.update((s) => (s.faults.failTask = { type: 'vzcreate', message: 'unpacking failed', log: ['extracting archive', 'tar: short read'] }));
      await assert.rejects(backend.createFromBundle('tplfail', bundle(join(dirs.path, 'b3'), ctx.rig, undefined, 'template-fails')), /unable to create CT \d+ - unpacking failed[\s\S]*tar: short read/);
      assert.deepEqual(templates(ctx.rig), tBefore);
      assert.deepEqual(backend.map.read(), { version: 1, containers: {}, templates: {} });
      assertNothingLeft({ ...ctx, root, backend }, 'tplfail', containers(ctx.rig));
    });

    test('bad input: an invalid hostname is refused before anything is made', async () => {
      const before = containers(ctx.rig);
      await assert.rejects(ctx.backend.createFromBundle('badhost', bundle(join(dirs.path, 'b1'), ctx.rig, (c) => (c.hostname = 'not a hostname!'))), { code: 'BERTH_ERR_INVALID_BUNDLE', message: /hostname "not a hostname!"/ });
      assertNothingLeft(ctx, 'badhost', before);
    });

    test('bind mounts: root (pct) sets them as mpN; an API token gets a clear permission error and nothing is made', async () => {
      const before = containers(ctx.rig);
      const b = bundle(join(dirs.path, 'b1'), ctx.rig, (c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] }));
      if (transport === 'pct') {
        const made = await ctx.backend.createFromBundle('bound', b);
        assert.equal((ctx.rig.double.model.config(made.vmid) as Record<string, string>).mp0, '/srv/data,mp=/data,ro=1');
        await ctx.backend.delete('bound', false);
      } else {
        await assert.rejects(ctx.backend.createFromBundle('bound', b), (err: Error) => {
          assert.ok(err instanceof ProxmoxPermissionError);
          assert.equal((err as ProxmoxPermissionError).code, 'BERTH_ERR_PERMISSION');
          assert.match(err.message, /only root@pam.*mp0 \(bind mount of \/srv\/data\).*transport = "pct"/);
          return true;
        });
      }
      assertNothingLeft(ctx, 'bound', before);
    });

    test('containers from one cached image share one template keyed by its digest; the second reads no rootfs', async () => {
      const digest = newDigest();
      const before = uploads(ctx.rig).length;
      const a = await ctx.backend.createFromBundle('img-1', imageBundle(join(dirs.path, 'img-a'), ctx.rig, digest), { digest, volumes: [] });
      const tconf = ctx.rig.double.model.config(a.template) as Record<string, string>;
      assert.equal(tconf.description, `berth template\nimage: ${digest}\nunprivileged: 1`);
      assert.equal(tconf.tags, `berth;berth-img-${digest.slice(7, 23)}`);
      assert.deepEqual(uploads(ctx.rig).slice(before), [`berth-img-${digest.slice(7, 23)}.tar`], 'one tarball, for the template');
      assert.ok(ctx.backend.map.read().templates[`template:image:${digest}`], 'the template is in the VMID map under its digest');

      // The second bundle's rootfs is gone: a create that tarred or hashed it would fail.
      const second = imageBundle(join(dirs.path, 'img-b'), ctx.rig, digest);
      rmSync(join(second, 'rootfs'), { recursive: true });
      const c = await ctx.backend.createFromBundle('img-2', second, { digest, volumes: [] });
      assert.equal(c.template, a.template);
      assert.equal(c.linked, true);
      assert.match((ctx.rig.double.model.config(c.vmid) as Record<string, string>).rootfs!, new RegExp(`^local-zfs:basevol-${a.template}-disk-0/subvol-${c.vmid}-disk-0,`));
      assert.equal(uploads(ctx.rig).length, before + 1, 'no upload for the second container');
      assert.deepEqual(readdirSync(join(ctx.root, 'pve/tmp')), [], 'no work files');

      await ctx.backend.delete('img-1', false);
      await ctx.backend.delete('img-2', false);
      assertNothingLeft(ctx, 'img-2');
      assert.ok(templates(ctx.rig).includes(a.template), 'the template stays for the next container');
    });

    test('an annotation the runtime does not vouch for: keyed by the rootfs, the image template not claimed', async () => {
      const digest = newDigest();
      const real = await ctx.backend.createFromBundle('vouched', imageBundle(join(dirs.path, 'vouch-a'), ctx.rig, digest), { digest, volumes: [] });
      // A hand-made bundle with other content claims the same digest.
      const forged = bundle(join(dirs.path, 'vouch-b'), ctx.rig, (c) => (c.annotations = { [IMAGE_DIGEST_ANNOTATION]: digest }), 'other content');
      const f = await ctx.backend.createFromBundle('forged', forged);
      assert.notEqual(f.template, real.template);
      assert.match((ctx.rig.double.model.config(f.template) as Record<string, string>).description!, /^berth template\nkey: sha256:[0-9a-f]{64}\nunprivileged: 1$/);
      // …and the runtime vouching for another digest than the annotation's is no better.
      const g = await ctx.backend.createFromBundle('mismatch', forged, { digest: newDigest(), volumes: [] });
      assert.equal(g.template, f.template);
      for (const id of ['vouched', 'forged', 'mismatch']) await ctx.backend.delete(id, false);
      assertNothingLeft(ctx, 'forged');
    });

    test('a template whose description names another digest is not used; a new one is made', async () => {
      const digest = newDigest();
      const a = await ctx.backend.createFromBundle('tamper-1', imageBundle(join(dirs.path, 'tamper-a'), ctx.rig, digest), { digest, volumes: [] });
      await ctx.backend.delete('tamper-1', false);
      // Same tag (the digest's first 16 hex digits), another digest in the description.
      const other = `${digest.slice(0, 23)}${randomBytes(32).toString('hex').slice(16)}`;
      assert.notEqual(other, digest);
      await ctx.rig.proxmox.setConfig(a.template, { description: `berth template\nimage: ${other}\nunprivileged: 1` });
      const before = uploads(ctx.rig).length;
      const b = await ctx.backend.createFromBundle('tamper-2', imageBundle(join(dirs.path, 'tamper-b'), ctx.rig, digest), { digest, volumes: [] });
      assert.notEqual(b.template, a.template, 'the template naming another digest is not cloned');
      assert.equal(uploads(ctx.rig).length, before + 1, 'a new template was made from the rootfs');
      assert.equal((ctx.rig.double.model.config(b.template) as Record<string, string>).description, `berth template\nimage: ${digest}\nunprivileged: 1`);
      assert.ok(templates(ctx.rig).includes(a.template), 'the other template is left alone');
      await ctx.backend.delete('tamper-2', false);
      assertNothingLeft(ctx, 'tamper-2');
    });

    test('bad input: an image template that cannot be made, or a clone of it that fails → nothing left', async () => {
      const root = join(dirs.path, 'root-imgfail');
      const backend = backendFor(ctx.rig, root);
      const digest = newDigest();
      const b = imageBundle(join(dirs.path, 'imgfail'), ctx.rig, digest);
      const tBefore = templates(ctx.rig);
      const cBefore = containers(ctx.rig);
      ctx.rig.double.update((s) => (s.faults.failTask = { type: 'vzcreate', message: 'unpacking failed', log: ['tar: short read'] }));
      await assert.rejects(backend.createFromBundle('imgfail', b, { digest, volumes: [] }), /unable to create CT \d+ - unpacking failed/);
      assert.deepEqual(templates(ctx.rig), tBefore, 'no template half-made');
      assert.deepEqual(backend.map.read(), { version: 1, containers: {}, templates: {} }, 'no map entries');
      assertNothingLeft({ ...ctx, root, backend }, 'imgfail', cBefore);

      // The template is made now; the clone fails: the template stays, the container goes.
      const warm = await backend.createFromBundle('imgwarm', b, { digest, volumes: [] });
      await backend.delete('imgwarm', false);
      ctx.rig.double.update((s) => (s.faults.failTask = { type: 'vzclone', message: 'zfs error: out of space', log: [] }));
      await assert.rejects(backend.createFromBundle('imgclone', b, { digest, volumes: [] }), /clone failed: zfs error: out of space/);
      assertNothingLeft({ ...ctx, root, backend }, 'imgclone', cBefore);
      assert.deepEqual(Object.keys(backend.map.read().templates), [`template:image:${digest}`]);
      assert.ok(templates(ctx.rig).includes(warm.template));
    });

    /** A bundle with every setting the Proxmox container takes as devN or raw lxc keys. */
    const fidelity = (c: Record<string, any>): void => {
      c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'] };
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }];
      c.process.oomScoreAdj = 300;
      c.process.noNewPrivileges = true;
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      // /proc/kcore is missing on some hosts (skipped then, as runc does); /etc/marker is a file of the rootfs.
      c.linux.maskedPaths = ['/proc/version', '/etc/marker', '/proc/berth-none'];
      c.linux.devices = [{ path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o640, uid: 0, gid: 0 }, { path: '/dev/berth-fifo', type: 'p' }];
      c.linux.resources = { ...(c.linux.resources ?? {}), pids: { limit: 64 }, devices: [{ allow: false, access: 'rwm' }] };
    };

    test('capabilities, rlimits, oom, nnp, seccomp, sysctl, masked paths, devices, pids: carried by root (pct), refused before anything is made for a token (api)', async () => {
      const before = containers(ctx.rig);
      const tBefore = templates(ctx.rig);
      const upBefore = uploads(ctx.rig).length;
      const b = bundle(join(dirs.path, 'b-fidelity'), ctx.rig, fidelity, 'fidelity');
      const policy = join(ctx.root, 'pve/seccomp/fidelity.policy');
      if (transport === 'pct') {
        const made = await ctx.backend.createFromBundle('fidelity', b);
        const conf = ctx.rig.double.model.config(made.vmid) as Record<string, string>;
        assert.equal(conf.dev0, '/dev/zero,mode=0640,uid=0,gid=0', 'the node has /dev/zero 1:5: devN');
        const text = readFileSync(ctx.rig.double.model.confPath(made.vmid), 'utf8');
        for (const line of [
          'lxc.cap.drop: ',
          'lxc.cap.keep: chown kill',
          'lxc.prlimit.nofile: 512:1024',
          'lxc.proc.oom_score_adj: 300',
          'lxc.no_new_privs: 1',
          `lxc.seccomp.profile: ${policy}`,
          'lxc.cgroup2.pids.max: 64',
          'lxc.cgroup2.devices.deny: a',
          'lxc.cgroup2.devices.allow: c 1:5 rwm',
          'lxc.mount.entry: /dev/null proc/version none bind,ro,optional 0 0',
          'lxc.mount.entry: /dev/null etc/marker none bind,ro,optional 0 0',
        ]) assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
        assert.match(text, /^lxc\.hook\.mount: printf '%s' '1' > '\/proc\/sys\/net\/ipv4\/ip_forward' #$/m);
        assert.match(text, /^lxc\.hook\.autodev: .*mknod -m 666 "\$\{LXC_ROOTFS_MOUNT\}"'\/dev\/berth-fifo' p/m, 'a FIFO has no devN: the mapping\'s hook');
        assert.doesNotMatch(text, /mknod[^\n]*\/dev\/zero/, '/dev/zero is devN, not also a hook');
        assert.doesNotMatch(text, /__BERTH_VMID__|^lxc\.(rootfs|net|idmap|autodev|namespace|uts)[.:]/m, 'nothing of Proxmox\'s own setup written again');
        assert.doesNotMatch(text, /berth-none/, 'a masked path that is not there is skipped');
        assert.match(readFileSync(policy, 'utf8'), /^2\n[\s\S]*mkdir errno/);
        await ctx.backend.start('fidelity');
        await ctx.backend.delete('fidelity', true);
        assert.equal(existsSync(policy), false, 'the policy file goes with the container');
      } else {
        await assert.rejects(ctx.backend.createFromBundle('fidelity', b), (err: Error) => {
          assert.ok(err instanceof ProxmoxPermissionError, `${err.name}: ${err.message}`);
          for (const k of ['dev0 (device passthrough)', 'lxc.seccomp.profile', 'lxc.cgroup2.pids.max', 'lxc.hook.mount', 'lxc.hook.autodev']) {
            assert.ok(err.message.includes(k), `${k} named in: ${err.message}`);
          }
          // Proxmox's own confinement stands in for these through a token (degradations, not refusals).
          for (const k of ['lxc.cap.keep', 'lxc.prlimit.nofile', 'lxc.no_new_privs', 'lxc.mount.entry']) assert.ok(!err.message.includes(k), `${k} not refused: ${err.message}`);
          return true;
        });
        assert.deepEqual(templates(ctx.rig), tBefore, 'no template made');
        assert.equal(uploads(ctx.rig).length, upBefore, 'nothing uploaded');
        assert.equal(existsSync(policy), false);
      }
      assertNothingLeft(ctx, 'fidelity', before);
    });

    if (transport === 'pct') {
      test('the double, as pve-container: devN needs Proxmox VE 8.1 and a path under /dev', async () => {
        const made = await ctx.backend.createFromBundle('devpath', bundle(join(dirs.path, 'b-devpath'), ctx.rig, undefined, 'devpath'));
        await assert.rejects(ctx.rig.proxmox.setConfig(made.vmid, { dev0: '/etc/passwd' }), /dev0/);
        await ctx.rig.proxmox.setConfig(made.vmid, { dev0: '/dev/zero,mode=0660,uid=0,gid=0' });
        ctx.rig.double.update((st) => (st.release = '8.0'));
        try {
          await assert.rejects(ctx.rig.proxmox.setConfig(made.vmid, { dev1: '/dev/zero' }), /dev1/);
        } finally {
          ctx.rig.double.update((st) => (st.release = '9.1'));
        }
        await ctx.backend.delete('devpath', false);
      });

      test('raw lxc keys (tmpfs, cwd, user) are appended to the config file by root', async () => {
        const made = await ctx.backend.createFromBundle('rawkeys', bundle(join(dirs.path, 'b1'), ctx.rig, (c) => {
          c.process.cwd = '/srv';
          c.process.user = { uid: 1000, gid: 1000 };
        }));
        const text = readFileSync(ctx.rig.double.model.confPath(made.vmid), 'utf8');
        assert.match(text, /^lxc\.init\.cwd: \/srv$/m);
        assert.match(text, /^lxc\.init\.uid: 1000$/m);
        assert.match(text, /^lxc\.mount\.entry: tmpfs tmp tmpfs nosuid,nodev,mode=1777,create=dir 0 0$/m);
        await ctx.backend.delete('rawkeys', false);
      });
    }

    if (transport === 'api') {
      test('bad input: a task that never finishes → a timeout naming the task, nothing left', async () => {
        const before = containers(ctx.rig);
        const backend = backendFor({ ...ctx.rig, proxmox: ctx.rig.apiTransport!({ taskTimeoutMs: 300 }) }, ctx.root);
        ctx.rig.double.update((s) => (s.faults.hangTasks = ['vzclone']));
        try {
          await assert.rejects(backend.createFromBundle('slow', bundle(join(dirs.path, 'b1'), ctx.rig)), (err: Error) => {
            assert.ok(err instanceof ProxmoxTimeoutError, `${err.name}: ${err.message}`);
            assert.equal((err as ProxmoxTimeoutError).code, 'BERTH_ERR_TIMEOUT');
            assert.match(err.message, /task clone of CT \d+ to \d+ \(UPID:pve:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzclone:\d+:berth@pve!ci:\) did not finish within 0\.3 s/);
            return true;
          });
        } finally {
          ctx.rig.double.update((s) => delete s.faults.hangTasks);
        }
        assertNothingLeft(ctx, 'slow', before);
      });

      test('the double, as pve-container: a token may set nesting alone; keyctl or fuse is root@pam only', async () => {
        const made = await ctx.backend.createFromBundle('features', bundle(join(dirs.path, 'b-features'), ctx.rig, undefined, 'features'));
        for (const features of ['nesting=1,keyctl=1', 'nesting=1,fuse=1']) {
          await assert.rejects(ctx.rig.proxmox.setConfig(made.vmid, { features }), (err: Error) => {
            assert.ok(err instanceof ProxmoxPermissionError, `${err.name}: ${err.message}`);
            assert.match(err.message, /changing feature flags \(except nesting\) is only allowed for root@pam/);
            return true;
          });
        }
        await ctx.rig.proxmox.setConfig(made.vmid, { features: 'nesting=0' });
        assert.equal((ctx.rig.double.model.config(made.vmid) as Record<string, string>).features, 'nesting=0');
        await ctx.backend.delete('features', false);
      });

      test('the double, as pve-container: devN is root@pam only, and no API call sets raw lxc keys', async () => {
        const made = await ctx.backend.createFromBundle('devn', bundle(join(dirs.path, 'b-devn'), ctx.rig, undefined, 'devn'));
        await assert.rejects(ctx.rig.proxmox.setConfig(made.vmid, { dev0: '/dev/zero,mode=0660' }), /configuring device passthrough is only allowed for root@pam/);
        await assert.rejects(ctx.rig.proxmox.setConfig(made.vmid, { 'lxc.cap.keep': 'chown' }), /400 Parameter verification failed.*not defined in schema/);
        await assert.rejects(ctx.rig.proxmox.appendLxc(made.vmid, [{ key: 'lxc.cap.keep', value: 'chown' }]), /root|node|file|API/i);
        await ctx.backend.delete('devn', false);
      });

      test('bad input: a token without permission (403) → a permission error, nothing left', async () => {
        const before = containers(ctx.rig);
        const backend = backendFor({ ...ctx.rig, proxmox: ctx.rig.apiTransport!({ token: `auditor@pve!ro=${ctx.rig.secret}` }) }, join(dirs.path, 'root-403'));
        await assert.rejects(backend.createFromBundle('denied', bundle(join(dirs.path, 'b4'), ctx.rig, undefined, 'denied')), (err: Error) => {
          assert.ok(err instanceof ProxmoxPermissionError, `${err.name}: ${err.message}`);
          assert.match(err.message, /token auditor@pve!ro may not POST .*403 Permission check failed/);
          return true;
        });
        assertNothingLeft({ ...ctx, root: join(dirs.path, 'root-403'), backend }, 'denied', before);
      });
    }
  });
}
