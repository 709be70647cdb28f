// An OCI runtime config (config.json), validated with zod before any backend sees it: the types
// of every field a backend reads (not their meaning: whether a path or a namespace exists is the
// backend's to say), so a malformed value never reaches crun half-way through a create. The
// spec's JSON schema is the oracle in the tests. Unknown fields pass through untouched.
import { z } from 'zod';

const int = (min: number, max: number, what: string) =>
  z.number({ invalid_type_error: `must be an integer (${what})` }).int(`must be an integer (${what})`).min(min, `must be at least ${min} (${what})`).max(max, `must be at most ${max} (${what})`);
const uint32 = int(0, 4294967295, 'uint32');
const uint16 = int(0, 65535, 'uint16');
// JSON numbers beyond 2^53 are not exact in JavaScript: 2^64-1 (the all-ones "unlimited") reads
// as 2^64, so the bounds are the doubles the limits round to.
const uint64 = int(0, 2 ** 64, 'uint64');
const int64 = int(-(2 ** 63), 2 ** 63, 'int64');
const strings = z.array(z.string());
const stringMap = z.record(z.string());
const absolute = (what: string) => z.string().refine((p) => p.startsWith('/'), `${what} must be an absolute path`);

/** OCI's SemVer ociVersion: berth reads every 1.x it knows (1.0.0 to 1.3.x). */
export const OCI_VERSION_RANGE = { min: '1.0.0', max: '1.3.x' } as const;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function ociVersionProblem(v: string): string | undefined {
  const m = SEMVER.exec(v);
  if (!m) return `ociVersion ${JSON.stringify(v)} is not SemVer: it "MUST be in SemVer v2.0.0 format" (OCI runtime spec, config.md); berth supports ${OCI_VERSION_RANGE.min} to ${OCI_VERSION_RANGE.max}: write e.g. "1.0.2"`;
  if (m[1] !== '1' || Number(m[2]) > 3) return `ociVersion ${JSON.stringify(v)} is not supported: berth supports ${OCI_VERSION_RANGE.min} to ${OCI_VERSION_RANGE.max}; write the version of the spec the bundle follows, e.g. "1.0.2"`;
  return undefined;
}

const idMapping = z.object({ containerID: uint32, hostID: uint32, size: uint32 }).passthrough();

export const processSchema = z
  .object({
    terminal: z.boolean().optional(),
    consoleSize: z.object({ height: uint64, width: uint64 }).passthrough().optional(),
    user: z.object({ uid: uint32, gid: uint32, umask: uint32.optional(), additionalGids: z.array(uint32).optional(), username: z.string().optional() }).passthrough().optional(),
    // The spec makes args OPTIONAL (Windows' commandLine); on Linux a process needs its program.
    args: z.array(z.string(), { required_error: 'process.args is required' }).min(1, 'process.args must name the program to run'),
    commandLine: z.string().optional(),
    env: strings.optional(),
    cwd: z.string({ required_error: 'process.cwd is required' }).refine((p) => p.startsWith('/'), 'process.cwd must be an absolute path'),
    capabilities: z
      .object({ bounding: strings.optional(), effective: strings.optional(), inheritable: strings.optional(), permitted: strings.optional(), ambient: strings.optional() })
      .passthrough()
      .optional(),
    rlimits: z
      .array(z.object({ type: z.string().regex(/^RLIMIT_[A-Z]+$/, 'must be RLIMIT_ and a resource name in capitals, e.g. RLIMIT_NOFILE'), soft: uint64, hard: uint64 }).passthrough())
      .optional(),
    noNewPrivileges: z.boolean().optional(),
    apparmorProfile: z.string().optional(),
    oomScoreAdj: z.number().int('must be an integer').optional(),
    selinuxLabel: z.string().optional(),
  })
  .passthrough();

const hook = z
  .object({
    path: absolute('a hook\'s path'),
    args: strings.optional(),
    env: strings.optional(),
    timeout: z.number().int('must be a whole number of seconds').min(1, 'must be at least 1 second').optional(),
  })
  .passthrough();
const hooks = z.array(hook);

const mount = z
  .object({
    destination: z.string({ required_error: 'is required (the path inside the container)' }),
    type: z.string().optional(),
    source: z.string().optional(),
    options: strings.optional(),
    uidMappings: z.array(idMapping).optional(),
    gidMappings: z.array(idMapping).optional(),
  })
  .passthrough();

/** Namespace types of config-linux.md (time since spec 1.1). */
export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;

const device = z
  .object({
    type: z.string().regex(/^[cbup]$/, 'must be one of c, b, u, p'),
    path: z.string(),
    major: int64.optional(),
    minor: int64.optional(),
    fileMode: int(0, 0o7777, 'file mode').optional(),
    uid: uint32.optional(),
    gid: uint32.optional(),
  })
  .passthrough();

const blockIODevice = z.object({ major: int64, minor: int64 }).passthrough();
const throttle = z.array(blockIODevice.extend({ rate: uint64.optional() }).passthrough());

