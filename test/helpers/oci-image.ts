// A busybox OCI image built by hand (OCI image layout in a tar, as `ctr images import` takes it):
// one gzip layer made with `tar` from makeBusyboxRootfs, an image config, a manifest, an index.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Containerd } from './containerd.js';
import { makeBusyboxRootfs } from './bundle.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface OciImageOptions {
  /** The image's default command. */
  cmd?: string[];
  /** Tag stored as org.opencontainers.image.ref.name in index.json. */
  tag?: string;
}

export interface OciArchive {
  /** The tar file to import. */
  file: string;
  tag: string;
  manifest: Descriptor;
}

const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

export function ociArch(arch = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Writes a blob into layout/blobs/sha256 and returns its descriptor. */
function putBlob(layout: string, mediaType: string, data: Buffer): Descriptor {
  const digest = sha256(data);
  writeFileSync(join(layout, 'blobs/sha256', digest.slice('sha256:'.length)), data);
  return { mediaType, digest, size: data.length };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Builds the OCI layout under `workDir`/layout and tars it to `workDir`/busybox-oci.tar. */
export function buildBusyboxOciArchive(workDir: string, options: OciImageOptions = {}): OciArchive {
  const tag = options.tag ?? 'latest';
  const rootfs = join(workDir, 'rootfs');
  const layout = join(workDir, 'layout');
  makeBusyboxRootfs(rootfs);
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });

  // The layer: a plain tar of the rootfs owned by root, then gzip (diff_id is the plain tar's).
  const layerTar = join(workDir, 'layer.tar');
  execFileSync('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-cf', layerTar, '.']);
  const plain = readFileSync(layerTar);
  const layer = putBlob(layout, MT.layerGzip, gzipSync(plain));

  const created = new Date().toISOString();
  const config = putBlob(
    layout,
    MT.config,
    json({
      created,
      architecture: ociArch(),
      os: 'linux',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: options.cmd ?? ['sh'],
        WorkingDir: '/',
      },
      rootfs: { type: 'layers', diff_ids: [sha256(plain)] },
      history: [{ created, created_by: 'berth test helper: busybox-static rootfs' }],
    }),
  );
  const manifest = putBlob(layout, MT.manifest, json({ schemaVersion: 2, mediaType: MT.manifest, config, layers: [layer] }));
  const entry: Descriptor = {
    ...manifest,
    platform: { architecture: ociArch(), os: 'linux' },
    annotations: { 'org.opencontainers.image.ref.name': tag },
  };
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [entry] }));

  const file = join(workDir, 'busybox-oci.tar');
  execFileSync('tar', ['-C', layout, '-cf', file, 'oci-layout', 'index.json', 'blobs']);
  return { file, tag, manifest };
}

/**
 * Imports the archive as `<baseName>:<tag>`. ctr 1.6 names an OCI layout's manifests from
 * their org.opencontainers.image.ref.name annotation: a bare tag gets `--base-name` prefixed
 * (`localhost/busybox` + `latest` → `localhost/busybox:latest`); without --base-name nothing
 * would be named. Returns the image reference.
 */
export async function importImage(containerd: Containerd, archive: OciArchive, baseName = 'localhost/busybox'): Promise<string> {
  await containerd.ctrOk(['images', 'import', '--base-name', baseName, archive.file], { timeoutMs: 120_000 });
  const ref = `${baseName}:${archive.tag}`;
  const names = (await containerd.ctrOk(['images', 'ls', '-q'])).split('\n');
  if (!names.includes(ref)) throw new Error(`ctr images import did not create ${ref}; images: ${names.filter(Boolean).join(', ')}`);
  return ref;
}

// ---- General OCI layouts for the image cache tests: layers from entry lists or directories,
// gzip/zstd/plain, several platforms, nested indexes, a tar of the layout. ----

export interface TarEntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export type Compression = 'none' | 'gzip' | 'zstd';

export interface LayerSpec {
  /** Entries written as given (names are not sanitized: malicious layers are built this way). */
  entries?: TarEntrySpec[];
  /** Or a directory tarred by GNU tar (numeric owners kept). */
  dir?: string;
  compression?: Compression;
  /** Overrides the media type (e.g. an unknown one). */
  mediaType?: string;
}

export interface ImageSpec {
  layers: LayerSpec[];
  platform?: { os: string; architecture: string; variant?: string };
  config?: Record<string, unknown>;
  created?: string;
  /** org.opencontainers.image.ref.name in index.json (what `umoci unpack --image LAYOUT:TAG` finds). */
  tag?: string;
}

