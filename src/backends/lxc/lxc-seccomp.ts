// OCI linux.seccomp → LXC's seccomp policy file, version 2 (LXC 5.0, src/lxc/seccomp.c,
// parse_config_v2), referenced by lxc.seccomp.profile. The grammar LXC reads:
//   2
//   allowlist|denylist [DEFAULT]          DEFAULT: kill | errno N | allow | trap | notify
//   [all]                                 a section; on x86_64 LXC always filters x86_64, x86, x32
//   NAME ACTION [I,V,OP,M] ...            up to six conditions, ANDed; OP SCMP_CMP_*; M is the
//                                         mask (SCMP_CMP_MASKED_EQ compares (arg & M) == V)
// LXC skips a name the host's libseccomp does not know (as runc and crun do). libseccomp refuses
// a rule whose action is the filter's default (EACCES), so such rules are left out: they change
// nothing. What LXC cannot express is refused with the field and the reason, never dropped.
import { InvalidArgumentError } from '../../core/errors.js';

type Json = Record<string, unknown>;

const EPERM = 1;
/** OCI actions LXC has, by their LXC word; the rest are refused in actionWord. */
const ACTIONS: Record<string, string> = {
  SCMP_ACT_ALLOW: 'allow',
  // runc and crun map SCMP_ACT_KILL to SCMP_ACT_KILL_THREAD, which is LXC's "kill".
  SCMP_ACT_KILL: 'kill',
  SCMP_ACT_KILL_THREAD: 'kill',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_ERRNO: 'errno',
};
const REFUSED_ACTIONS: Record<string, string> = {
  SCMP_ACT_KILL_PROCESS: 'LXC kills only the calling thread (its "kill" is SCMP_ACT_KILL_THREAD)',
  SCMP_ACT_TRACE: 'LXC has no trace action',
  SCMP_ACT_LOG: 'LXC has no log action',
  SCMP_ACT_NOTIFY: 'LXC\'s notify talks to its own proxy (lxc.seccomp.notify.proxy), not to an OCI listenerPath',
};
const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);
/** The x86 ABIs LXC filters on an x86_64 host, whatever the profile lists. */
const X86_FAMILY = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
/**
 * Flags with no effect under LXC: TSYNC syncs the filter to other threads, and the process LXC
 * loads it in has one thread. Every other flag (LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV, NEW_LISTENER)
 * asks for something LXC cannot set and is refused.
 */
const HARMLESS_FLAGS = new Set(['SECCOMP_FILTER_FLAG_TSYNC']);

export interface LxcSeccomp {
  /** The policy file's text. */
  text: string;
  /** What is not honoured exactly (the caller lists it with the mapping's degradations). */
  degradations: { field: string; reason: string }[];
}

/** The LXC action text of an OCI action, or an error naming the field. */
function actionWord(action: string, errnoRet: number | undefined, field: string): string {
  const word = ACTIONS[action];
  if (word === undefined) {
    const why = REFUSED_ACTIONS[action];
    throw new InvalidArgumentError(`${field}: ${why ? `${action} cannot be applied on the lxc backend: ${why}` : `unknown seccomp action "${action}"`}; use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL(_THREAD) or SCMP_ACT_TRAP, or another backend`);
  }
  return word === 'errno' ? `errno ${errnoRet ?? EPERM}` : word;
}

function u64(v: unknown, field: string): string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`${field}: must be an unsigned integer, got ${JSON.stringify(v)}`);
  return BigInt(v).toString();
}

