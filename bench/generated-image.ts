// Generated image content for the image benchmarks: thousands of small files (half random, half
// text-like) in 60 directories and large random files of 12 MiB — a dozen make about 250 MB.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SMALL_FILES = 6000; // 2–32 KiB each, in 60 directories
export const LARGE_FILES = 12; // 12 MiB each

export function generateLargeTree(dir: string, seed: number, largeFiles = LARGE_FILES): void {
  for (let d = 0; d < 60; d++) mkdirSync(join(dir, `d${d}`), { recursive: true });
  const text = Buffer.from('lorem ipsum dolor sit amet consectetur adipiscing elit '.repeat(700));
  for (let i = 0; i < SMALL_FILES; i++) {
    const size = 2048 + ((i * 7919 + seed) % 30_720);
    writeFileSync(join(dir, `d${i % 60}`, `f${i}`), i % 2 ? randomBytes(size) : text.subarray(0, size));
  }
  for (let i = 0; i < largeFiles; i++) writeFileSync(join(dir, `large${i}`), randomBytes(12 * 1024 * 1024));
}
