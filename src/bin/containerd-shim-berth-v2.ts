// The shim's Node entry: what bin/containerd-shim-berth-v2 (a shell script that answers the
// usual start and delete itself) hands everything else to, and what the engine runs as.
import { runShim } from '../shim/main.js';

process.exitCode = await runShim(process.argv.slice(2));
