// Validation of berth's TOML configuration (zod). Loaded only when a config file exists.
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { InvalidConfigError } from './errors.js';
import { sizeInBytes } from './sizes.js';
import { didYouMean } from './suggest.js';

const routeSchema = z
  .object({
    id_glob: z.string().min(1).optional(),
    id_regex: z.string().min(1).optional(),
    runtime: z.string().min(1),
  })
  .strict()
  .refine((r) => (r.id_glob === undefined) !== (r.id_regex === undefined), {
    message: 'a route needs exactly one of id_glob or id_regex',
  });

const runtimeSchema = z
  .object({
    /** Path of the runtime's binary; default: looked up in PATH. */
    path: z.string().min(1).optional(),
  })
  .strict();

/** A ZFS dataset name: pool/child/…, no snapshot part, no empty components. */
export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/;

export const DEFAULT_STORAGE_DIR = '/var/lib/berth/storage';

const storageSchema = z
  .object({
    /** Which storage driver holds image templates and container volumes. */
    driver: z.enum(['dir', 'zfs']).default('dir'),
    /** The zfs driver's parent dataset (it must exist); required with driver = "zfs". */
    dataset: z
      .string()
      .regex(DATASET_NAME, 'must be a ZFS dataset name such as "tank/berth" (no "@", no leading or trailing "/")')
      .refine((d) => !d.split('/').some((c) => c === '.' || c === '..'), 'must not have "." or ".." components')
      .optional(),
    /** The dir driver's directory. */
    dir: z
      .string()
      .refine((d) => d.startsWith('/'), 'must be an absolute path')
      .default(DEFAULT_STORAGE_DIR),
    /** Persistent state of the image cache (its index, locks); default /var/lib/berth. Not /run: it must survive reboots. */
    state_dir: z
      .string()
      .refine((d) => d.startsWith('/'), 'must be an absolute path')
      .optional(),
    /**
     * The most one image may unpack to (bytes, or a size such as "16G"); an import that would
     * pass it stops, removes what it wrote and names this key. Default 16 GiB.
     */
    max_image_size: z
      .union([z.number().int().positive(), z.string()])
      .transform((v, ctx) => {
        const bytes = typeof v === 'number' ? v : sizeInBytes(v);
        if (bytes === undefined || bytes <= 0) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a positive size such as "16G", "500M" or a number of bytes' });
          return z.NEVER;
        }
        return bytes;
      })
      .optional(),
  })
  .strict()
  .refine((s) => s.driver !== 'zfs' || s.dataset !== undefined, {
    message: 'driver = "zfs" needs a dataset (for example dataset = "tank/berth")',
  });

const logSchema = z
  .object({
    /** berth's log level when neither --debug nor $BERTH_LOG_LEVEL sets it. */
    level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  })
  .strict();
/** `[limits]`: bounds on what berth reads (docs/configuration.md). */
const limitsSchema = z
  .object({
    /** The largest bundle config.json create and run read, in bytes (default 4 MiB). */
    config_json_max_bytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

/** `[proxmox]`: the pve backend (docs/backends/proxmox.md). */
const proxmoxSchema = z
  .object({
    /** pct on the node, or the REST API; default: pct when it is on PATH, else api. */
    transport: z.enum(['pct', 'api']).optional(),
    /** The node's name; default: this host's short name. */
    node: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'must be a node name').optional(),
    /** Storage for container root disks (one that can clone, such as ZFS, makes linked clones). */
    storage: z.string().regex(/^[A-Za-z][\w.-]*$/, 'must be a Proxmox storage id').default('local-zfs'),
    /** Storage with vztmpl content, for the rootfs tarballs templates are made from. */
    template_storage: z.string().regex(/^[A-Za-z][\w.-]*$/, 'must be a Proxmox storage id').default('local'),
    bridge: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a bridge name').default('vmbr0'),
    /** LOW-HIGH: the VMIDs berth may use. */
    vmid_range: z
      .string()
      .regex(/^\d+-\d+$/, 'must be LOW-HIGH, for example "9000-9999"')
      .refine((r) => {
        const [lo, hi] = r.split('-').map(Number) as [number, number];
        return lo >= 100 && hi <= 999_999_999 && lo <= hi;
      }, 'must lie within 100-999999999 with LOW <= HIGH')
      .default('100-999999999'),
    unprivileged: z.boolean().default(true),
    /** https://HOST:8006 (transport = "api"). */
    api_url: z.string().url('must be a URL such as https://pve.example:8006').optional(),
    /** USER@REALM!TOKENID=SECRET in the config itself (keep the file 0600); $BERTH_PVE_TOKEN wins. */
    token: z.string().min(1).optional(),
    /** A file holding USER@REALM!TOKENID=SECRET; $BERTH_PVE_TOKEN and token win over it. */
    token_file: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path').optional(),
    /** PEM file of the CA that signed the API's certificate. */
    ca_file: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path').optional(),
    /** SHA-256 fingerprint of the API's certificate (as the Proxmox GUI shows it). */
    fingerprint: z.string().regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint (64 hex digits, colons allowed)').optional(),
    /** Skip certificate verification: only by explicit choice. */
    insecure: z.boolean().default(false),
    /** Seconds a Proxmox task may take. */
    task_timeout: z.number().int().positive().default(600),
  })
  .strict()
  .refine((p) => !(p.ca_file && p.fingerprint), { message: 'set ca_file or fingerprint, not both' })
  .refine((p) => !(p.insecure && (p.ca_file || p.fingerprint)), { message: 'insecure = true contradicts ca_file/fingerprint' })
  .refine((p) => p.transport !== 'api' || p.api_url !== undefined, { message: 'transport = "api" needs api_url' });

/** A registry as a reference names it: host[:port] (no scheme, no path). */
const registryHost = z
  .string()
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/, 'must be a registry host[:port] such as "docker.io" or "127.0.0.1:5000" (no scheme, no path)');

