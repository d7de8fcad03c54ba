/**
 * Differential tests (issue 14), scenarios/abstract-types.ts: every scenario answered by
 * the apollo and the compiled executor over one set of subgraphs must be the
 * same bytes, and must say what the scenario expects.
 */
import { abstractTypes } from './scenarios/abstract-types';
import { differentialSuite } from './scenarios/harness';

differentialSuite(abstractTypes);
