// Sets up the Proxmox DOUBLE for a test: a state directory, `pct`/`pvesh`/`pvesm` wrappers to put
// first on PATH, and (on request) a TLS key and certificate made with openssl for the API double.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultState, PveModel, type DoubleState } from './model.js';

const CLI_MODULE = join(dirname(fileURLToPath(import.meta.url)), 'cli.js');

export interface PveDouble {
  root: string;
  stateDir: string;
  binDir: string;
  model: PveModel;
  /** PATH with the wrappers first, and PVE_DOUBLE_STATE. */
  env: NodeJS.ProcessEnv;
  /** Changes the double's state (faults, storages, tokens) between steps. */
  update(fn: (s: DoubleState) => void): void;
  cleanup(): void;
}

export function makePveDouble(tweak?: (s: DoubleState) => void): PveDouble {
  const root = mkdtempSync(join(tmpdir(), 'berth-pve-double-'));
  const stateDir = join(root, 'state');
  const binDir = join(root, 'bin');
  mkdirSync(stateDir);
  mkdirSync(binDir);
  const state = defaultState();
  tweak?.(state);
  const model = PveModel.init(stateDir, state);
  for (const tool of ['pct', 'pvesh', 'pvesm']) {
    const file = join(binDir, tool);
    writeFileSync(file, `#!/usr/bin/env node\nimport(${JSON.stringify(CLI_MODULE)}).then((m) => m.main(${JSON.stringify(tool)}, process.argv.slice(2)));\n`);
    chmodSync(file, 0o755);
  }
  return {
    root,
    stateDir,
    binDir,
    model,
    env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, PVE_DOUBLE_STATE: stateDir },
    update: (fn) => model.locked(fn),
    cleanup: () => {
      // Stop every "init" the double started, then remove its files.
      const s = model.load();
      for (const r of Object.values(s.running)) {
        for (const target of [-r.pid, r.pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface TestTls {
  key: string;
  cert: string;
  caFile: string;
  /** SHA-256 fingerprint as Proxmox shows it: colon-separated upper-case hex. */
  fingerprint: string;
}

/** A self-signed certificate for 127.0.0.1/localhost, made with openssl as an admin would. */
export function makeTls(dir: string, cn = 'pve-double'): TestTls {
  const key = join(dir, `${cn}.key`);
  const cert = join(dir, `${cn}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const pem = readFileSync(cert, 'utf8');
  const fp = new X509Certificate(pem).fingerprint256;
  return { key: readFileSync(key, 'utf8'), cert: pem, caFile: cert, fingerprint: fp };
}
