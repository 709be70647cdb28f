// Sizes as people write them ("500M", "16G", "1234": bytes, binary units, an optional trailing
// B or iB) and as berth prints them. One parser for the command line and the config file.

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes, or undefined when `text` is not a size. */
export function sizeInBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The default cap on what one image may unpack to ([storage] max_image_size). */
export const DEFAULT_MAX_IMAGE_SIZE = 16 * 1024 ** 3;
