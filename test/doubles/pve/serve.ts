// Runs the Proxmox API DOUBLE on its own, to try the e2e suite or berth by hand without a
// Proxmox host: `node dist/test/doubles/pve/serve.js` prints the URL, the certificate's
// fingerprint and a token, and serves until killed.
import { randomUUID } from 'node:crypto';
import { startApiDouble } from './api-server.js';
import { makePveDouble, makeTls } from './install.js';

const secret = randomUUID();
const double = makePveDouble((s) => (s.tokens['berth@pve!dev'] = { secret, privileges: 'all' }));
const tls = makeTls(double.root);
const api = await startApiDouble(double.model, tls, Number(process.env.PORT ?? 0));
process.stdout.write(`${JSON.stringify({ url: api.url, fingerprint: tls.fingerprint, token: `berth@pve!dev=${secret}`, state: double.stateDir })}\n`);
const stop = async (): Promise<void> => {
  await api.close();
  double.cleanup();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
