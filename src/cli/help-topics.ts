// berth help TOPIC: how the parts fit, in a screen each, for a person at a terminal. The lists in
// them (backends, exit codes) come from their sources; docs/ has the whole story.
import { AUTO_BACKEND, BACKEND_NAMES } from '../backends/registry.js';
import { EXIT_CODES, EXIT_MEANINGS } from './exit.js';

export interface HelpTopic {
  title: string;
  text: () => string;
}

export const HELP_TOPICS: Record<string, HelpTopic> = {
  routing: {
    title: 'Routing',
    text: () => `Which backend runs a new container (create, run): the first of these that names one decides.
  1. --runtime NAME
  2. the bundle's annotation run.berth.runtime
  3. the config file's [[routes]] in order (id_glob or id_regex, matched against the id)
  4. the config file's default_runtime (default: ${AUTO_BACKEND})
Backends: ${BACKEND_NAMES.join(', ')}. "${AUTO_BACKEND}" means auto: the first usable crun
backend (the crun CLI for a one-shot command), else runc. An unknown name is an error, never a
fallback. The choice and its reason are recorded with the container; every later verb uses the
recorded backend (berth list shows it). berth doctor shows which backends this host can use.
More: docs/configuration.md#routing, docs/backends.md.`,
  },
  storage: {
    title: 'Storage',
    text: () => `Root filesystems made from images live in a storage driver ([storage] in the config):
  dir  (default) a directory; a container's volume is a full copy of the image's template
  zfs  a dataset; a container's volume is a ZFS clone of the template (as fast for 5 GB as 5 MB)
An image is unpacked once into a sealed template; each container gets its own volume from it,
named per state root, removed with the container. berth snapshot create|ls|rollback|rm keeps
snapshots of a container's volume. berth doctor checks the storage; --repair finishes what a
killed berth left.
More: docs/storage.md.`,
  },
  images: {
    title: 'Images',
    text: () => `The image cache holds OCI images, each unpacked once per digest:
  berth image pull REF          from a registry ([REGISTRY/]REPO[:TAG|@sha256:…])
  berth image import PATH       from an OCI layout (directory or tar) --name REF
  berth image ls | inspect REF | rm REF | prune
  berth run --image REF ID [-- ARGS]    a container from it (the image's defaults, your overrides)
REF is a name (registry/repo:tag), a digest or a digest prefix of 12+ hex digits. A ref names
one image of one platform (--platform).
More: docs/images.md.`,
  },
  'exit-codes': {
    title: 'Exit codes',
    text: () =>
      `${Object.entries(EXIT_MEANINGS)
        .map(([n, meaning]) => {
          const codes = Object.entries(EXIT_CODES).filter(([, e]) => e === Number(n)).map(([c]) => c);
          return `  ${n.padStart(2)}  ${meaning}${codes.length ? `\n      ${codes.join(', ')}` : ''}`;
        })
        .join('\n')}
A foreground run or exec exits with the container's own code (128+N when killed by signal N).
More: docs/cli.md#exit-codes.`,
  },
};
