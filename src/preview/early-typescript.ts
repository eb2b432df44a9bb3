/** Entry dist/preview-early-typescript.mjs: src/preview/early.ts for TypeScript (bun flavour) run with Node + tsx. */
import { startEarly } from './early.js';
import { wrapperCommand } from '../runner/executors/typescript.js';

export { discardEarly } from '../runner/executors/early.js';

export const start = (args: string[]): void => startEarly(args, ['bun', 'nativets'], wrapperCommand);
