import type { IncomingMessage } from 'node:http';
import { principalFromRequest, type Principal } from './principal';

/** What every gateway request carries through Apollo Server to the data sources. */
export interface GatewayContext {
  principal: Principal;
}

export async function createContext(req: IncomingMessage): Promise<GatewayContext> {
  return { principal: principalFromRequest(req) };
}
