// The image config's `config` object, reduced to the fields berth uses, with their types checked
// (a malformed field is dropped rather than trusted).
import type { ImageConfigSummary } from './types.js';

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringMap = (v: unknown): v is Record<string, string> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isString);
const isObjectMap = (v: unknown): v is Record<string, object> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => !!x && typeof x === 'object');

export function summarizeConfig(config: Record<string, unknown> | undefined): ImageConfigSummary {
  const c = config ?? {};
  const out: ImageConfigSummary = {};
  if (isStrings(c.Entrypoint)) out.Entrypoint = c.Entrypoint;
  if (isStrings(c.Cmd)) out.Cmd = c.Cmd;
  if (isStrings(c.Env)) out.Env = c.Env;
  if (isString(c.User) && c.User !== '') out.User = c.User;
  if (isString(c.WorkingDir) && c.WorkingDir !== '') out.WorkingDir = c.WorkingDir;
  if (isString(c.StopSignal) && c.StopSignal !== '') out.StopSignal = c.StopSignal;
  if (isStringMap(c.Labels)) out.Labels = c.Labels;
  if (isObjectMap(c.Volumes)) out.Volumes = c.Volumes;
  if (isObjectMap(c.ExposedPorts)) out.ExposedPorts = c.ExposedPorts;
  return out;
}

/** Storage property values are at most 1024 bytes: the summary is kept as base64 chunks. */
const CHUNK = 1000;

export function configToProperties(summary: ImageConfigSummary): Record<string, string> {
  const b64 = Buffer.from(JSON.stringify(summary)).toString('base64');
  const out: Record<string, string> = {};
  for (let i = 0, n = 0; i < b64.length; i += CHUNK, n++) out[`config.${n}`] = b64.slice(i, i + CHUNK);
  return out;
}

export function configFromProperties(props: Record<string, string>): ImageConfigSummary | undefined {
  let b64 = '';
  for (let n = 0; props[`config.${n}`] !== undefined; n++) b64 += props[`config.${n}`];
  if (b64 === '') return undefined;
  try {
    return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as ImageConfigSummary;
  } catch {
    return undefined;
  }
}
