/**
 * Differential tests (issue 14), scenarios/entities.ts: every scenario answered by
 * the apollo and the compiled executor over one set of subgraphs must be the
 * same bytes, and must say what the scenario expects.
 */
import { entities } from './scenarios/entities';
import { differentialSuite } from './scenarios/harness';

differentialSuite(entities);