/** One LXC condition `[index,value,op,mask]` from an OCI arg. */
function condition(arg: Json, field: string): string {
  const op = String(arg.op);
  if (!OPS.has(op)) throw new InvalidArgumentError(`${field}.op: unknown comparison "${op}"; use one of ${[...OPS].join(', ')}`);
  const index = Number(arg.index);
  if (!Number.isInteger(index) || index < 0 || index > 5) throw new InvalidArgumentError(`${field}.index: a syscall has arguments 0 to 5, got ${JSON.stringify(arg.index)}`);
  const value = u64(arg.value, `${field}.value`);
  // OCI (as libseccomp and runc): for MASKED_EQ `value` is the mask and `valueTwo` the datum;
  // LXC's fourth field is the mask and its second the datum.
  if (op === 'SCMP_CMP_MASKED_EQ') return `[${index},${u64(arg.valueTwo ?? 0, `${field}.valueTwo`)},${op},${value}]`;
  return `[${index},${value},${op}]`;
}

/** The policy file for `linux.seccomp`; throws InvalidArgumentError for what LXC cannot express. */
export function mapSeccomp(seccomp: Json, hostArch: string = process.arch): LxcSeccomp {
  const degradations: LxcSeccomp['degradations'] = [];
  if (seccomp.listenerPath !== undefined && seccomp.listenerPath !== '') {
    throw new InvalidArgumentError('linux.seccomp.listenerPath: LXC cannot hand the seccomp notify fd to an OCI listener (its notify goes to lxc.seccomp.notify.proxy); use crun or runc for a seccomp agent');
  }
  if (seccomp.listenerMetadata !== undefined && seccomp.listenerMetadata !== '') {
    throw new InvalidArgumentError('linux.seccomp.listenerMetadata: LXC has no seccomp listener to give it to');
  }
  ((seccomp.flags as string[] | undefined) ?? []).forEach((flag, i) => {
    if (!HARMLESS_FLAGS.has(flag)) throw new InvalidArgumentError(`linux.seccomp.flags[${i}]: LXC cannot set ${flag} on the filter; remove it or use crun or runc`);
  });
  const arches = (seccomp.architectures as string[] | undefined) ?? [];
  if (hostArch === 'x64') {
    const missing = X86_FAMILY.filter((a) => !arches.includes(a));
    if (missing.length > 0) {
      degradations.push({ field: 'linux.seccomp.architectures', reason: `LXC filters every x86 ABI (x86_64, x86, x32) with the same rules; ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not listed, so calls in ${missing.length > 1 ? 'those ABIs' : 'that ABI'} meet the profile's rules instead of being killed` });
    }
  }
  // Other architectures (arm, ppc, ...) never occur on this host: listing them changes nothing.

  const defaultWord = actionWord(String(seccomp.defaultAction), seccomp.defaultErrnoRet as number | undefined, 'linux.seccomp.defaultAction');
  const lines = ['2', `${defaultWord === 'allow' ? 'denylist' : 'allowlist'} ${defaultWord}`, '[all]'];
  ((seccomp.syscalls as Json[] | undefined) ?? []).forEach((rule, i) => {
    const field = `linux.seccomp.syscalls[${i}]`;
    const word = actionWord(String(rule.action), rule.errnoRet as number | undefined, `${field}.action`);
    if (word === defaultWord) return; // libseccomp refuses it, and it changes nothing
    const args = ((rule.args as Json[] | undefined) ?? []).map((a, j) => ({ index: Number(a.index), text: condition(a, `${field}.args[${j}]`) }));
    if (args.length > 6) throw new InvalidArgumentError(`${field}.args: LXC takes at most 6 conditions per rule, got ${args.length}`);
    // As runc: conditions on distinct arguments are ANDed in one rule; two on the same argument
    // (which libseccomp cannot AND) become one rule each.
    const sameIndex = new Set(args.map((a) => a.index)).size < args.length;
    const groups = sameIndex ? args.map((a) => [a.text]) : [args.map((a) => a.text)];
    for (const name of rule.names as string[]) {
      if (!/^[a-z0-9_]+$/.test(name)) throw new InvalidArgumentError(`${field}.names: "${name}" is not a syscall name`);
      for (const g of groups) lines.push([name, word, ...g].join(' '));
    }
  });
  return { text: `${lines.join('\n')}\n`, degradations };
}
