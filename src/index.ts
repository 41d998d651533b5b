/** Library entry point: the same pipeline the CLI runs, for programs that call samebatch directly. */
export { build, type BuildEnv, type BuildResult } from './build.js';
export { plan, type PlanEnv } from './plan.js';
export type { PlanReport, PlanFile, PlanGroup, PlanTotals } from './core/report.js';
export { verify, type VerifyEnv, type VerifyResult } from './verify.js';
export type { Fingerprint } from './core/fingerprint.js';
export { resolveOptions, BUILD_OPTIONS, type BuildOptions } from './options.js';
export { SamebatchError, ERROR_CODES, type ErrorCode } from './errors.js';
export type * from './types.js';
