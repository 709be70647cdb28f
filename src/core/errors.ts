// One error family for all of berth. Every error has a stable `code`, a message that names the
// thing that is wrong, and keeps its `cause` so logs can show the whole chain.

export type ErrorCode =
  | 'BERTH_ERR_USAGE'
  | 'BERTH_ERR_INVALID_ID'
  | 'BERTH_ERR_INVALID_BUNDLE'
  | 'BERTH_ERR_INVALID_CONFIG'
  | 'BERTH_ERR_INVALID_ARGUMENT'
  | 'BERTH_ERR_INVALID_SIGNAL'
  | 'BERTH_ERR_NOT_FOUND'
  | 'BERTH_ERR_EXISTS'
  | 'BERTH_ERR_STATE'
  | 'BERTH_ERR_UNKNOWN_BACKEND'
  | 'BERTH_ERR_BACKEND_UNAVAILABLE'
  | 'BERTH_ERR_UNSUPPORTED'
  | 'BERTH_ERR_BACKEND'
  | 'BERTH_ERR_BUSY'
  | 'BERTH_ERR_TOOL'
  | 'BERTH_ERR_STORAGE'
  | 'BERTH_ERR_STORAGE_FULL'
  | 'BERTH_ERR_INVALID_IMAGE'
  | 'BERTH_ERR_AUTH'
  | 'BERTH_ERR_PERMISSION'
  | 'BERTH_ERR_UNREACHABLE'
  | 'BERTH_ERR_TIMEOUT'
  | 'BERTH_ERR_INTERNAL';

export class BerthError extends Error {
  readonly code: ErrorCode;
  /**
   * Lines for a person, shown under the one-line message on a text stderr (a config file's line
   * with a caret under the fault); the message alone stays one line for the clients that parse it.
   */
  readonly detail: string | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: string }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    this.detail = options?.detail;
  }
}

/** Bad command line: unknown verb or flag, missing argument. */
export class UsageError extends BerthError {
  constructor(message: string) {
    super('BERTH_ERR_USAGE', message);
  }
}

export class InvalidIdError extends BerthError {
  constructor(message: string) {
    super('BERTH_ERR_INVALID_ID', message);
  }
}

/** The bundle directory, its config.json or its rootfs is missing or malformed. */
export class InvalidBundleError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_INVALID_BUNDLE', message, options);
  }
}

/** berth's own configuration file is unreadable or invalid. */
export class InvalidConfigError extends BerthError {
  constructor(message: string, options?: { cause?: unknown; detail?: string }) {
    super('BERTH_ERR_INVALID_CONFIG', message, options);
  }
}

export class InvalidArgumentError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_INVALID_ARGUMENT', message, options);
  }
}

export class InvalidSignalError extends BerthError {
  constructor(message: string) {
    super('BERTH_ERR_INVALID_SIGNAL', message);
  }
}

export class ContainerNotFoundError extends BerthError {
  /** A directory without a record was there (what a killed create left): it may have left a volume too. */
  readonly leftDirectory: boolean;
  constructor(id: string, opts: { leftDirectory?: boolean } = {}) {
    super('BERTH_ERR_NOT_FOUND', `container "${id}" does not exist`);
    this.leftDirectory = opts.leftDirectory === true;
  }
}

export class ContainerExistsError extends BerthError {
  constructor(id: string) {
    super('BERTH_ERR_EXISTS', `container "${id}" already exists`);
  }
}

/** The container is in a status that does not allow the operation. */
export class ContainerStateError extends BerthError {
  constructor(message: string) {
    super('BERTH_ERR_STATE', message);
  }
}

export class UnknownBackendError extends BerthError {
  constructor(name: string, known: readonly string[], suggestion = '') {
    super('BERTH_ERR_UNKNOWN_BACKEND', `unknown backend "${name}" (known backends: ${known.join(', ')})${suggestion}`);
  }
}

