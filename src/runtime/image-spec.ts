// The config.json of a container made from an image: the image's defaults (Entrypoint, Cmd, Env,
// WorkingDir, User, StopSignal) under the user's overrides, which always win. Pure: the caller
// resolves the user inside the rootfs and writes the result.
import { InvalidArgumentError } from '../core/errors.js';
import { IMAGE_DIGEST_ANNOTATION, STOP_SIGNAL_ANNOTATION } from '../core/oci/annotations.js';
import { defaultRuntimeConfig } from '../core/oci/default-spec.js';
import type { ImageConfigSummary } from '../images/index.js';
import type { ImageUser } from './image-user.js';

/** What the spec needs of an image config (image-spec `config` object). */
export type ImageDefaults = Pick<ImageConfigSummary, 'Entrypoint' | 'Cmd' | 'Env' | 'User' | 'WorkingDir' | 'StopSignal'>;

/** What the user asked for on the command line; each field beats the image's default. */
export interface ImageOverrides {
  /** The command's arguments (after `--`): they replace Cmd; Entrypoint stays. */
  args: string[];
  /** KEY=VALUE; a key set here replaces the image's value. */
  env: string[];
  cwd: string | undefined;
  user: string | undefined;
  hostname: string | undefined;
  /** Memory limit in bytes. */
  memory: number | undefined;
  /** CPUs, e.g. 1.5. */
  cpus: number | undefined;
  tty: boolean;
}

export { IMAGE_DIGEST_ANNOTATION };
export const IMAGE_REF_ANNOTATION = 'run.berth.image.ref';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const CPU_PERIOD_US = 100_000;

/** Checks what can be checked before anything is made, so a bad flag leaves nothing behind. */
export function validateOverrides(o: ImageOverrides): void {
  for (const e of o.env) envKey(e, '--env');
  if (o.cwd !== undefined && !o.cwd.startsWith('/')) throw new InvalidArgumentError(`--cwd "${o.cwd}" must be an absolute path`);
  if (o.hostname !== undefined && (o.hostname.length > 253 || !HOSTNAME.test(o.hostname))) {
    throw new InvalidArgumentError(`--hostname "${o.hostname}" is not a valid host name`);
  }
  if (o.memory !== undefined && (!Number.isSafeInteger(o.memory) || o.memory < 4 * 1024 * 1024)) {
    throw new InvalidArgumentError(`--memory must be at least 4M, got ${o.memory} bytes`);
  }
  if (o.cpus !== undefined && (!Number.isFinite(o.cpus) || o.cpus < 0.01)) throw new InvalidArgumentError(`--cpus must be at least 0.01, got ${o.cpus}`);
}

function envKey(entry: string, where: string): string {
  const eq = entry.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`${where} "${entry}" is not of the form KEY=VALUE`);
  return entry.slice(0, eq);
}

/** Image env, PATH if the image sets none, then the user's: later keys replace earlier ones. */
export function mergeEnv(image: readonly string[], user: readonly string[]): string[] {
  const merged = new Map<string, string>();
  for (const e of image) {
    const eq = e.indexOf('=');
    if (eq > 0) merged.set(e.slice(0, eq), e);
  }
  if (!merged.has('PATH')) merged.set('PATH', DEFAULT_PATH);
  for (const e of user) merged.set(envKey(e, '--env'), e);
  return [...merged.values()];
}

/** Entrypoint + (the user's args, else Cmd), as `docker run IMAGE ARGS` does. */
export function processArgs(image: ImageDefaults, userArgs: readonly string[]): string[] {
  const args = [...(image.Entrypoint ?? []), ...(userArgs.length > 0 ? userArgs : (image.Cmd ?? []))];
  if (args.length === 0) throw new InvalidArgumentError('the image has no Entrypoint or Cmd: give the command after --');
  return args;
}

export function hostnameFor(id: string, override: string | undefined): string {
  if (override !== undefined) return override;
  return id.length <= 63 && HOSTNAME.test(id) ? id : 'berth';
}

export interface ImageSpecInput {
  id: string;
  /** Absolute path of the container's rootfs (its volume). */
  rootfs: string;
  digest: string;
  ref: string | undefined;
  image: ImageDefaults;
  overrides: ImageOverrides;
  user: ImageUser;
}

export function specFromImage(input: ImageSpecInput): Record<string, unknown> {
  const { image, overrides: o } = input;
  const spec = defaultRuntimeConfig() as {
    process: Record<string, unknown>;
    root: Record<string, unknown>;
    hostname: string;
    annotations?: Record<string, string>;
    linux: { resources: Record<string, unknown> };
  };
  spec.process.terminal = o.tty;
  spec.process.args = processArgs(image, o.args);
  spec.process.env = mergeEnv(image.Env ?? [], o.env);
  spec.process.cwd = o.cwd ?? (image.WorkingDir || '/');
  spec.process.user = {
    uid: input.user.uid,
    gid: input.user.gid,
    ...(input.user.additionalGids.length > 0 ? { additionalGids: input.user.additionalGids } : {}),
  };
  // The container's volume is its own writable clone.
  spec.root = { path: input.rootfs, readonly: false };
  spec.hostname = hostnameFor(input.id, o.hostname);
  if (o.memory !== undefined) spec.linux.resources.memory = { limit: o.memory };
  if (o.cpus !== undefined) spec.linux.resources.cpu = { quota: Math.round(o.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US };
  const annotations: Record<string, string> = { [IMAGE_DIGEST_ANNOTATION]: input.digest };
  if (input.ref !== undefined) annotations[IMAGE_REF_ANNOTATION] = input.ref;
  if (image.StopSignal) annotations[STOP_SIGNAL_ANNOTATION] = image.StopSignal;
  spec.annotations = annotations;
  return spec;
}
