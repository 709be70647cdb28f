// create → start → delete --force through berth --runtime runc, against runc called directly.
import { cycleDescription, cycleScenario } from '../cycle.js';
import type { ScenarioResult } from '../scenario.js';

export const description = cycleDescription('runc');

export function run(): Promise<ScenarioResult> {
  return cycleScenario('runc');
}