export interface LayoutSpec {
  images: ImageSpec[];
  /** Put the manifests in a nested index (as multi-platform images are). */
  nested?: boolean;
  /** Also write LAYOUT.tar. */
  tar?: boolean;
  /** Docker v2 schema 2 media types instead of OCI ones. */
  docker?: boolean;
}

export interface BuiltLayout {
  layout: string;
  tarFile: string | undefined;
  manifests: Descriptor[];
  /** blobs/sha256/<hex> of a digest, for tests that damage blobs. */
  blobPath(digest: string): string;
  /** Each image's layer descriptors. */
  layers: Descriptor[][];
}

const LAYER_MT: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

/** A tar of the entries, in order, exactly as given (tar-stream's pack). */
export async function tarOf(entries: TarEntrySpec[]): Promise<Buffer> {
  const tar = (await import('tar-stream')).default;
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? new Date('2024-01-02T03:04:05Z'),
        linkname: e.linkname,
        devmajor: e.devmajor,
        devminor: e.devminor,
        pax: e.pax,
        size: content?.length ?? 0,
      };
      pack.entry(header, content ?? Buffer.alloc(0), (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

function compress(data: Buffer, c: Compression): Buffer {
  if (c === 'gzip') return gzipSync(data);
  if (c === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 2 ** 31 });
  return data;
}

export async function buildOciLayout(workDir: string, spec: LayoutSpec): Promise<BuiltLayout> {
  const layout = join(workDir, 'layout');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const manifests: Descriptor[] = [];
  const allLayers: Descriptor[][] = [];
  // A directory used by several images is tarred once: GNU tar's pax headers carry access
  // times, so a second tar of it would differ, and the images would share no layer.
  const dirTars = new Map<string, Buffer>();
  for (const [n, image] of spec.images.entries()) {
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (const [i, l] of image.layers.entries()) {
      let plain: Buffer;
      if (l.dir) {
        const file = join(workDir, `layer-${n}-${i}.tar`);
        if (!dirTars.has(l.dir)) {
          execFileSync('tar', ['-C', l.dir, '--numeric-owner', '--sort=name', '--xattrs', '-cf', file, '.']);
          dirTars.set(l.dir, readFileSync(file));
        }
        plain = dirTars.get(l.dir)!;
      } else {
        plain = await tarOf(l.entries ?? []);
      }
      diffIds.push(sha256(plain));
      const c = l.compression ?? 'gzip';
      const mt = l.mediaType ?? (spec.docker ? (c === 'gzip' ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.docker.image.rootfs.diff.tar') : LAYER_MT[c]);
      layers.push(putBlob(layout, mt, compress(plain, c)));
    }
    const platform = image.platform ?? { architecture: ociArch(), os: 'linux' };
    const config = putBlob(
      layout,
      spec.docker ? 'application/vnd.docker.container.image.v1+json' : MT.config,
      json({
        created: image.created ?? '2024-01-02T03:04:05Z',
        ...platform,
        config: image.config ?? { Cmd: ['sh'], Env: ['PATH=/bin'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    );
    const mmt = spec.docker ? 'application/vnd.docker.distribution.manifest.v2+json' : MT.manifest;
    const manifest = putBlob(layout, mmt, json({ schemaVersion: 2, mediaType: mmt, config, layers }));
    manifests.push({ ...manifest, platform, ...(image.tag ? { annotations: { 'org.opencontainers.image.ref.name': image.tag } } : {}) });
    allLayers.push(layers);
  }
  let top: Descriptor[] = manifests;
  if (spec.nested) top = [putBlob(layout, MT.index, json({ schemaVersion: 2, mediaType: MT.index, manifests }))];
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: top }));
  let tarFile: string | undefined;
  if (spec.tar) {
    tarFile = join(workDir, 'layout.tar');
    execFileSync('tar', ['-C', layout, '-cf', tarFile, 'oci-layout', 'index.json', 'blobs']);
  }
  return { layout, tarFile, manifests, layers: allLayers, blobPath: (d) => join(layout, 'blobs/sha256', d.slice('sha256:'.length)) };
}

/** A busybox rootfs as a layer directory, plus a few files of known owners and modes. */
export function busyboxLayerDir(dir: string): string {
  makeBusyboxRootfs(dir);
  return dir;
}
