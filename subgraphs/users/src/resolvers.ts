import { CommerceError, badUserInput, notFound } from '@commerce/common';
import {
  ADMIN_SCOPE,
  bucketForKey,
  forbidden,
  mayReadPrivate,
  requireScope,
  decodeId,
  encodeId,
  pageArgs,
  toConnection,
  userConsistencyKey,
  type SubgraphContext,
} from '@commerce/kit';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { USER_COLUMNS, type UserRow, type UsersLoaders } from './loaders';

type Context = SubgraphContext<UsersLoaders>;

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,63}$/;

function toUser(row: UserRow) {
  return { id: encodeId('User', row.id), email: row.email, name: row.name, createdAt: row.created_at.toISOString() };
}

async function loadUser(ctx: Context, key: bigint) {
  const row = await ctx.loaders.userById.load(key.toString());
  return row && toUser(row);
}

export const resolvers: GraphQLResolverMap<Context> = {
  Query: {
    me: (_: unknown, __: unknown, ctx: Context) =>
      ctx.principal.userKey === undefined ? null : loadUser(ctx, ctx.principal.userKey),
    async user(_: unknown, args: { id: string }, ctx: Context) {
      const user = await loadUser(ctx, decodeId('User', args.id));
      if (!user) throw notFound(`No user with id ${JSON.stringify(args.id)}`, { argumentName: 'id' });
      return user;
    },
    async users(_: unknown, args: { first?: number; after?: string }, ctx: Context) {
      requireScope(ctx.principal, ADMIN_SCOPE, 'Listing users');
      const page = pageArgs(args);
      const results = await ctx.db.readAll<UserRow>(
        ctx.principal.consistencyKey,
        `SELECT ${USER_COLUMNS} FROM users WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
        [page.after?.toString() ?? null, page.first + 1],
      );
      const rows = results.flatMap((r) => r.rows).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      return toConnection(rows, page.first, (r) => r.id, toUser);
    },
  },
  Mutation: {
    async createUser(_: unknown, args: { input: { email: string; name: string } }, ctx: Context) {
      const email = args.input.email.trim();
      const name = args.input.name.trim();
      if (!EMAIL.test(email))
        throw badUserInput(`email ${JSON.stringify(email.slice(0, 100))} is not a valid address`, {
          argumentName: 'input.email',
        });
      if (name.length < 1 || name.length > 200)
        throw badUserInput('name must be 1-200 characters', { argumentName: 'input.name' });
      const bucket = bucketForKey(email.toLowerCase());
      const shard = ctx.db.shardOfBucket(bucket);
      try {
        // The new user reads its own account next: record the write for it too.
        const consistencyKeys = (created: UserRow) => [ctx.principal.consistencyKey, userConsistencyKey(created.id)];
        const row = await ctx.db.transaction(shard, consistencyKeys, async (tx) => {
          const { rows } = await tx.query<UserRow>(
            `INSERT INTO users (id, email, name) VALUES (next_id($1), $2, $3) RETURNING ${USER_COLUMNS}`,
            [bucket, email, name],
          );
          return rows[0]!;
        });
        return toUser(row);
      } catch (error) {
        if ((error as { code?: string }).code === '23505')
          throw new CommerceError('BAD_USER_INPUT', `email ${JSON.stringify(email)} is already registered`, {
            extensions: { argumentName: 'input.email' },
          });
        throw error;
      }
    },
  },
  User: {
    // Private: the user themselves or the admin scope (the gateway already refused anonymous callers).
    email(user: ReturnType<typeof toUser>, _: unknown, ctx: Context) {
      if (!mayReadPrivate(ctx.principal, decodeId('User', user.id)))
        throw forbidden("Another user's email needs the admin scope");
      return user.email;
    },
    async __resolveReference(ref: { id: string }, ctx: Context) {
      return loadUser(ctx, decodeId('User', ref.id));
    },
  },
};
