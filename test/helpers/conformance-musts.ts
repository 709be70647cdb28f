// The MUSTs of the OCI runtime spec that the conformance suite checks, one test each. The one
// list: the suite's test names, its JSON results and docs/conformance.md all come from it.

export interface Must {
  /** Stable key: results and the docs table are keyed by it. */
  id: string;
  /** Where the rule is: the spec file and its section names. */
  section: string;
  /** The rule, in short (not the spec's words). */
  rule: string;
  /**
   * Set when the row is not the spec's rule but the runc CLI's convention that clients rely on
   * (pid file, exit codes), or a place where berth follows runc and its clients over the spec.
   */
  note?: string;
}

const RT = 'runtime.md';
const HOOKS = 'config.md › POSIX-platform Hooks';

export const MUSTS: readonly Must[] = [
  { id: 'operations-need-id', section: `${RT} › Operations`, rule: 'state, create, start, kill and delete without a container id are errors' },
  { id: 'state-unknown', section: `${RT} › Operations › Query State`, rule: 'state of an id that does not exist is an error' },
  { id: 'state-fields', section: `${RT} › State`, rule: 'state follows state-schema: the id, the absolute bundle path, the pid of the live container process, the annotations' },
  { id: 'state-status', section: `${RT} › State`, rule: 'status is created after create, running after start, stopped once the process exited' },
  { id: 'create-duplicate-id', section: `${RT} › Operations › Create`, rule: 'create with an id in use is an error and makes no new container' },
  { id: 'create-invalid-id', section: `${RT} › Operations › Create`, rule: 'create with an invalid id (a path) is an error and makes no container' },
  { id: 'create-no-program', section: `${RT} › Lifecycle (2, 8) › Operations › Create, Start`, rule: 'create does not run the user program; start runs it' },
  { id: 'create-config-frozen', section: `${RT} › Lifecycle (2)`, rule: 'a change to config.json after create does not affect the container' },
  { id: 'start-unknown', section: `${RT} › Operations › Start`, rule: 'start of an id that does not exist is an error' },
  { id: 'start-not-created', section: `${RT} › Operations › Start`, rule: 'start of a running or stopped container is an error and changes nothing' },
  { id: 'kill-stopped', section: `${RT} › Operations › Kill`, rule: 'kill of a stopped container is an error and changes nothing' },
  { id: 'kill-created', section: `${RT} › Operations › Kill`, rule: 'kill of a created container sends the signal to its process' },
  { id: 'kill-running', section: `${RT} › Operations › Kill`, rule: 'kill of a running container sends the signal to its process' },
  { id: 'delete-unknown', section: `${RT} › Operations › Delete`, rule: 'delete of an id that does not exist is an error' },
  { id: 'delete-running', section: `${RT} › Operations › Delete`, rule: 'delete of a running container is an error and changes nothing (unless --force)' },
  { id: 'delete-paused', section: `${RT} › Operations › Delete`, rule: 'delete of a paused container is an error and changes nothing (unless --force)' },
  {
    id: 'delete-created',
    section: `${RT} › Operations › Delete`,
    rule: 'delete of a created container removes it, as runc does',
    note: 'the spec says a created container is not stopped, so delete is an error; runc deletes it, and containerd\'s runc shim relies on it (a created task is deleted with a plain `delete`); berth follows runc and the shim',
  },
  { id: 'delete-resources', section: `${RT} › Lifecycle (12) › Operations › Delete`, rule: 'after delete the id is unknown, the process and its cgroup are gone, the id can be used again' },
  { id: 'hooks-order', section: `${HOOKS} · ${RT} › Lifecycle`, rule: 'prestart, createRuntime, createContainer at create; startContainer, poststart at start; poststop at delete; each kind in its listed order' },
  { id: 'hooks-state-stdin', section: HOOKS, rule: 'every hook gets the container state on stdin (state-schema, its id and bundle)' },
  { id: 'hooks-runtime-namespace', section: HOOKS, rule: 'prestart, createRuntime, poststart and poststop run in the runtime namespace' },
  { id: 'hooks-container-namespace', section: HOOKS, rule: 'createContainer and startContainer run in the container namespace' },
  { id: 'hooks-timeout', section: HOOKS, rule: 'a hook that runs past its timeout is aborted: the create fails and leaves nothing' },
  { id: 'hooks-prestart-fails', section: `${RT} › Lifecycle (3)`, rule: 'a failing prestart hook fails create, the program never runs, nothing is left' },
  { id: 'hooks-createRuntime-fails', section: `${RT} › Lifecycle (4)`, rule: 'a failing createRuntime hook fails create, the program never runs, nothing is left' },
  { id: 'hooks-createContainer-fails', section: `${RT} › Lifecycle (5)`, rule: 'a failing createContainer hook fails create, the program never runs, nothing is left' },
  { id: 'hooks-startContainer-fails', section: `${RT} › Lifecycle (7)`, rule: 'a failing startContainer hook fails start and the program never runs' },
  { id: 'hooks-poststart-fails', section: `${RT} › Lifecycle (9)`, rule: 'a failing poststart hook is a warning: start succeeds and the container runs' },
  { id: 'hooks-poststop-fails', section: `${RT} › Lifecycle (13)`, rule: 'a failing poststop hook is a warning: delete succeeds and the container is gone' },
  { id: 'pid-file', section: 'runc CLI › create --pid-file', rule: 'the pid file holds the container process pid when create returns', note: 'not in the spec: the runc CLI that containerd and Podman drive. On lxc it names the init\'s monitor, berth-lxc-start, which exits with the init\'s status: the clients learn exits by waiting on it (the init is liblxc\'s child); state\'s pid is the init' },
  { id: 'exit-signal', section: 'runc CLI › run', rule: 'a foreground run whose process is killed by signal n exits with 128+n', note: 'not in the spec: the runc CLI and shell convention' },
  { id: 'linux-namespaces-new', section: 'config-linux.md › Namespaces', rule: 'each listed namespace type is a new namespace' },
  { id: 'linux-namespaces-inherit', section: 'config-linux.md › Namespaces', rule: 'a type not listed is inherited from the runtime (network)' },
  { id: 'linux-namespaces-duplicate', section: 'config-linux.md › Namespaces', rule: 'a namespace type listed twice is an error' },
  { id: 'linux-default-devices', section: 'config-linux.md › Default Devices', rule: '/dev/null, zero, full, random, urandom, tty and ptmx are there' },
  { id: 'linux-masked-paths', section: 'config-linux.md › Masked Paths', rule: 'masked paths cannot be read' },
  { id: 'linux-readonly-paths', section: 'config-linux.md › Readonly Paths', rule: 'read-only paths cannot be written' },
  { id: 'mounts-order', section: 'config.md › Mounts', rule: 'mounts are made in the listed order (a bind inside a tmpfs listed before it)' },
  { id: 'root-readonly', section: 'config.md › Root', rule: 'root.readonly makes the root filesystem read-only' },
  { id: 'process-rlimits', section: 'config.md › POSIX process', rule: 'rlimits are set as given (soft and hard)' },
];

/** The columns of the table: berth's backends, then the yardsticks. */
export const BERTH_COLUMNS = ['crun-cli', 'crun-abi', 'runc', 'lxc'] as const;
export const RAW_COLUMNS = ['raw crun', 'raw runc'] as const;

export type Outcome =
  | { result: 'pass' }
  /** inherited: the yardstick(s) of the backend's engine that fail this MUST too, in the same run. */
  | { result: 'fail'; reason: string; inherited?: string }
  | { result: 'skip'; reason: string };

export interface ConformanceResults {
  /** When the suite ran and on what. */
  ran: string;
  host: Record<string, string>;
  /** must id → column → outcome */
  outcomes: Record<string, Record<string, Outcome>>;
}
