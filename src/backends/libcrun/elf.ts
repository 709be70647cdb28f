// Reads what berth needs to know about a shared library from its file, without loading it:
// loading libcrun runs its re-exec constructor (see docs/backends.md), so the berth process
// must decide whether a library is usable before anything dlopen()s it.
import { readFileSync } from 'node:fs';

export interface ElfInfo {
  /** Names of the dynamic symbols the library defines (exports). */
  exports: Set<string>;
  /** Every NUL-terminated printable string of the read-only data section. */
  rodataStrings(): string[];
}

const ET_DYN = 3;
const SHT_DYNSYM = 11;

/** Parses a 64-bit little-endian ELF shared object; throws an Error saying why it is not one. */
export function readElf(path: string): ElfInfo {
  const buf = readFileSync(path);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  if (buf.readUInt16LE(16) !== ET_DYN) throw new Error('not an ELF shared object');
  const shoff = Number(buf.readBigUInt64LE(40));
  const shentsize = buf.readUInt16LE(58);
  const shnum = buf.readUInt16LE(60);
  const shstrndx = buf.readUInt16LE(62);
  if (shoff === 0 || shoff + shnum * shentsize > buf.length) throw new Error('ELF section headers are missing or truncated');

  interface Section {
    name: number;
    type: number;
    offset: number;
    size: number;
    link: number;
  }
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      name: buf.readUInt32LE(o),
      type: buf.readUInt32LE(o + 4),
      offset: Number(buf.readBigUInt64LE(o + 24)),
      size: Number(buf.readBigUInt64LE(o + 32)),
      link: buf.readUInt32LE(o + 40),
    });
  }
  const cstr = (offset: number): string => {
    const end = buf.indexOf(0, offset);
    return buf.toString('latin1', offset, end < 0 ? buf.length : end);
  };
  const names = sections[shstrndx];
  const sectionName = (s: Section): string => (names ? cstr(names.offset + s.name) : '');

  const exports = new Set<string>();
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  if (!dynsym) throw new Error('ELF file has no dynamic symbol table');
  const strtab = sections[dynsym.link];
  if (!strtab) throw new Error('ELF dynamic symbol table has no string table');
  for (let o = dynsym.offset; o + 24 <= dynsym.offset + dynsym.size; o += 24) {
    const shndx = buf.readUInt16LE(o + 6);
    if (shndx === 0) continue; // undefined: imported, not exported
    exports.add(cstr(strtab.offset + buf.readUInt32LE(o)));
  }

  const rodata = sections.find((s) => sectionName(s) === '.rodata');
  return {
    exports,
    rodataStrings() {
      if (!rodata) return [];
      return buf
        .toString('latin1', rodata.offset, rodata.offset + rodata.size)
        .split('\0')
        .filter((s) => s.length > 0 && /^[\x20-\x7e]+$/.test(s));
    },
  };
}
