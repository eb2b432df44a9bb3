/** Entry dist/preview-early-python.mjs: src/preview/early.ts for Python (no node:crypto, unlike TypeScript's). */
import { startEarly } from './early.js';
import { wrapperCommand } from '../runner/executors/python.js';

export { discardEarly } from '../runner/executors/early.js';

export const start = (args: string[]): void => startEarly(args, ['python3'], wrapperCommand);
