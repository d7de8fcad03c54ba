import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, send } from '@commerce/common';

/** Where the sandbox asks for a development token (development only). */
export const SIGN_IN_PATH = '/sandbox/sign-in';

/** The sandbox's "sign in as" (development only: never configured in production). */
export interface SandboxSignIn {
  /** Mints a development token for `user` with `scopes` (HS256 with `JWT_SECRET`). */
  mint(user: string, scopes: readonly string[]): Promise<string>;
  /** The user the sandbox signs in as "admin" (with the `admin` and `products:write` scopes). */
  readonly adminUser: string;
}

const USER = /^usr_[A-Za-z0-9]{1,64}$/;
const SCOPE = /^[A-Za-z0-9:_.-]{1,64}$/;

/**
 * `GET /sandbox/sign-in?user=usr_…&scope=admin`: `{ "token": "<JWT>" }`, a
 * one-hour development token, as `npm run token` prints. Exists only when
 * the sandbox runs outside production with a development secret.
 */
export function createSignInRoute(signIn: SandboxSignIn) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const query = new URL(req.url ?? '/', 'http://sandbox').searchParams;
    const user = query.get('user') ?? '';
    const scopes = query
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    if (req.method !== 'GET' || !USER.test(user) || !scopes.every((s) => SCOPE.test(s))) {
      return send(res, 400, errorBody('BAD_REQUEST', 'GET /sandbox/sign-in?user=usr_…[&scope=admin]'));
    }
    res.setHeader('cache-control', 'no-store');
    send(res, 200, JSON.stringify({ token: await signIn.mint(user, scopes) }));
  };
}
