// The verb table: names, help and options as data, implementations loaded only when used.
import { AUTO_BACKEND, BACKEND_NAMES } from '../backends/registry.js';
import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { OptionSpecs } from './args.js';
import type { VerbHandler } from './context.js';

export interface VerbSpec {
  summary: string;
  /** Operands, as shown in the usage line. */
  operands: string;
  options: OptionSpecs;
  /** exec and run take the process's argv after the id: stop option parsing there. */
  stopAtOperand?: boolean;
  /** More lines for `berth <verb> --help` (a verb with subcommands lists them here). */
  details?: string;
  /** Works for any user (touches nothing of the host's); every other verb needs root. */
  anyUser?: true;
  /** A verb of subcommands (image, snapshot): the first operand names one. */
  subcommands?: Record<string, SubcommandSpec>;
  load: () => Promise<{ default: VerbHandler }>;
}

export interface SubcommandSpec {
  /** What follows the subcommand's name in its usage line: operands and options. */
  usage: string;
  summary: string;
  aliases?: readonly string[];
  /** The verb's options this subcommand takes (any other is a usage error). */
  options: readonly string[];
}

/** The error for a verb berth does not have, with the nearest it has. */
export function unknownVerb(name: string): UsageError {
  return new UsageError(`unknown verb "${name}"${didYouMean(name, Object.keys(VERBS))} (see: berth help)`);
}

/** A subcommand's canonical name (aliases resolved), or undefined when `verb` has none by that name. */
export function subcommandOf(verb: string, word: string | undefined): string | undefined {
  const subs = VERBS[verb]?.subcommands;
  if (!subs || word === undefined) return undefined;
  if (Object.hasOwn(subs, word)) return word;
  return Object.entries(subs).find(([, s]) => s.aliases?.includes(word))?.[0];
}

/** The usage error for a missing or unknown subcommand, listing them (with the nearest one). */
export function unknownSubcommand(verb: string, word: string | undefined): UsageError {
  const names = Object.keys(VERBS[verb]?.subcommands ?? {});
  const list = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  if (word === undefined) return new UsageError(`${verb} needs a subcommand: ${list} (see: berth ${verb} --help)`);
  const all = Object.entries(VERBS[verb]?.subcommands ?? {}).flatMap(([n, s]) => [n, ...(s.aliases ?? [])]);
  return new UsageError(`unknown ${verb} subcommand "${word}"${didYouMean(word, all)}: use ${list} (see: berth ${verb} --help)`);
}

/** The operation's name in logs, the journal and metrics: the verb, or verb-subcommand (image-pull). */
export function operationName(verb: string, operands: readonly string[]): string {
  const sub = subcommandOf(verb, operands[0]);
  return sub === undefined ? verb : `${verb}-${sub}`;
}

