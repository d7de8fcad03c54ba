/**
 * Differential tests (issue 14), scenarios/failures.ts: every scenario answered by
 * the apollo and the compiled executor over one set of subgraphs must be the
 * same bytes, and must say what the scenario expects.
 */
import { failures } from './scenarios/failures';
import { differentialSuite } from './scenarios/harness';

differentialSuite(failures);
