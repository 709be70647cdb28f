// Time in one place, so tests and logs agree on formats.
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** RFC 3339 with nanosecond-free precision, as runc prints `created`. */
export const nowIso = (): string => new Date().toISOString();