export const GLOBAL_OPTIONS: OptionSpecs = {
  root: { type: 'string', valueName: 'DIR', description: 'directory for container state (default /run/berth)' },
  log: { type: 'string', valueName: 'FILE', description: 'write log lines to FILE (default stderr)' },
  'log-format': { type: 'string', valueName: 'text|json', description: 'format of log lines (default text)' },
  debug: { type: 'boolean', description: 'log debug messages, and pass --debug to the backend' },
  'systemd-cgroup': { type: 'boolean', description: 'ask the backend to use the systemd cgroup manager' },
  runtime: { type: 'string', valueName: 'NAME', description: `backend for new containers (${BACKEND_NAMES.join(', ')}; ${AUTO_BACKEND} = auto), over every routing rule` },
  config: { type: 'string', valueName: 'FILE', description: 'config file (default $BERTH_CONFIG, then /etc/berth/config.toml)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  version: { type: 'boolean', short: 'v', description: 'print the version' },
};

const help = { type: 'boolean', short: 'h', description: 'show help for this verb' } as const;
const format = { type: 'string', short: 'f', valueName: 'table|json', description: 'output format (default table)' } as const;
const createOptions: OptionSpecs = {
  bundle: { type: 'string', short: 'b', valueName: 'DIR', description: 'bundle directory (default: current directory)' },
  'pid-file': { type: 'string', valueName: 'FILE', description: 'write the container init pid to FILE' },
  'console-socket': { type: 'string', valueName: 'SOCKET', description: 'unix socket that receives the console pseudo-terminal' },
  'no-pivot': { type: 'boolean', description: 'do not use pivot_root to enter the rootfs' },
  'no-new-keyring': { type: 'boolean', description: 'do not create a new session keyring' },
  'preserve-fds': { type: 'string', valueName: 'N', description: 'pass N file descriptors after stdio to the container' },
  image: { type: 'string', valueName: 'REF|PATH', description: 'make the container from a cached image (ref or digest) or an OCI layout (directory or tar); its args follow the id after --' },
  platform: { type: 'string', valueName: 'OS/ARCH', description: 'with --image: the platform to take from a multi-platform image (default linux/amd64)' },
  env: { type: 'string', short: 'e', multiple: true, valueName: 'KEY=VALUE', description: "with --image: set an environment variable over the image's (repeatable)" },
  cwd: { type: 'string', valueName: 'DIR', description: "with --image: working directory, over the image's" },
  user: { type: 'string', short: 'u', valueName: 'USER[:GROUP]', description: "with --image: user (name or uid, from the image's /etc/passwd), over the image's" },
  hostname: { type: 'string', valueName: 'NAME', description: 'with --image: host name (default: the id)' },
  memory: { type: 'string', short: 'm', valueName: 'SIZE', description: 'with --image: memory limit, e.g. 512M' },
  cpus: { type: 'string', valueName: 'N', description: 'with --image: CPU limit, e.g. 1.5' },
  tty: { type: 'boolean', short: 't', description: 'with --image: give the process a terminal' },
  pull: { type: 'string', valueName: 'missing|always|never', description: 'with --image: pull REF from its registry when not cached (missing; the default for a REF naming its registry), every time (always), or never (the default for a short name)' },
  help,
};

export const VERBS: Record<string, VerbSpec> = {
  create: { summary: 'create a container from a bundle or an image', operands: '<container-id> [-- args...]', options: createOptions, load: () => import('./create.js') },
  start: { summary: 'start the process of a created container', operands: '<container-id>', options: { help }, load: () => import('./start.js') },
  run: {
    summary: 'create and start a container; in the foreground, wait and exit with its code',
    operands: '<container-id> [-- args...]',
    options: {
      ...createOptions,
      detach: { type: 'boolean', short: 'd', description: 'return once the container has started' },
      // Docker's -it habit. As with runc, a foreground run always gives the process berth's stdin.
      interactive: { type: 'boolean', short: 'i', description: "accepted for Docker's habit (-it): in the foreground the process always reads berth's stdin" },
    },
    load: () => import('./run.js'),
  },
  state: { summary: 'print the OCI state of a container as JSON', operands: '<container-id>', options: { help }, load: () => import('./state.js') },
  kill: {
    summary: 'send a signal (name or number, default TERM) to a container',
    operands: '<container-id> [signal]',
    options: { all: { type: 'boolean', short: 'a', description: 'signal every process of the container' }, help },
    load: () => import('./kill.js'),
  },
  stop: {
    summary: "stop a container: its image's stop signal (or TERM), then KILL after a timeout",
    operands: '<container-id>',
    options: { timeout: { type: 'string', short: 't', valueName: 'SECONDS', description: 'seconds to wait before KILL (default 10)' }, help },
    load: () => import('./stop.js'),
  },
  delete: {
    summary: 'remove a stopped container',
    operands: '<container-id>',
    options: { force: { type: 'boolean', short: 'f', description: 'kill and remove the container whatever its status' }, help },
    load: () => import('./delete.js'),
  },
  exec: {
    summary: 'run a new process in a running container',
    operands: '<container-id> [command [args...]]',
    stopAtOperand: true,
    options: {
      process: { type: 'string', short: 'p', valueName: 'FILE', description: 'process.json describing the process (instead of a command)' },
      detach: { type: 'boolean', short: 'd', description: 'return once the process has started' },
      'pid-file': { type: 'string', valueName: 'FILE', description: 'write the process pid to FILE' },
      tty: { type: 'boolean', short: 't', description: 'allocate a pseudo-terminal' },
      'console-socket': { type: 'string', valueName: 'SOCKET', description: 'unix socket that receives the pseudo-terminal' },
      env: { type: 'string', short: 'e', multiple: true, valueName: 'KEY=VALUE', description: 'set an environment variable (repeatable)' },
      cwd: { type: 'string', valueName: 'DIR', description: 'working directory inside the container' },
      'preserve-fds': { type: 'string', valueName: 'N', description: 'pass N file descriptors after stdio to the process' },
      help,
    },
    load: () => import('./exec.js'),
  },
  ps: { summary: 'list the processes of a container', operands: '<container-id>', options: { format, help }, load: () => import('./ps.js') },
  pause: { summary: 'freeze every process of a running container', operands: '<container-id>', options: { help }, load: () => import('./pause.js') },
  resume: { summary: 'thaw a paused container', operands: '<container-id>', options: { help }, load: () => import('./resume.js') },
  update: {
    summary: 'change the resource limits of a container',
    operands: '<container-id>',
    options: { resources: { type: 'string', short: 'r', valueName: 'FILE|-', description: 'OCI LinuxResources JSON (- reads stdin)' }, help },
    load: () => import('./update.js'),
  },
  list: {
    summary: 'list the containers of every backend',
    operands: '',
    options: { format, quiet: { type: 'boolean', short: 'q', description: 'print only the ids' }, help },
    load: () => import('./list.js'),
  },
  spec: {
    anyUser: true,
    summary: 'write a default config.json',
    operands: '',
    options: { bundle: { type: 'string', short: 'b', valueName: 'DIR', description: 'where to write it (default: current directory)' }, help },
    load: () => import('./spec.js'),
  },
  features: { summary: 'print what berth and its default backend support, as JSON', operands: '', options: { help }, anyUser: true, load: () => import('./features.js') },
  snapshot: {
    summary: 'filesystem snapshots of a container made from an image: create, ls, rollback, rm',
    operands: 'create <id> [name] | ls <id> | rollback <id> <name> | rm <id> <name>',
    subcommands: {
      create: { usage: 'ID [NAME]', summary: 'snapshot the container\'s volume (default name: the time, to the millisecond)', options: [] },
      ls: { usage: 'ID [--format table|json]', summary: 'the container\'s snapshots, oldest first', aliases: ['list'], options: ['format'] },
      rollback: { usage: 'ID NAME [--discard-newer]', summary: 'put the stopped container\'s volume back to NAME', options: ['discard-newer'] },
      rm: { usage: 'ID NAME', summary: 'remove a snapshot', aliases: ['remove'], options: [] },
    },
    options: {
      'discard-newer': { type: 'boolean', description: 'rollback: destroy the snapshots newer than the one restored' },
      format,
      help,
    },
    load: () => import('./snapshot.js'),
  },
  doctor: {
    anyUser: true,
    summary: 'check the host: cgroups, which backends are usable and why not, what crun (auto) chooses',
    operands: '',
    options: {
      repair: { type: 'boolean', description: 'finish or roll back what killed berth processes left in this root (containers, volumes, images)' },
      format,
      help,
    },
    load: () => import('./doctor.js'),
  },
  serve: {
    summary: 'serve Prometheus metrics (/metrics), /healthz and /readyz until SIGTERM',
    operands: '',
    options: {
      listen: { type: 'string', valueName: 'ADDR', description: 'HOST:PORT, [IPV6]:PORT or unix:/PATH (default 127.0.0.1:9190)' },
      'token-file': { type: 'string', valueName: 'FILE', description: 'require Authorization: Bearer <the token in FILE> on /metrics' },
      help,
    },
    load: () => import('./serve.js'),
  },
  image: {
    summary: 'manage the image cache: pull from and push to a registry, import OCI layouts, list, inspect, remove, prune',
    operands: '<pull|push|import|ls|inspect|rm|prune> [operands]',
    subcommands: {
      pull: {
        usage: '[REGISTRY/]REPO[:TAG|@sha256:DIGEST] [--platform OS/ARCH[/VARIANT]] [--creds USER:PASS] [--tls-verify=false] [--digest-only]',
        summary:
          'fetch an image from a registry (default docker.io or [registries] default, tag latest) and cache it as import does; prints the resolved manifest digest. Credentials: --creds, else $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json',
        options: ['platform', 'creds', 'tls-verify', 'digest-only'],
      },
      push: {
        usage: 'REF [REGISTRY/]REPO[:TAG] [--creds USER:PASS] [--tls-verify=false]',
        summary: 'send a pulled image (its manifest and compressed blobs, as they came; same digest) to a registry; images imported from a layout are refused',
        options: ['creds', 'tls-verify'],
      },
      import: { usage: 'PATH[:TAG] [--name REF] [--platform OS/ARCH[/VARIANT]]', summary: 'unpack an OCI layout (directory or tar) into a template, once per digest', options: ['name', 'platform'] },
      ls: {
        usage: '[--format table|json] [--quiet]',
        summary: 'the cached images: refs, digest, size, created, last used, containers, and where a pulled one came from (source ref, pulled when)',
        aliases: ['list'],
        options: ['format', 'quiet'],
      },
      inspect: { usage: 'REF', summary: "the image's record and config as JSON", options: [] },
      rm: { usage: 'REF [--force]', summary: 'remove an image; --force parks one that containers still use', aliases: ['remove'], options: ['force'] },
      prune: {
        usage: '[--older-than DURATION] [--max-size SIZE]',
        summary: 'remove unused images (all; unused for DURATION, e.g. 30m, 12h, 7d; least recently used until the cache is at most SIZE, e.g. 500M, 10G)',
        options: ['older-than', 'max-size'],
      },
    },
    details: `REF is a name given at import, a digest, or a digest prefix of at least 12 hex digits.`,
    options: {
      name: { type: 'string', short: 'n', valueName: 'REF', description: 'import: the name to give the image' },
      platform: { type: 'string', valueName: 'OS/ARCH[/VARIANT]', description: 'pull, import: the platform to take from a multi-platform image (default: this host)' },
      creds: { type: 'string', valueName: 'USER:PASS', description: 'pull, push: credentials for the registry (basic, or for its token service)' },
      'tls-verify': { type: 'boolean', description: 'pull, push: --tls-verify=false skips certificate checks and allows plain http' },
      'digest-only': { type: 'boolean', description: 'pull: refuse a tag (the error names the digest to pull instead)' },
      format,
      force: { type: 'boolean', description: 'rm: park an image that containers still use' },
      quiet: { type: 'boolean', short: 'q', description: 'ls: print only the refs, one per line (the digest of an image without one)' },
      'older-than': { type: 'string', valueName: 'DURATION', description: 'prune: images unused for longer (s, m, h, d)' },
      'max-size': { type: 'string', valueName: 'SIZE', description: 'prune: evict least recently used until the cache is at most SIZE (K, M, G, T)' },
      help,
    },
    load: () => import('./image.js'),
  },
  version: { summary: 'print the versions of berth and its backends', operands: '', options: { help }, anyUser: true, load: () => import('./version.js') },
  completion: {
    summary: 'print the shell completion script for bash, zsh or fish',
    operands: '<bash|zsh|fish>',
    details: `Install: berth completion bash > /usr/share/bash-completion/completions/berth
         berth completion zsh > /usr/local/share/zsh/site-functions/_berth
         berth completion fish > /usr/share/fish/vendor_completions.d/berth.fish
(scripts/install.sh does it). Container ids and image refs are asked of berth as you type.`,
    options: { help },
    anyUser: true,
    load: () => import('./completion.js'),
  },
  man: {
    summary: 'print the man page of berth or of a verb (troff); --output DIR writes them all',
    operands: '[verb]',
    options: { output: { type: 'string', short: 'o', valueName: 'DIR', description: 'write berth.1 and berth-VERB.1 for every verb into DIR' }, help },
    anyUser: true,
    load: () => import('./man.js'),
  },
  help: { summary: 'show help for berth, a verb, or a topic (routing, storage, images, exit-codes)', operands: '[verb|topic]', options: { help }, anyUser: true, load: () => import('./help.js') },
};
