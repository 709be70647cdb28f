// TEST-ONLY crash injection. With BERTH_TEST_CRASH_AT=<point>, berth SIGKILLs itself when it
// reaches the named point, so a test can crash it at an exact step (between a backend call and
// the record's write, say) instead of guessing a delay. Unset (always, outside tests) it costs
// one environment lookup. Points: after-backend-create, after-backend-start.
export type CrashPoint = 'after-backend-create' | 'after-backend-start';

export function crashPoint(point: CrashPoint): void {
  if (process.env.BERTH_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
