/**
 * Differential tests (issue 14), scenarios/operations.ts: every scenario answered by
 * the apollo and the compiled executor over one set of subgraphs must be the
 * same bytes, and must say what the scenario expects.
 */
import { differentialSuite } from './scenarios/harness';
import { operations } from './scenarios/operations';

differentialSuite(operations);
