import { mergeConfig } from 'vitest/config';
import { packageProject } from '../../vitest.shared.js';

// The tests run the built command (dist/bin.js) as a subprocess; the global setup builds it when absent.
export default mergeConfig(packageProject('cli'), { test: { globalSetup: ['test/build-once.ts'] } });
