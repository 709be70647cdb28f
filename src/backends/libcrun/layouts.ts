// The C layouts berth declares for libcrun, by version. A layout is only ever chosen from the
// version the library reports; a version without a layout here cannot be handled (the caller
// falls back to the crun CLI), never guessed.

/** A field of a C struct, in declaration order, as koffi spells its type. */
export type Field = readonly [name: string, type: string];

export interface LibcrunLayout {
  /** Which crun releases use it, for messages and `doctor`. */
  name: string;
  /** libcrun_context_t */
  context: readonly Field[];
  /** sizeof(libcrun_context_t) on x86-64, checked against koffi's own computation. */
  contextSize: number;
  /** Functions the driver calls; each must be exported by the library. */
  functions: readonly string[];
}

/**
 * crun 1.8.x (src/libcrun/container.h). crun 1.13 removed `no_subreaper` and shifted the later
 * fields, so a 1.13+ library must not be driven with this layout.
 */
const CRUN_1_8: LibcrunLayout = {
  name: 'crun 1.8.x',
  context: [
    ['state_root', 'const char *'],
    ['id', 'const char *'],
    ['bundle', 'const char *'],
    ['console_socket', 'const char *'],
    ['pid_file', 'const char *'],
    ['notify_socket', 'const char *'],
    ['handler', 'const char *'],
    ['preserve_fds', 'int'],
    ['listen_fds', 'int'],
    ['output_handler', 'void *'],
    ['output_handler_arg', 'void *'],
    ['fifo_exec_wait_fd', 'int'],
    ['systemd_cgroup', 'bool'],
    ['detach', 'bool'],
    ['no_subreaper', 'bool'],
    ['no_new_keyring', 'bool'],
    ['force_no_cgroup', 'bool'],
    ['no_pivot', 'bool'],
    ['argv', 'void *'],
    ['argc', 'int'],
    ['handler_manager', 'void *'],
  ],
  contextSize: 120,
  functions: [
    'libcrun_container_load_from_file',
    'libcrun_container_free',
    'libcrun_container_create',
    'libcrun_container_start',
    'libcrun_container_state',
    'libcrun_container_kill',
    'libcrun_container_killall',
    'libcrun_container_pause',
    'libcrun_container_unpause',
    'libcrun_container_update',
    'libcrun_container_delete',
    'libcrun_error_release',
    'libcrun_init_logging',
  ],
};

/** The layout for a crun version ("1.8.1"), or undefined when berth has none for it. */
export function layoutFor(version: string): LibcrunLayout | undefined {
  if (/^1\.8(\.\d+)?$/.test(version)) return CRUN_1_8;
  return undefined;
}

/** For messages: the versions berth can drive. */
export const SUPPORTED_VERSIONS = '1.8.x';
