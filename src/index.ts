/** Library entry point: the same pipeline the CLI runs, for programs that call samebatch directly. */
export { build, type BuildEnv, type BuildResult } from './build.js';
export { resolveOptions, BUILD_OPTIONS, type BuildOptions } from './options.js';
export { SamebatchError, ERROR_CODES, type ErrorCode } from './errors.js';
export type * from './types.js';
