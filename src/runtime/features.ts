// `features` for backends that have no `features` verb of their own (crun 1.8): what crun 1.8
// supports, from its documentation, in the runtime-spec's features.md format. berth takes
// configs up to 1.3.x on every backend (runtime/backend-config.ts lowers ociVersion for crun),
// but crun 1.8 knows the fields of 1.1 at most: that is what it supports.
import { BACKEND_NAMES } from '../backends/registry.js';
import { BERTH_VERSION } from '../core/version.js';

export function builtinFeatures(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.1.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['ro', 'rw', 'bind', 'rbind', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'tmpcopyup'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true },
      seccomp: { enabled: true },
      apparmor: { enabled: true },
      selinux: { enabled: true },
    },
  };
}

export function berthAnnotations(defaultBackend: string): Record<string, string> {
  return {
    'run.berth.version': BERTH_VERSION,
    'run.berth.backends': BACKEND_NAMES.join(','),
    'run.berth.default-backend': defaultBackend,
  };
}