/** A known backend that cannot be used on this host (binary missing, library unloadable). */
export class BackendUnavailableError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_BACKEND_UNAVAILABLE', message, options);
  }
}

/** The backend cannot do this operation at all (a stated capability). */
export class UnsupportedError extends BerthError {
  constructor(message: string) {
    super('BERTH_ERR_UNSUPPORTED', message);
  }
}

/** The backend tried and failed; the message carries the backend's own words. */
export class BackendError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_BACKEND', message, options);
  }
}

/** Another process holds a lock (a container's, an image's) for too long; `holder` names it when known. */
export class BusyError extends BerthError {
  constructor(
    message: string,
    readonly holder?: { pid: number; startTime: number | undefined; command: string },
  ) {
    super('BERTH_ERR_BUSY', message);
  }
}

/** An external tool could not be run or exited non-zero. */
export class ToolError extends BerthError {
  readonly exitCode: number | null;
  readonly stderr: string;
  /** The command line that failed, when known (logged with the error; secrets redacted there). */
  readonly argv: readonly string[] | undefined;
  constructor(message: string, details: { exitCode: number | null; stderr: string; argv?: readonly string[]; cause?: unknown }) {
    super('BERTH_ERR_TOOL', message, { cause: details.cause });
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
    this.argv = details.argv;
  }
}

/** A storage driver (zfs, dir) failed; the message names the volume or dataset and the tool's words. */
export class StorageError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_STORAGE', message, options);
  }
}

/** A rollback to a snapshot that later ones follow, refused unless they may be destroyed. */
export class NewerSnapshotsError extends BerthError {
  constructor(message: string, readonly newer: readonly string[], options?: { cause?: unknown }) {
    super('BERTH_ERR_STATE', message, options);
  }
}

/** The pool or file system that holds berth's volumes has no space left. */
export class StorageFullError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_STORAGE_FULL', message, options);
  }
}

/**
 * A file system berth writes its own files to (the state root, a container's record) is full
 * (ENOSPC, EDQUOT). The message names the file; nothing half-written is left (atomic-file.ts).
 */
export class NoSpaceError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_STORAGE_FULL', message, options);
  }
}

/** A verb that changes the host (cgroups, namespaces, mounts, root-owned state) run by another user. */
export class RootRequiredError extends BerthError {
  constructor(message: string) {
    super('BERTH_ERR_PERMISSION', message);
  }
}

/** A file system berth must write to (the state root) is mounted read-only (EROFS). */
export class ReadOnlyFileSystemError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_PERMISSION', message, options);
  }
}

/** A storage volume (an image template, a container volume, a snapshot) that does not exist. */
export class VolumeNotFoundError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_NOT_FOUND', message, options);
  }
}

/** A storage volume or snapshot of that name already exists. */
export class VolumeExistsError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_EXISTS', message, options);
  }
}

/** An OCI image (layout, manifest, blob, layer) that is malformed, unsupported or unsafe to unpack. */
export class ImageError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_INVALID_IMAGE', message, options);
  }
}

/** No cached image by that ref, digest or digest prefix. */
export class ImageNotFoundError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_NOT_FOUND', message, options);
  }
}

/** The image still has container volumes (remove refused without --force). */
export class ImageInUseError extends BerthError {
  constructor(message: string) {
    super('BERTH_ERR_STATE', message);
  }
}

export class InternalError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BERTH_ERR_INTERNAL', message, options);
  }
}

/** A container record that cannot be read as one: torn, not an object, or a field of the wrong type. */
export class CorruptRecordError extends InternalError {
  constructor(
    readonly id: string,
    readonly path: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(`container record ${path} is corrupt: ${why}; \`berth delete --force ${id}\` removes the container and what its backend keeps of it`, options);
  }
}

/** The messages of an error and its causes, outermost first. */
export function causeChain(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== undefined && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    out.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}

/** Node system errors carry a string `code` such as ENOENT. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
