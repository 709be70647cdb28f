// Platforms as `os/arch[/variant]`: the one asked for (--platform) or this host's.
import { InvalidArgumentError } from '../core/errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_TO_OCI: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** This host's platform in OCI terms (linux/amd64 here). */
export function hostPlatform(): Platform {
  return { os: 'linux', architecture: NODE_TO_OCI[process.arch] ?? process.arch };
}

export function parsePlatform(text: string | undefined): Platform {
  if (text === undefined) return hostPlatform();
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new InvalidArgumentError(`platform "${text}" is not of the form os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`);
  }
  return parts[2] === undefined ? { os: parts[0]!, architecture: parts[1]! } : { os: parts[0]!, architecture: parts[1]!, variant: parts[2] };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** A wanted platform without a variant matches any variant. */
export function platformMatches(have: Partial<Platform> | undefined, want: Platform): boolean {
  if (!have) return false;
  return have.os === want.os && have.architecture === want.architecture && (want.variant === undefined || have.variant === want.variant);
}
