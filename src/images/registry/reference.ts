// Image references `[registry[:port]/]repo[:tag][@sha256:…]` with Docker Hub's short names:
// no registry part → docker.io, a one-component repo on Docker Hub → library/NAME,
// index.docker.io → docker.io (its API host is registry-1.docker.io). Default tag: latest.
import { InvalidArgumentError } from '../../core/errors.js';
import { parseDigest } from '../digest.js';

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface ImageReference {
  /** Host[:port] as written (docker.io for Docker Hub). */
  registry: string;
  /** The repository path, e.g. library/alpine. */
  repository: string;
  /** The tag; undefined when a digest names the manifest. */
  tag: string | undefined;
  digest: string | undefined;
}

// The distribution spec's grammar (docker/distribution reference/regexp.go), simplified to
// what is checked here: lower-case path components joined by . _ __ - separators.
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;

function bad(text: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`image reference ${JSON.stringify(text)} ${why} (write [REGISTRY/]REPO[:TAG] or REPO@sha256:DIGEST, e.g. docker.io/library/alpine:3.19 or 127.0.0.1:5000/app:1)`);
}

/**
 * `defaultRegistry` ([registries] default) takes the names without a registry part; Docker Hub's
 * `library/` rule applies only when that is Docker Hub.
 */
export function parseReference(text: string, defaultRegistry: string = DOCKER_HUB): ImageReference {
  if (text === '' || /\s/.test(text)) throw bad(text, 'is empty or has spaces');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest, 'the reference');
    } catch {
      throw bad(text, `has an unusable digest "${digest}" (expected sha256:<64 hex digits>)`);
    }
  }
  // The first component is a registry if it looks like a host: a dot, a port, or localhost.
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  let registry = defaultRegistry === 'index.docker.io' ? DOCKER_HUB : defaultRegistry;
  if (slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    if (!HOST.test(first)) throw bad(text, `has an unusable registry host "${first}"`);
    registry = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(text, `has an unusable tag "${tag}" (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (rest === '') throw bad(text, 'names no repository');
  const components = rest.split('/');
  for (const c of components) {
    if (!COMPONENT.test(c)) {
      throw bad(text, /[A-Z]/.test(c) ? `has upper-case letters in "${c}" (repository names are lower case)` : `has an unusable repository component "${c}"`);
    }
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && components.length === 1) rest = `library/${rest}`;
  if (rest.length > 255) throw bad(text, 'has a repository name longer than 255 characters');
  return { registry, repository: rest, tag: tag ?? (digest === undefined ? 'latest' : undefined), digest };
}

/** `registry/repo:tag`, `registry/repo@digest`, or both: the name recorded in the cache. */
export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** What the manifest is fetched by: the digest when there is one (it wins over a tag). */
export function manifestReference(r: ImageReference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** True when the reference names its registry (its first component is a host), not a short name. */
export function namesRegistry(text: string): boolean {
  const first = text.replace(/@.*$/, '').split('/');
  return first.length > 1 && (first[0]!.includes('.') || first[0]!.includes(':') || first[0] === 'localhost' || first[0]!.startsWith('['));
}

/** The host the registry API answers on. */
export function apiHost(r: ImageReference): string {
  return r.registry === DOCKER_HUB ? DOCKER_HUB_API : r.registry;
}

/** Loopback registries are spoken to over plain http (as docker and skopeo do for localhost). */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
