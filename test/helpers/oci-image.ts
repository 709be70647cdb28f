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
