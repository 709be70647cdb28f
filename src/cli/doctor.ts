import { flag, formatOption, noOperands, openRuntime, printJson, type VerbContext } from './context.js';

/** Exit code: 0 healthy, 1 warnings, 2 failures. */
export default async function doctor(ctx: VerbContext): Promise<number> {
  noOperands(ctx);
  const format = formatOption(ctx);
  const { doctor: examine, DOCTOR_EXIT } = await import('../runtime/doctor.js');
  const report = await examine(await openRuntime(ctx), { repair: flag(ctx, 'repair') });
  if (format === 'json') {
    printJson(report);
    return DOCTOR_EXIT[report.status];
  }
  const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  let out = `cgroups: ${report.cgroup.mode} (${report.cgroup.detail})\n`;
  out += `libcrun: ${report.libcrun.path ? `${report.libcrun.path}, crun ${report.libcrun.version} (${report.libcrun.versionSource}), layout ${report.libcrun.layout}` : 'none usable'}\n`;
  for (const a of report.libcrun.attempts) out += `  ${a.strategy}: ${a.reason}\n`;
  out += `crun (auto): ${report.auto.backend ?? 'nothing usable'}\n\n`;
  for (const c of report.checks) out += `${mark[c.level]}  ${c.what}: ${c.message}\n`;
  out += `\n${report.status}\n`;
  process.stdout.write(out);
  return DOCTOR_EXIT[report.status];
}
