// Named points where a test makes berth die as a SIGKILL would: BERTH_TEST_CRASH_AT=<name>
// (test-only; never set it in production). A timed kill hits a step's window by luck; a named
// point hits it every time, so the crash tests can show each step's recovery exactly.
// Points: create:volume, image-import:unpacked, image-import:sealed, image-rm:marked,
// image-rm:destroyed, before-backend-create, after-backend-create, after-backend-start.
export const CRASH_ENV = 'BERTH_TEST_CRASH_AT';

/** SIGKILLs this process when $BERTH_TEST_CRASH_AT names `point`; otherwise does nothing. */
export function crashPoint(point: string): void {
  if (process.env[CRASH_ENV] === point) process.kill(process.pid, 'SIGKILL');
}
