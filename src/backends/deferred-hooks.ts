// Hooks a backend takes out of its engine's config at create and runs itself later, where the
// engine runs them at the wrong moment or with the wrong state (runc 1.1: poststart at create;
// crun 1.8: startContainer racing its own poststart, with status "starting" and bundle "/").
// They wait in a file under the engine's state directory (<root>/<engine>/.<kind>/<id>) from
// create until start or delete, so a later berth process finds them.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../core/errors.js';
import { errorFields, log } from '../core/log.js';
import type { HookKind, OciHook } from './oci-hooks.js';

export interface Deferred {
  hooks: OciHook[];
  ociVersion: string;
  /** The user's bundle, as the spec's state names it. */
  bundle: string;
  annotations: Record<string, string>;
}

type Json = Record<string, unknown>;

/** The config without its hooks of `kind`, and the hooks it had (the input is not changed). */
export function withoutHooks(config: Json, kind: HookKind): { config: Json; hooks: OciHook[] } {
  const all = config.hooks as Record<string, OciHook[] | undefined> | undefined;
  const hooks = all?.[kind] ?? [];
  if (hooks.length === 0) return { config, hooks };
  const { [kind]: _dropped, ...rest } = all as Json;
  return { config: { ...config, hooks: rest }, hooks };
}

/** What `Deferred` needs of a config, besides the hooks. */
export function deferredOf(config: Json, bundle: string, hooks: OciHook[]): Deferred {
  return { hooks, ociVersion: String(config.ociVersion), bundle, annotations: (config.annotations as Record<string, string> | undefined) ?? {} };
}

export class DeferredHooks<T extends Deferred = Deferred> {
  constructor(
    protected readonly stateDir: string,
    private readonly kind: HookKind,
    protected readonly backend: string,
  ) {}

  protected file(id: string): string {
    return join(this.stateDir, `.${this.kind}`, id);
  }

  save(id: string, deferred: T): void {
    mkdirSync(join(this.stateDir, `.${this.kind}`), { recursive: true, mode: 0o700 });
    writeFileSync(this.file(id), JSON.stringify(deferred), { mode: 0o600 });
  }

  forget(id: string): void {
    rmSync(this.file(id), { force: true });
  }

  /** The hooks saved for `id`; undefined when there are none (or they cannot be read: a warning). */
  async load(id: string): Promise<T | undefined> {
    try {
      return JSON.parse(readFileSync(this.file(id), 'utf8')) as T;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      await log('warn', `${this.backend}: the ${this.kind} hooks of "${id}" cannot be read; they do not run`, { id, backend: this.backend, ...errorFields(err) });
      return undefined;
    }
  }
}
