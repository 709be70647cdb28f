// The parts of an OCI runtime config (config.json) that berth relies on, validated with zod.
// Unknown fields pass through untouched: the backend gets the file as the user wrote it.
import { z } from 'zod';

const uint = z.number().int().nonnegative();

export const processSchema = z
  .object({
    terminal: z.boolean().optional(),
    user: z.object({ uid: uint, gid: uint, umask: uint.optional(), additionalGids: z.array(uint).optional() }).passthrough().optional(),
    args: z.array(z.string(), { required_error: 'process.args is required' }).min(1, 'process.args must name the program to run'),
    env: z.array(z.string()).optional(),
    cwd: z.string({ required_error: 'process.cwd is required' }).refine((p) => p.startsWith('/'), 'process.cwd must be an absolute path'),
    noNewPrivileges: z.boolean().optional(),
  })
  .passthrough();

export const runtimeConfigSchema = z
  .object({
    ociVersion: z.string({ required_error: 'ociVersion is required' }),
    process: processSchema,
    root: z.object({ path: z.string({ required_error: 'root.path is required' }).min(1, 'root.path must not be empty'), readonly: z.boolean().optional() }).passthrough(),
    hostname: z.string().optional(),
    mounts: z
      .array(z.object({ destination: z.string(), type: z.string().optional(), source: z.string().optional(), options: z.array(z.string()).optional() }).passthrough())
      .optional(),
    annotations: z.record(z.string()).optional(),
    hooks: z.record(z.array(z.object({ path: z.string() }).passthrough())).optional(),
    linux: z.object({}).passthrough().optional(),
  })
  .passthrough();

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
export type ProcessConfig = z.infer<typeof processSchema>;
