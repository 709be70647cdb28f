// Validation of berth's TOML configuration (zod). Loaded only when a config file exists.
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { InvalidConfigError } from './errors.js';

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

const configSchema = z
  .object({
    default_runtime: z.string().min(1).default('crun'),
    /** A libcrun.so for the crun-abi backend; default: $BERTH_LIBCRUN, then the build cache, then system paths. */
    libcrun_path: z.string().min(1).optional(),
    routes: z.array(routeSchema).default([]),
    runtimes: z.record(runtimeSchema).default({}),
  })
  .strict();

export type BerthConfig = z.infer<typeof configSchema>;
export type RouteRule = z.infer<typeof routeSchema>;

export function parseConfig(text: string, path: string): BerthConfig {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw new InvalidConfigError(`config file ${path} is not valid TOML: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
    });
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || '(top level)';
    throw new InvalidConfigError(`config file ${path}: ${where}: ${issue?.message ?? 'invalid'}`);
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