const resources = z
  .object({
    devices: z.array(z.object({ allow: z.boolean({ required_error: 'is required (true or false)' }), type: z.string().optional(), major: int64.nullish(), minor: int64.nullish(), access: z.string().optional() }).passthrough()).optional(),
    memory: z
      .object({ limit: int64.optional(), reservation: int64.optional(), swap: int64.optional(), kernel: int64.optional(), kernelTCP: int64.optional(), swappiness: uint64.optional(), disableOOMKiller: z.boolean().optional(), useHierarchy: z.boolean().optional(), checkBeforeUpdate: z.boolean().optional() })
      .passthrough()
      .optional(),
    cpu: z
      .object({ shares: uint64.optional(), quota: int64.optional(), burst: uint64.optional(), period: uint64.optional(), realtimeRuntime: int64.optional(), realtimePeriod: uint64.optional(), cpus: z.string().optional(), mems: z.string().optional(), idle: int64.optional() })
      .passthrough()
      .optional(),
    pids: z.object({ limit: int64 }).passthrough().optional(),
    blockIO: z
      .object({
        weight: uint16.optional(),
        leafWeight: uint16.optional(),
        weightDevice: z.array(blockIODevice.extend({ weight: uint16.optional(), leafWeight: uint16.optional() }).passthrough()).optional(),
        throttleReadBpsDevice: throttle.optional(),
        throttleWriteBpsDevice: throttle.optional(),
        throttleReadIOPSDevice: throttle.optional(),
        throttleWriteIOPSDevice: throttle.optional(),
      })
      .passthrough()
      .optional(),
    hugepageLimits: z.array(z.object({ pageSize: z.string(), limit: uint64 }).passthrough()).optional(),
    network: z.object({ classID: uint32.optional(), priorities: z.array(z.object({ name: z.string(), priority: uint32 }).passthrough()).optional() }).passthrough().optional(),
    rdma: z.record(z.object({ hcaHandles: uint32.optional(), hcaObjects: uint32.optional() }).passthrough()).optional(),
    unified: stringMap.optional(),
  })
  .passthrough();

const seccomp = z
  .object({
    defaultAction: z.string({ required_error: 'is required (e.g. SCMP_ACT_ERRNO)' }),
    defaultErrnoRet: uint32.optional(),
    architectures: strings.optional(),
    flags: strings.optional(),
    listenerPath: z.string().optional(),
    listenerMetadata: z.string().optional(),
    syscalls: z
      .array(
        z
          .object({
            names: z.array(z.string()).min(1, 'must name at least one syscall'),
            action: z.string(),
            errnoRet: uint32.optional(),
            args: z.array(z.object({ index: uint32, value: uint64, valueTwo: uint64.optional(), op: z.string() }).passthrough()).optional(),
          })
          .passthrough(),
      )
      .optional(),
  })
  .passthrough();

export const linuxSchema = z
  .object({
    namespaces: z
      .array(
        z
          .object({
            type: z.enum(NAMESPACE_TYPES, { errorMap: () => ({ message: `must be one of ${NAMESPACE_TYPES.join(', ')}` }) }),
            path: z.string().optional(),
          })
          .passthrough(),
        { invalid_type_error: 'must be an array of {"type": …, "path": …} objects, e.g. [{"type": "pid"}]' },
      )
      .optional(),
    uidMappings: z.array(idMapping).optional(),
    gidMappings: z.array(idMapping).optional(),
    devices: z.array(device).optional(),
    cgroupsPath: z.string().optional(),
    resources: resources.optional(),
    rootfsPropagation: z.string().optional(),
    seccomp: seccomp.optional(),
    sysctl: stringMap.optional(),
    maskedPaths: strings.optional(),
    readonlyPaths: strings.optional(),
    mountLabel: z.string().optional(),
    personality: z.object({ domain: z.string().optional(), flags: strings.optional() }).passthrough().optional(),
  })
  .passthrough();

export const runtimeConfigSchema = z
  .object({
    ociVersion: z.string({ required_error: 'ociVersion is required' }).superRefine((v, ctx) => {
      const problem = ociVersionProblem(v);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    }),
    process: processSchema,
    root: z.object({ path: z.string({ required_error: 'root.path is required' }).min(1, 'root.path must not be empty'), readonly: z.boolean().optional() }).passthrough(),
    hostname: z.string().optional(),
    domainname: z.string().optional(),
    mounts: z.array(mount).optional(),
    annotations: stringMap.optional(),
    hooks: z
      .object({
        prestart: hooks.optional(),
        createRuntime: hooks.optional(),
        createContainer: hooks.optional(),
        startContainer: hooks.optional(),
        poststart: hooks.optional(),
        poststop: hooks.optional(),
      })
      .passthrough()
      .optional(),
    linux: linuxSchema.optional(),
  })
  .passthrough();

/** The first thing wrong with `raw` as a config, naming its field; undefined when it is valid. */
export function configProblem(raw: unknown): string | undefined {
  const parsed = runtimeConfigSchema.safeParse(raw);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || '(top level)';
  const text = issue?.message ?? 'invalid';
  // Messages written above may already name their field.
  return text === 'Required' ? `${where} is required` : text.startsWith(where) ? text : `${where}: ${text}`;
}

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
export type ProcessConfig = z.infer<typeof processSchema>;
