// create → start → delete --force through berth --runtime crun, against crun called directly.
import { cycleDescription, cycleScenario } from '../cycle.js';
import type { ScenarioResult } from '../scenario.js';

export const description = cycleDescription('crun');

export function run(): Promise<ScenarioResult> {
  return cycleScenario('crun');
}
