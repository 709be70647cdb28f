// The LXC config being built from an OCI config: its entries and what could not be mapped.
// Shared by the mapping's parts (lxc-mapping.ts, lxc-resources.ts).
import { InvalidArgumentError } from '../../core/errors.js';
import type { LxcConfigEntry, LxcDegradation } from './lxc-mapping.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export class Builder {
  readonly entries: LxcConfigEntry[] = [];
  readonly degradations: LxcDegradation[] = [];

  /** Adds key = value; `field` names the OCI field the value came from, for the error. */
  add(key: string, value: string | number, field: string): void {
    const v = String(value);
    if (/[\n\r\0]/.test(v)) throw new InvalidArgumentError(`${field}: LXC config values cannot hold a newline or NUL (${JSON.stringify(v)})`);
    if (v !== v.trim() && /^[ \t]|[ \t]$/.test(v)) {
      throw new InvalidArgumentError(`${field}: LXC trims spaces and tabs around config values, so ${JSON.stringify(v)} cannot be passed`);
    }
    this.entries.push({ key, value: v });
  }

  degrade(field: string, reason: string): void {
    this.degradations.push({ field, reason });
  }
}
