/**
 * Differential tests (issue 14), scenarios/edge-cases.ts: every scenario answered by
 * the apollo and the compiled executor over one set of subgraphs must be the
 * same bytes, and must say what the scenario expects.
 */
import { edgeCases } from './scenarios/edge-cases';
import { differentialSuite } from './scenarios/harness';

differentialSuite(edgeCases);
