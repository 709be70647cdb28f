// Shell completion and man pages, made from the verb table, tested with the real shells and man:
// bash's own completion machinery (the script sourced, _berth called as readline would), zsh's
// function with compadd/_files standing in for its completion system, fish's `complete -C`, and
// scripts/install.sh into a DESTDIR. Container ids and image refs come from a real root and cache.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BACKEND_NAMES } from '../../src/backends/registry.js';
import { GLOBAL_OPTIONS, VERBS } from '../../src/cli/verbs.js';
import { berth, berthOk } from '../helpers/berth.js';
import { makeBusyboxBundle, tempDir } from '../helpers/bundle.js';
import { missing } from '../helpers/host.js';
import { buildBusyboxOciArchive } from '../helpers/oci-image.js';
import { BERTH_BIN, REPO_ROOT } from '../helpers/paths.js';

const tmp = tempDir('berth-completion-');
const root = join(tmp.path, 'root');
const config = join(tmp.path, 'config.toml');
writeFileSync(config, `[storage]\ndriver = "dir"\ndir = "${join(tmp.path, 'storage')}"\nstate_dir = "${join(tmp.path, 'state')}"\n`);
// The scripts run `berth` as typed: a directory with it on PATH, and the test's config.
const env = { ...process.env, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH}`, BERTH_CONFIG: config };

function script(shell: string): string {
  const r = spawnSync(BERTH_BIN, ['completion', shell], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** bash: what _berth offers for the line as typed so far. */
function bashComplete(line: string): string[] {
  const file = join(tmp.path, 'berth.bash');
  writeFileSync(file, script('bash'));
  const prog = `source ${file}; COMP_LINE=$1; COMP_POINT=\${#1}; COMPREPLY=(); _berth; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', prog, 'bash', line], { env, encoding: 'utf8' }).split('\n').filter(Boolean);
}

function zshComplete(line: string): string[] {
  const file = join(tmp.path, '_berth');
  writeFileSync(file, script('zsh'));
  // compsys is interactive; its two entry points the script uses are stood in for.
  const prog = `compdef() { :; }; compadd() { while [[ $# -gt 0 && $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }; _files() { print -r -- "<files $*>"; }
source ${file}; words=(\${=1}); [[ $1 == *' ' ]] && words+=(''); CURRENT=\${#words}; _berth`;
  return execFileSync('zsh', ['-c', prog, 'zsh', line], { env, encoding: 'utf8' }).split('\n').filter(Boolean);
}

function fishComplete(line: string): string[] {
  const file = join(tmp.path, 'berth.fish');
  writeFileSync(file, script('fish'));
  return execFileSync('fish', ['-c', `source ${file}; complete -C "$argv[1]" | string split -f1 \\t; true` /* string split fails on no input: none is an answer too */, line], { env, encoding: 'utf8' }).split('\n').filter(Boolean);
}

const SHELLS: Array<[string, (line: string) => string[]]> = [
  ['bash', bashComplete],
  ['zsh', zshComplete],
  ['fish', fishComplete],
];

describe('shell completion', { skip: missing('crun', 'busybox', 'bash', 'zsh', 'fish') }, () => {
  before(async () => {
    await berthOk(root, ['create', '--bundle', makeBusyboxBundle(join(tmp.path, 'bundle'), { args: ['sleep', '300'] }), 'comp-box-1']);
    const archive = buildBusyboxOciArchive(join(tmp.path, 'image'));
    assert.equal((await berth(['--root', root, '--config', config, 'image', 'import', archive.file, '--name', 'comp/busybox:1'])).code, 0);
  });
  after(async () => {
    await berth(['--root', root, 'delete', '--force', 'comp-box-1']);
    tmp.remove();
  });

  for (const [shell, complete] of SHELLS) {
    test(`${shell}: verbs, options, subcommands, backends, container ids (from --root) and image refs`, () => {
      const has = (line: string, ...words: string[]) => {
        const got = complete(line);
        for (const w of words) assert.ok(got.includes(w), `${shell} "${line}" offers ${w}: got ${JSON.stringify(got)}`);
        return got;
      };
      // zsh's compadd gets every candidate and filters by itself; bash and fish filter by the prefix.
      const verbs = has('berth ', ...Object.keys(VERBS));
      assert.equal(verbs.length, Object.keys(VERBS).length, 'nothing but the verbs');
      if (shell !== 'zsh') assert.deepEqual(complete('berth snap'), ['snapshot']);
      has('berth create --', '--bundle', '--pid-file', '--root');
      has('berth --runtime ', ...BACKEND_NAMES);
      has('berth image ', 'pull', 'import', 'ls', 'inspect', 'rm', 'prune');
      has('berth --log-format ', 'text', 'json');
      has(`berth --root ${root} kill `, 'comp-box-1');
      has(`berth --root ${root} kill comp-box-1 `, 'KILL', 'TERM');
      has(`berth --root ${root} snapshot create `, 'comp-box-1');
      has('berth image inspect ', 'comp/busybox:1');
      has('berth help ', 'routing', 'exit-codes', 'create');
      // Another root: another set of containers (none).
      assert.deepEqual(complete(`berth --root ${join(tmp.path, 'other')} kill `), []);
    });
  }

  test('bash: values after = and refs with a colon are completed as readline inserts them', () => {
    assert.deepEqual(bashComplete('berth --log-format=j'), ['json']);
    assert.deepEqual(bashComplete('berth image rm comp/busybox:'), ['1']);
  });
});

describe('man pages and install', { skip: missing('man', 'bash') }, () => {
  test('scripts/install.sh into a DESTDIR: the commands, three completion scripts, a man page per verb that man renders', () => {
    const dest = tempDir('berth-install-');
    try {
      execFileSync('bash', [join(REPO_ROOT, 'scripts/install.sh')], { env: { ...process.env, DESTDIR: dest.path }, encoding: 'utf8' });
      const bin = readdirSync(join(dest.path, 'usr/local/bin'));
      assert.ok(bin.includes('berth'), bin.join(' '));
      assert.equal(readFileSync(join(dest.path, 'usr/share/bash-completion/completions/berth'), 'utf8'), script('bash'));
      assert.equal(readFileSync(join(dest.path, 'usr/local/share/zsh/site-functions/_berth'), 'utf8'), script('zsh'));
      assert.equal(readFileSync(join(dest.path, 'usr/share/fish/vendor_completions.d/berth.fish'), 'utf8'), script('fish'));
      const mandir = join(dest.path, 'usr/local/share/man/man1');
      assert.deepEqual(readdirSync(mandir).sort(), ['berth.1', ...Object.keys(VERBS).map((v) => `berth-${v}.1`)].sort());
      for (const [verb, spec] of Object.entries(VERBS)) {
        const r = spawnSync('man', ['--warnings', '-l', join(mandir, `berth-${verb}.1`)], { env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '0' }, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '', `man renders berth-${verb}.1 without warnings`);
        const text = r.stdout.replace(/.\x08/g, '');
        assert.match(text, new RegExp(`berth-${verb}\\s+- `), `berth-${verb}(1) NAME`);
        for (const o of Object.keys({ ...spec.options, ...GLOBAL_OPTIONS })) assert.ok(text.includes(`--${o}`), `berth-${verb}(1) documents --${o}`);
        for (const sub of Object.keys(spec.subcommands ?? {})) assert.ok(text.includes(sub), `berth-${verb}(1) documents ${sub}`);
      }
    } finally {
      dest.remove();
    }
  });
});