/** `[registries]`: where image pulls go (docs/configuration.md, docs/images.md). */
const registriesSchema = z
  .object({
    /** The registry of a short name (`alpine`, `org/app`); default docker.io. */
    default: registryHost.optional(),
    /** Per registry, mirrors tried in order before it; the next (at last the registry itself) on any error. */
    mirrors: z.record(registryHost, z.array(registryHost)).optional(),
    /** Registries spoken to without certificate checks, or over plain http. */
    insecure: z.array(registryHost).optional(),
    /** Layers fetched at once (default 3). */
    parallel_layers: z.number().int().min(1).max(16).optional(),
    /** Refuse pulls by tag (as --digest-only does). */
    digest_only: z.boolean().optional(),
  })
  .strict();

const configSchema = z
  .object({
    default_runtime: z.string().min(1).default('crun'),
    /** A libcrun.so for the crun-abi backend; default: $BERTH_LIBCRUN, then the build cache, then system paths. */
    libcrun_path: z.string().min(1).optional(),
    routes: z.array(routeSchema).default([]),
    runtimes: z.record(runtimeSchema).default({}),
    storage: storageSchema.default({}),
    /** Absent means the defaults (level info); optional so that code building configs by hand need not name it. */
    log: logSchema.optional(),
    proxmox: proxmoxSchema.optional(),
    limits: limitsSchema.optional(),
    registries: registriesSchema.optional(),
  })
  .strict();

export type BerthConfig = z.infer<typeof configSchema>;
export type RouteRule = z.infer<typeof routeSchema>;
export type StorageConfig = z.infer<typeof storageSchema>;
export type ProxmoxConfig = z.infer<typeof proxmoxSchema>;
export type RegistriesConfig = z.infer<typeof registriesSchema>;

export function parseConfig(text: string, path: string): BerthConfig {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    const { line, column } = err as { line?: unknown; column?: unknown };
    const first = (err as Error).message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    if (typeof line !== 'number' || typeof column !== 'number') throw new InvalidConfigError(`config file ${path} is not valid TOML: ${first}`, { cause: err });
    throw new InvalidConfigError(`config file ${path} is not valid TOML (line ${line}, column ${column}): ${first}`, { cause: err, detail: excerpt(text, line, column) });
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || '(top level)';
    const what = issue?.code === z.ZodIssueCode.unrecognized_keys ? unknownKeys(issue.keys, keysAt(configSchema, issue.path)) : issue?.message ?? 'invalid';
    throw new InvalidConfigError(`config file ${path}: ${where}: ${what}`);
  }
  for (const [i, route] of result.data.routes.entries()) {
    if (route.id_regex === undefined) continue;
    try {
      new RegExp(route.id_regex);
    } catch (err) {
      throw new InvalidConfigError(`config file ${path}: routes.${i}.id_regex is not a valid regular expression: ${route.id_regex}`, { cause: err });
    }
  }
  return result.data;
}

/**
 * The faulty line (and the one before it) with a caret under the column. Made here rather than
 * taken from smol-toml's codeblock, which has no caret when the fault is at the end of the file.
 */
function excerpt(text: string, line: number, column: number): string {
  const lines = text.split('\n');
  const width = String(line).length;
  const shown = [];
  for (let n = Math.max(1, line - 1); n <= line; n++) shown.push(`${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
  return [...shown, `${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`].join('\n');
}

function unknownKeys(keys: readonly string[], known: readonly string[]): string {
  const named = keys.map((k) => `"${k}"${didYouMean(k, known)}`).join(', ');
  return `unknown key${keys.length > 1 ? 's' : ''} ${named}${known.length > 0 ? ` (keys here: ${known.join(', ')})` : ''}`;
}

/** The keys of the table at `path` in the schema (through defaults, refinements, arrays and records). */
function keysAt(schema: z.ZodTypeAny, path: readonly (string | number)[]): string[] {
  const unwrap = (s: z.ZodTypeAny): z.ZodTypeAny => {
    for (;;) {
      if (s instanceof z.ZodEffects) s = s.innerType();
      else if (s instanceof z.ZodDefault) s = s.removeDefault();
      else if (s instanceof z.ZodOptional) s = s.unwrap();
      else return s;
    }
  };
  let s = unwrap(schema);
  for (const part of path) {
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodTypeAny>)[String(part)] ?? z.never();
    else if (s instanceof z.ZodArray) s = s.element as z.ZodTypeAny;
    else if (s instanceof z.ZodRecord) s = s.valueSchema as z.ZodTypeAny;
    else return [];
    s = unwrap(s);
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape as object) : [];
}
