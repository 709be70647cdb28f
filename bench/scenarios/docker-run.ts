// docker as berth's client: see bench/client-run.ts.
import { clientDescription, clientGoal, runClientScenario } from '../client-run.js';
import type { ScenarioResult } from '../scenario.js';

export const description = clientDescription('docker');
export const goal = clientGoal;
export const run = (): Promise<ScenarioResult> => runClientScenario('docker');
